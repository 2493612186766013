from __future__ import annotations

import importlib

from argon2.low_level import Type


def test_production_password_hashing_is_argon2id_above_owasp_minimum() -> None:
    import havens.orgs.security as security_module

    fresh = importlib.reload(security_module)
    try:
        hasher = fresh.PASSWORD_HASHER
        assert hasher.type is Type.ID
        assert hasher.memory_cost >= 19 * 1024
        assert hasher.time_cost >= 2
        encoded = fresh.hash_password("a long enough password")
        assert encoded.startswith("$argon2id$")
        assert fresh.verify_password(encoded, "a long enough password")
        assert not fresh.verify_password(encoded, "another password")
        assert not fresh.verify_password(None, "anything")
    finally:
        # Restore the fast test hasher installed by conftest for the rest of the suite.
        from argon2 import PasswordHasher

        fresh.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1,
                                               type=Type.ID)
