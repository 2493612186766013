"""Ed25519 keys: generation, identifiers, signing and checking, and server-held demo keys.

A key id is the lowercase hex SHA-256 of the raw 32-byte public key; public keys travel as
base64 of those raw bytes. Organisations keep their private key on their own machine (PEM,
PKCS#8, made by ``havens agreements keygen``) and register only the public key.

Server-held keys (demo / low-security option): the web UI and the demo may keep an
organisation's private key on the server, encrypted with AES-256-GCM under a key derived
(HKDF-SHA256) from the instance's secret key. Whoever controls the server can then sign for that
organisation, which is why such keys, and every signature made with them, are flagged
``server_held``. No database import here: ``havens agreements verify`` uses this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyFormatError(ValueError):
    """A key or signature that cannot be read."""


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(key)).decode("ascii")


def key_id_of(public_key_b64: str) -> str:
    return hashlib.sha256(decode_public(public_key_b64)).hexdigest()


def decode_public(text: str) -> bytes:
    """Raw public key bytes from base64 raw bytes or a PEM ``PUBLIC KEY`` block."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            loaded = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise KeyFormatError("the PEM block is not a readable public key") from exc
        if not isinstance(loaded, Ed25519PublicKey):
            raise KeyFormatError("the public key is not an Ed25519 key")
        return raw_public(loaded)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("the public key is neither base64 nor PEM") from exc
    if len(raw) != 32:
        raise KeyFormatError(f"an Ed25519 public key has 32 bytes, this one has {len(raw)}")
    return raw


def normalise_public(text: str) -> str:
    """Any accepted public key text as base64 of the raw bytes."""
    return base64.b64encode(decode_public(text)).decode("ascii")


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"cannot read the private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("the private key is not an Ed25519 key")
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """The base64 Ed25519 signature of the message."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def is_valid(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """True when the signature is a valid Ed25519 signature of the message under the key."""
    try:
        public = Ed25519PublicKey.from_public_bytes(decode_public(public_key_b64))
        signature = base64.b64decode(signature_b64, validate=True)
        public.verify(signature, message)
    except (KeyFormatError, InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# --- server-held demo keys -------------------------------------------------------------------

_SEALED_PREFIX = "aesgcm1:"


def _wrapping_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"havens server-held agreement keys v1").derive(secret.encode("utf-8"))


def seal_private(key: Ed25519PrivateKey, *, secret: str, key_id: str) -> str:
    """The private key encrypted for storage; the key id is bound in as associated data."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(secret)).encrypt(nonce, raw, key_id.encode())
    return _SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def open_private(sealed: str, *, secret: str, key_id: str) -> Ed25519PrivateKey:
    if not sealed.startswith(_SEALED_PREFIX):
        raise KeyFormatError("unknown server-held key format")
    blob = base64.b64decode(sealed[len(_SEALED_PREFIX):])
    try:
        raw = AESGCM(_wrapping_key(secret)).decrypt(blob[:12], blob[12:], key_id.encode())
    except InvalidTag as exc:
        raise KeyFormatError("the server-held key cannot be decrypted with this secret") from exc
    return Ed25519PrivateKey.from_private_bytes(raw)
