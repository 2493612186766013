"""Test fixtures. Every test runs in a transaction that is rolled back at its end.

The database is SQLite (a temporary file) unless ``HAVENS_TEST_DATABASE_URL`` names another,
e.g. ``postgresql://postgres@127.0.0.1:5432/havens_test``; ``make test`` runs both passes.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from havens.config import Settings
from havens.database import make_engine, normalise_url
from havens.models import metadata
from havens.orgs import security
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrgKind, Role, User
from havens.orgs.permissions import Principal
from havens.orgs.schemas import OrganisationCreate, TokenCreate, UserCreate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery staple"

# Production hashing costs 64 MiB and ~0.1 s per password; the suite creates hundreds of users,
# so tests use a cheaper hasher (tests/orgs/test_security.py checks the real parameters).
security.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1,
                                          type=Type.ID)


def pytest_report_header() -> str:
    return f"havens database: {database_kind()}"


def database_kind() -> str:
    return "postgresql" if os.environ.get("HAVENS_TEST_DATABASE_URL", "").startswith(
        "postgres") else "sqlite"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in a temporary folder, or a fresh PostgreSQL database made for this run (so that
    several runs can share one server), dropped at the end."""
    url = os.environ.get("HAVENS_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'havens-test.db'}"
        return
    with _postgres_database(normalise_url(url), f"run_{os.getpid()}") as run_url:
        yield run_url


@contextmanager
def _postgres_database(base_url: str, suffix: str) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"{base.database}_{suffix}_{secrets.token_hex(3)}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        from havens.database import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key=secrets.token_urlsafe(32),
        field_keys=f"t1:{key}",
    )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def _session(connection: Connection) -> Session:
    # Commits inside the code under test release a SAVEPOINT; the test's outer transaction
    # is rolled back at the end, so every test starts from the same empty database.
    return Session(bind=connection, join_transaction_mode="create_savepoint",
                   expire_on_commit=False)


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = _session(connection)
    yield session
    session.close()


@pytest.fixture
def app(connection: Connection, settings: Settings) -> Any:
    from havens.main import create_app

    return create_app(settings, session_maker=lambda: _session(connection))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def system() -> Principal:
    return Principal.system()


@pytest.fixture
def make_org(db: Session, system: Principal) -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def make(acronym: str | None = None, kind: OrgKind = OrgKind.ngo, country: str = "SYR",
             name: str | None = None) -> Organisation:
        acronym = acronym or f"ORG{next(counter)}"
        return org_service.create_organisation(db, actor=system, data=OrganisationCreate(
            name=name or f"{acronym} organisation", acronym=acronym, kind=kind, country=country))

    return make


@pytest.fixture
def make_user(db: Session, system: Principal, make_org: Callable[..., Organisation]
              ) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.coordinator, org: Organisation | None = None,
             email: str | None = None, password: str = PASSWORD) -> User:
        org = org or make_org()
        email = email or f"{role.value}{next(counter)}@{org.acronym.lower()}.example.org"
        return org_service.create_user(db, actor=system, data=UserCreate(
            email=email, display_name=email.split("@")[0], organisation=org.acronym, role=role,
            password=password))

    return make


@pytest.fixture
def token_for(db: Session, system: Principal) -> Callable[[User], dict[str, str]]:
    """Authorization headers for a user (a fresh personal API token)."""

    def make(user: User) -> dict[str, str]:
        _row, token = org_service.create_token(db, actor=system, user_id=user.id,
                                               data=TokenCreate(name="test"))
        return {"Authorization": f"Bearer {token}"}

    return make


def principal(user: User) -> Principal:
    return org_service.principal_for(user)


@pytest.fixture
def cli_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind that commands may commit to for real."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    with _postgres_database(database_url, "cli") as url:
        yield url


@pytest.fixture
def cli_env(cli_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[str]:
    """Environment for running ``havens`` commands against ``cli_database_url``."""
    from havens.config import get_settings
    from havens.database import get_engine

    monkeypatch.setenv("HAVENS_DATABASE_URL", cli_database_url)
    monkeypatch.setenv("HAVENS_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    from havens.migrations.runner import upgrade

    upgrade("head", url=cli_database_url)
    yield cli_database_url
    get_settings.cache_clear()
    get_engine.cache_clear()
