"""Password hashing (argon2id), token generation and hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# Above OWASP's minimum for argon2id (m >= 19 MiB, t >= 2): 64 MiB, 3 passes (RFC 9106's
# second recommended profile).
PASSWORD_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2,
                                 hash_len=32, salt_len=16, type=Type.ID)

# A hash of a random password: verifying against it costs as much as against a real one,
# so a login for an unknown email takes as long as one for a known email.
_DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))

TOKEN_PREFIX = "hvn_"


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return PASSWORD_HASHER.check_needs_rehash(password_hash)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    # Tokens and session ids are 256-bit random values: a fast hash is enough to store them.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
