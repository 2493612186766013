"""Population reports in the audit chain: a record is linked at commit (so the chain's lock is
held for the commit only), is seen by any query of the log before that, goes away with a
rolled-back savepoint, and concurrent writers still build one unbroken chain."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.audit.models import AuditRecord
from havens.database import get_engine, session_factory, session_scope
from havens.orgs.permissions import Principal
from havens.zones import sites
from havens.zones.models import Site, SiteType
from havens.zones.schemas import PopulationCreate


def _site(db: Session, code: str = "CP700001") -> Site:
    site = Site(code=code, name_en="Camp", site_type=SiteType.planned_camp, lon=36.7, lat=36.2)
    db.add(site)
    db.flush()
    return site


def _report(day: int, women: int = 10) -> PopulationCreate:
    return PopulationCreate.model_validate({
        "reported_on": dt.date(2026, 1, 1) + dt.timedelta(days=day), "girls": 1, "boys": 2,
        "women": women, "men": 3}, strict=False)


def _population_records(db: Session) -> list[AuditRecord]:
    return list(db.scalars(select(AuditRecord).where(AuditRecord.action == "site.population")
                           .order_by(AuditRecord.seq)))


def test_the_record_is_linked_when_the_log_is_read(db: Session, system: Principal) -> None:
    site = _site(db)
    before = audit.count(db)
    sites.record_population(db, actor=system, site_id=site.id, data=_report(0))
    sites.record_population(db, actor=system, site_id=site.id, data=_report(1))
    found = _population_records(db)  # linked before this query runs
    assert [r.detail["reported_on"] for r in found] == ["2026-01-01", "2026-01-02"]
    assert [r.seq for r in found] == [before + 1, before + 2]
    assert found[1].prev_hash == found[0].hash
    db.expire_all()
    assert audit.verify(db).ok


def test_a_rolled_back_savepoint_takes_its_record_with_it(db: Session,
                                                          system: Principal) -> None:
    site = _site(db)
    sites.record_population(db, actor=system, site_id=site.id, data=_report(0))
    with pytest.raises(RuntimeError), db.begin_nested():
        sites.record_population(db, actor=system, site_id=site.id, data=_report(1))
        raise RuntimeError("the rest of the work failed")
    sites.record_population(db, actor=system, site_id=site.id, data=_report(2))
    assert [r.detail["reported_on"] for r in _population_records(db)] == [
        "2026-01-01", "2026-01-03"]
    db.expire_all()
    assert audit.verify(db).ok


def test_a_rolled_back_transaction_leaves_nothing_to_link_later(cli_env: str) -> None:
    system = Principal.system()
    with session_scope(cli_env) as db:
        site_id = _site(db).id
    maker = session_factory(get_engine(cli_env))
    with maker() as db:
        sites.record_population(db, actor=system, site_id=site_id, data=_report(0))
        db.rollback()
        db.commit()  # the same session, a new transaction: nothing of the old one
    with maker() as db:
        assert _population_records(db) == []


def test_concurrent_writers_build_one_chain(cli_env: str) -> None:
    """Eight writers at once (PostgreSQL; SQLite has one writer at a time anyway)."""
    if not cli_env.startswith("postgresql"):
        pytest.skip("concurrent writers need PostgreSQL")
    system = Principal.system()
    with session_scope(cli_env) as db:
        ids = [_site(db, f"CP70000{n}").id for n in range(8)]
        start = audit.count(db)
    maker = session_factory(get_engine(cli_env))
    errors: list[BaseException] = []

    def write(site_id: int) -> None:
        try:
            for day in range(5):
                with maker() as db:
                    sites.record_population(db, actor=system, site_id=site_id,
                                            data=_report(day))
                    db.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(site_id,)) for site_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with maker() as db:
        assert audit.count(db) == start + 40
        seqs = list(db.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
        assert seqs == list(range(1, len(seqs) + 1))
        assert db.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "site.population")) == 40
        assert audit.verify(db).ok
