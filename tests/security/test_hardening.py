"""Hardening: rate limits on expensive operations, upload type checks, no personal data in
logs."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from havens.exceptions import RateLimited, ValidationFailed
from havens.orgs.models import User
from havens.orgs.permissions import Principal
from havens.orgs.ratelimit import IMPORTS, RateLimiter
from havens.orgs.uploads import check_upload
from havens.people.generator import Generator, to_csv
from tests.people.conftest import World, household_payload


def test_rate_limiter_counts_per_user_in_a_sliding_window() -> None:
    now = [0.0]
    limiter = RateLimiter(limit=2, window=60, clock=lambda: now[0])
    alice = Principal(user_id=1, organisation_id=1, role=Principal.system().role)
    bob = Principal(user_id=2, organisation_id=1, role=alice.role)
    limiter.check(alice, "import")
    limiter.check(alice, "import")
    with pytest.raises(RateLimited, match="Try again in 60 s"):
        limiter.check(alice, "import")
    limiter.check(bob, "import")  # per user
    limiter.check(alice, "export")  # per operation
    now[0] = 60.5
    limiter.check(alice, "import")  # the window slid


def test_import_endpoint_is_rate_limited(client: TestClient, world: World,
                                         token_for: Callable[[User], dict[str, str]]) -> None:
    headers = token_for(world.registrar)
    IMPORTS.reset()
    try:
        for _ in range(IMPORTS.limit):
            response = client.post("/api/v1/imports", headers=headers,
                                   files={"file": ("x.csv", b"\x00binary", "text/csv")})
            assert response.status_code == 422
        refused = client.post("/api/v1/imports", headers=headers,
                              files={"file": ("x.csv", b"a,b\n", "text/csv")})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
    finally:
        IMPORTS.reset()


def _xlsx() -> bytes:
    out = io.BytesIO()
    book = Workbook()
    book.active.append(["a", "b"])
    book.save(out)
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("list.csv", "الاسم,phone\nمحمد,1\n".encode(), "csv"),
    ("list.CSV", b"\xef\xbb\xbfname\n", "csv"),
    ("list.xlsx", _xlsx(), "xlsx"),
])
def test_uploads_whose_content_matches_their_name(name: str, data: bytes, kind: str) -> None:
    assert check_upload(name, data) == kind


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("list.xlsx", b"name,phone\n", "not an Excel workbook"),
    ("list.xlsx", _zip(), "ZIP file, not an Excel"),
    ("list.xlsx", b"PK\x03\x04broken", "damaged"),
    ("list.csv", _xlsx(), "ZIP or Excel"),
    ("list.csv", b"%PDF-1.7", "PDF"),
    ("list.csv", "name\n".encode("utf-16"), "not a text file"),
    ("list.exe", b"MZ", "Upload a"),
    ("list.csv", b"", "empty"),
])
def test_uploads_that_lie_about_their_type(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        check_upload(name, data)
    with pytest.raises(ValidationFailed, match="larger than"):
        check_upload("a.csv", b"x" * 2_000_001, max_bytes=2_000_000)


def test_no_personal_data_in_logs(client: TestClient, world: World,
                                  token_for: Callable[[User], dict[str, str]],
                                  caplog: pytest.LogCaptureFixture) -> None:
    """Registration, import and a failed registration, with every application logger at
    DEBUG: no name, phone or document number reaches the logs."""
    headers = token_for(world.registrar)
    rows = list(Generator(seed=7, ref_prefix="LOG").rows(6, site_codes=[world.sites[0].code]))
    secrets = {r[k] for r in rows for k in ("given_name_en", "family_name_en", "given_name_ar",
                                            "phone", "document_number") if r.get(k)}
    secrets |= {"Mohammad", "Al-Hassan", "مُحَمَّد", "944 123 456", "944123456", "0123-4567-89"}
    loggers = ["", "havens", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi",
               "sqlalchemy.engine"]
    before = {name: logging.getLogger(name).level for name in loggers}
    with caplog.at_level(logging.DEBUG):
        for name in loggers:
            logging.getLogger(name).setLevel(logging.DEBUG)
        try:
            _log_everything(client, headers, world, rows)
        finally:  # the rest of the suite runs with the loggers as they were
            for name, level in before.items():
                logging.getLogger(name).setLevel(level)
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    leaked = sorted(s for s in secrets if s and s in text)
    assert leaked == []


def _log_everything(client: TestClient, headers: dict[str, str], world: World,
                    rows: list[dict[str, str]]) -> None:
    registered = client.post("/api/v1/households", headers=headers,
                             json=household_payload(world.sites[0]))
    assert registered.status_code == 201
    bad = household_payload(world.sites[0], household_ref="LOG-BAD")
    bad["members"][0]["date_of_birth"] = "2999-01-01"
    assert client.post("/api/v1/households", headers=headers, json=bad).status_code == 422
    imported = client.post("/api/v1/imports", headers=headers,
                           files={"file": ("people.csv", to_csv(rows), "text/csv")})
    assert imported.status_code == 200 and imported.json()["written"], imported.text


def test_sql_logging_never_shows_bound_values(database_url: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import text

    from havens.database import make_engine

    engine = make_engine(database_url)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), engine.connect() as conn:
            conn.execute(text("SELECT :name"), {"name": "Fatima Al-Ali"})
    finally:
        engine.dispose()
    assert "Fatima" not in caplog.text
