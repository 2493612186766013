"""Every decision is a label; labels export and import as comparison vectors without names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.exceptions import ValidationFailed
from havens.linkage import labels, service
from havens.linkage.models import CandidatePair, LinkageLabel
from havens.orgs.permissions import Principal
from havens.people.models import Individual
from tests.linkage.conftest import Registry, share


def _queue(db: Session, registry: Registry, system: Principal) -> list[CandidatePair]:
    share(db, registry.sarc, registry.unhcr)
    service.run(db, actor=system)
    return list(db.scalars(select(CandidatePair).order_by(CandidatePair.id)))


def test_confirm_and_reject_are_stored_as_labels(db: Session, registry: Registry,
                                                 system: Principal) -> None:
    pairs = _queue(db, registry, system)
    assert len(pairs) >= 2
    reviewer = registry.p(registry.reviewer)
    merge = service.confirm(db, actor=reviewer, pair_id=pairs[0].id)
    service.reject(db, actor=reviewer, pair_id=pairs[1].id)
    found = list(db.scalars(select(LinkageLabel).order_by(LinkageLabel.id)))
    assert [(lb.pair_id, lb.is_match) for lb in found] == [(pairs[0].id, True),
                                                           (pairs[1].id, False)]
    first = found[0]
    assert first.reviewer_id == registry.reviewer.id
    assert first.organisation_id == registry.unhcr.id
    assert first.model_version == pairs[0].model_version
    assert first.probability == pytest.approx(pairs[0].match_probability)
    assert first.decided_at is not None
    assert set(labels.LEVELS) <= set(first.features)
    assert first.features["given"] == pairs[0].levels["given"]
    assert first.features["tf_given"] is not None
    assert isinstance(first.features["fs_weight"], float)  # the unsupervised model's weight
    assert labels.counts(db) == (1, 1)
    # Undoing the merge withdraws its label; deciding again writes a new one.
    service.unmerge(db, actor=reviewer, merge_id=merge.id)
    assert labels.counts(db) == (0, 1)
    service.reject(db, actor=reviewer, pair_id=pairs[0].id)
    assert labels.counts(db) == (0, 2)
    assert db.scalar(select(LinkageLabel.superseded).where(
        LinkageLabel.pair_id == pairs[0].id, LinkageLabel.is_match.is_(True))) is True


def test_export_holds_no_personal_data_and_imports_back(db: Session, registry: Registry,
                                                        system: Principal,
                                                        tmp_path: Path) -> None:
    pairs = _queue(db, registry, system)
    reviewer = registry.p(registry.reviewer)
    service.confirm(db, actor=reviewer, pair_id=pairs[0].id)
    service.reject(db, actor=reviewer, pair_id=pairs[1].id)
    out = tmp_path / "labels.csv"
    assert labels.export_csv(db, actor=reviewer, path=out) == 2
    text = out.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == labels.COLUMNS
    assert [r[labels.COLUMNS.index("decision")] for r in rows[1:]] == ["match", "non-match"]
    # No name, no id of a person or pair, no reviewer in the file.
    people = db.scalars(select(Individual).where(Individual.id.in_(
        [pairs[0].individual_l_id, pairs[0].individual_r_id])))
    for person in people:
        for name in (person.given_name_ar, person.family_name_ar, person.given_name_en,
                     person.family_name_en):
            if name:
                assert name not in text
    assert registry.reviewer.email not in text
    assert "individual" not in text and "pair" not in text
    assert labels.import_csv(db, actor=reviewer, path=out) == 2
    assert labels.counts(db) == (2, 2)
    imported = db.scalars(select(LinkageLabel).where(LinkageLabel.source == "import")).all()
    assert len(imported) == 2 and all(lb.pair_id is None for lb in imported)


def test_import_names_rows_and_columns_in_errors(db: Session, system: Principal,
                                                 tmp_path: Path) -> None:
    good = {f"{f}_level": "0" for f in labels.LEVELS} | {"tf_given": "0.01", "tf_lineage": "",
                                                         "decision": "non-match"}
    bad_level = good | {"dob_level": "9"}
    bad_decision = good | {"decision": "maybe"}
    bad_tf = good | {"tf_given": "2"}
    path = tmp_path / "in.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(good))
        writer.writeheader()
        writer.writerows([good, bad_level, bad_decision, bad_tf])
    with pytest.raises(ValidationFailed) as err:
        labels.import_csv(db, actor=system, path=path)
    message = err.value.message
    assert "row 3, column dob_level: '9'" in message
    assert "row 4, column decision: 'maybe'" in message
    assert "row 5, column tf_given" in message
    assert db.scalar(select(LinkageLabel.id)) is None  # all or nothing
    # A file with names in it is refused, and a missing column is named.
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*good, "given_name"])
        writer.writeheader()
        writer.writerow(good | {"given_name": "Ahmad"})
    with pytest.raises(ValidationFailed, match=r"unknown column.*given_name"):
        labels.import_csv(db, actor=system, path=path)
    path.write_text("given_level,decision\n3,match\n")
    with pytest.raises(ValidationFailed, match=r"missing column.*lineage_level"):
        labels.import_csv(db, actor=system, path=path)
