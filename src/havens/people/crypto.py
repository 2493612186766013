"""Encryption at rest of the most sensitive personal fields (phone, identity document number).

Values are encrypted with AES-256-GCM under the newest key of ``Settings.resolved_field_keys()``
and stored as ``<key id>$<base64(nonce || ciphertext || tag)>``: the key id lets old values be
read after a new key is added, and ``havens people rotate-keys`` re-encrypts everything under the
newest one. The field name is bound as associated data, so a value cannot be moved to another
column unnoticed.

Encrypted values can only be found by exact match, through a keyed hash (HMAC-SHA256 under a key
derived from each field key with HKDF) of the normalised value, stored in its own column as
``<key id>:<hex>``. A search computes the hash under every configured key, so it keeps working
while a rotation is pending.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from havens.config import Settings
from havens.exceptions import HavensError

_NONCE_BYTES = 12
_NON_DIGITS = re.compile(r"[^\d]")
_NON_ALNUM = re.compile(r"[^0-9A-Z]")


class DecryptionFailed(HavensError):
    status_code = 500
    code = "decryption_failed"


def normalise_phone(value: str) -> str:
    """Digits only (Arabic-Indic digits read as ASCII), with a leading + kept; 00 means +."""
    text = value.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)
    plus = text.startswith("+")
    digits = _NON_DIGITS.sub("", text)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    return f"+{digits}" if plus else digits


def normalise_document(value: str) -> str:
    """Upper case letters and digits only: spaces and dashes are typing noise."""
    if value.isascii():  # NFKC and the digit folding leave ASCII as it is
        return _NON_ALNUM.sub("", value.upper())
    text = unicodedata.normalize("NFKC", value).upper()
    text = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)
    return _NON_ALNUM.sub("", text)


@dataclass
class FieldCipher:
    """Encrypts, decrypts and hashes personal fields with the configured keys."""

    keys: list[tuple[str, bytes]]
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _hashers: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("at least one field key is needed")
        for key_id, key in self.keys:
            if "$" in key_id or ":" in key_id:
                raise ValueError(f"field key id {key_id!r} may not contain '$' or ':'")
            self._aead[key_id] = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        return cls(settings.resolved_field_keys())

    @property
    def current_key_id(self) -> str:
        return self.keys[0][0]

    def encrypt(self, value: str, *, field_name: str) -> str:
        key_id = self.current_key_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead[key_id].encrypt(nonce, value.encode("utf-8"), field_name.encode())
        return f"{key_id}${base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, *, field_name: str) -> str:
        key_id, sep, payload = stored.partition("$")
        aead = self._aead.get(key_id)
        if not sep or aead is None:
            raise DecryptionFailed(
                f"A {field_name} value is encrypted with key {key_id!r}, which is not configured "
                "(HAVENS_FIELD_KEYS).")
        raw = base64.b64decode(payload)
        try:
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], field_name.encode())
        except InvalidTag as exc:
            raise DecryptionFailed(f"A {field_name} value failed its integrity check.") from exc
        return plain.decode("utf-8")

    def key_id_of(self, stored: str) -> str:
        return stored.partition("$")[0]

    def _hasher(self, key_id: str, field_name: str) -> Any:
        """A keyed HMAC, ready to copy, under a key derived from the field key (HKDF)."""
        hasher = self._hashers.get((key_id, field_name))
        if hasher is None:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                           info=f"havens blind index {field_name}".encode()).derive(
                               dict(self.keys)[key_id])
            hasher = self._hashers[(key_id, field_name)] = hmac.new(derived,
                                                                    digestmod=hashlib.sha256)
        return hasher

    def blind_index(self, normalised: str, *, field_name: str, key_id: str | None = None) -> str:
        """Keyed hash of an already normalised value, under the newest (or the named) key."""
        key_id = key_id or self.current_key_id
        mac = self._hasher(key_id, field_name).copy()
        mac.update(normalised.encode("utf-8"))
        return f"{key_id}:{mac.hexdigest()}"

    def encrypt_many(self, values: Sequence[str], *, field_name: str) -> list[str]:
        """``encrypt`` of many values (one call for the random nonces of a whole import)."""
        key_id = self.current_key_id
        seal = self._aead[key_id].encrypt
        associated = field_name.encode()
        nonces = os.urandom(_NONCE_BYTES * len(values))
        prefix = f"{key_id}$"
        b64 = binascii.b2a_base64
        out = []
        for index, value in enumerate(values):
            nonce = nonces[index * _NONCE_BYTES:(index + 1) * _NONCE_BYTES]
            sealed = seal(nonce, value.encode("utf-8"), associated)
            out.append(prefix + b64(nonce + sealed, newline=False).decode("ascii"))
        return out

    def blind_index_many(self, values: Sequence[str], *, field_name: str) -> list[str]:
        """``blind_index`` of many normalised values under the newest key."""
        key_id = self.current_key_id
        hasher = self._hasher(key_id, field_name)
        base = getattr(hasher, "_hmac", None) or hasher  # OpenSSL's HMAC copies in C
        prefix = f"{key_id}:"
        out = []
        for value in values:
            mac = base.copy()
            mac.update(value.encode("utf-8"))
            out.append(prefix + mac.hexdigest())
        return out

    def blind_indexes(self, normalised: str, *, field_name: str) -> list[str]:
        """The value's keyed hash under every configured key (what a search looks for)."""
        return [self.blind_index(normalised, field_name=field_name, key_id=key_id)
                for key_id, _key in self.keys]


def cipher_for(settings: Settings | None = None) -> FieldCipher:
    """The cipher of the given (or the process's) settings."""
    from havens.config import get_settings

    return FieldCipher.from_settings(settings or get_settings())
