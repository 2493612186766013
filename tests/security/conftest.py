"""Fixtures of the security tests: the people world (a zone, two sites, organisations) and a
committed database for commands."""

from __future__ import annotations

from tests.people.conftest import RealDatabase, World, cipher, real_db, world

__all__ = ["RealDatabase", "World", "cipher", "real_db", "world"]
