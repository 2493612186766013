"""`havens linkage review` driven by scripted keys; labels export and models from the CLI."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from havens.cli.main import app
from havens.database import get_engine, session_scope
from havens.linkage.models import CandidatePair, Decision, LinkageLabel
from havens.models import metadata
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrgKind, Role
from havens.orgs.permissions import Principal
from havens.orgs.schemas import UserCreate
from havens.people.generator import Generator
from tests.conftest import PASSWORD
from tests.linkage.conftest import write
from tests.people.conftest import add_areas, add_zone

EMAIL = "reviewer@unhcr.example.org"


def _registry(url: str) -> None:
    # The schema from the models (the migration of the linkage tables comes at integration).
    metadata.drop_all(get_engine(url))
    metadata.create_all(get_engine(url))
    with session_scope(url) as db:
        add_areas(db)
        _zone, site_list = add_zone(db, "Z-REV")
        sites = {s.code: s for s in site_list}
        org = Organisation(name="UNHCR", acronym="UNHCR", kind=OrgKind.un_agency, country="SYR")
        db.add(org)
        db.flush()
        stream = Generator(seed=8, origins=["SY070001"], today=dt.date(2026, 6, 1),
                           ref_prefix="REV").households(site_codes=list(sites))
        households = [next(stream) for _ in range(10)]
        write(db, org, sites, households)
        write(db, org, sites, households[:2], variant=1, suffix="-B")
        org_service.create_user(db, actor=Principal.system(), data=UserCreate(
            email=EMAIL, display_name="Reviewer", organisation="UNHCR", role=Role.registrar,
            password=PASSWORD))


def _decisions(url: str) -> dict[int, Decision]:
    with session_scope(url) as db:
        return {int(a): Decision(b) for a, b in
                db.execute(select(CandidatePair.id, CandidatePair.decision))}


def test_review_keys_record_decisions(cli_env: str, tmp_path: Path) -> None:
    _registry(cli_env)
    runner = CliRunner()
    assert runner.invoke(app, ["linkage", "run"]).exit_code == 0
    before = _decisions(cli_env)
    assert len(before) >= 3
    # confirm, reject, skip, an unknown key, then quit.
    result = runner.invoke(app, ["linkage", "review", "--as", EMAIL], input="c\nr\ns\nx\nq\n")
    assert result.exit_code == 0, result.output
    assert f"of {len(before)}" in result.output and "unsupervised model" in result.output
    assert "father's name" in result.output and "Unknown key 'x'" in result.output
    after = _decisions(cli_env)
    decided = sorted(d.value for d in after.values() if d != Decision.pending)
    assert "confirmed" in decided and "rejected" in decided
    with session_scope(cli_env) as db:
        found = list(db.scalars(select(LinkageLabel).order_by(LinkageLabel.id)))
        user = org_service.get_user_by_email(db, email=EMAIL)
        assert user is not None
        assert [lb.is_match for lb in found] == [True, False]
        assert all(lb.reviewer_id == user.id for lb in found)
        rejected = found[1].pair_id
    # Back: the next session rejects a pair, goes back, and confirms it instead.
    result = runner.invoke(app, ["linkage", "review", "--as", EMAIL, "--order", "probability"],
                           input="r\nb\nc\nq\n")
    assert result.exit_code == 0, result.output
    assert "Decision undone" in result.output
    with session_scope(cli_env) as db:
        labels = list(db.scalars(select(LinkageLabel).where(
            LinkageLabel.superseded.is_(False)).order_by(LinkageLabel.id)))
        assert [lb.is_match for lb in labels] == [True, False, True]
        assert labels[1].pair_id == rejected
        changed = db.get(CandidatePair, labels[2].pair_id)
        assert changed is not None and changed.decision == Decision.confirmed
    # The labels leave as comparison vectors only.
    out = tmp_path / "labels.csv"
    exported = runner.invoke(app, ["linkage", "labels", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["decision"] for r in rows] == ["match", "non-match", "match"]
    imported = runner.invoke(app, ["linkage", "labels", "import", str(out)])
    assert imported.exit_code == 0 and "6 matches" not in imported.output
    assert "4 matches and 2 non-matches" in imported.output
    # Too few labels to learn: the CLI says so, and the unsupervised model stays in use.
    train = runner.invoke(app, ["linkage", "models", "train"])
    assert train.exit_code == 2 and "at least 38" in train.output
    listed = runner.invoke(app, ["linkage", "models", "list"])
    assert listed.exit_code == 0 and "unsupervised" in listed.output
    missing = runner.invoke(app, ["linkage", "models", "rollback", "3"])
    assert missing.exit_code == 2 and "version 3" in missing.output
