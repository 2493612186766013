"""Reviewers' decisions as labelled comparison vectors, and their CSV export/import.

Every confirm and reject writes a :class:`LinkageLabel` (``record``); undoing a decision marks
the pair's labels superseded (``withdraw``). The CSV has one row per label with the comparison
level of every field (``<field>_level``, -1 = missing), the frequency of the agreed given name and
lineage (``tf_given``, ``tf_lineage``; empty when unknown), the ``decision`` (``match`` or
``non-match``) and the model version the reviewer saw — no names, no ids of people or pairs, no
reviewer — so organisations can pool training data without sharing personal data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import ValidationFailed
from havens.linkage.features import COMPARISONS, PART_FIELDS
from havens.linkage.models import CandidatePair, LinkageLabel
from havens.orgs.permissions import Principal, require

#: Fields with their highest level: the model's comparisons, then the name parts.
LEVELS: dict[str, int] = {c.name: len(c.levels) - 1 for c in COMPARISONS}
LEVELS.update({p: 3 for p in PART_FIELDS})
TF_FIELDS = ("tf_given", "tf_lineage")
#: The unsupervised model's match weight (log2 odds) when the pair was scored; optional.
FS_WEIGHT = "fs_weight"
COLUMNS = ([f"{f}_level" for f in LEVELS] + list(TF_FIELDS)
           + [FS_WEIGHT, "decision", "model_version"])
_OPTIONAL = (FS_WEIGHT, "model_version")
DECISIONS = {"match": True, "non-match": False}


def record(db: Session, *, actor: Principal, pair: CandidatePair, is_match: bool) -> LinkageLabel:
    """Store the decision on ``pair`` as a label (earlier labels of the pair are superseded)."""
    withdraw(db, pair_id=pair.id)
    label = LinkageLabel(
        pair_id=pair.id, is_match=is_match, features=vector(pair.levels, pair.features),
        probability=pair.match_probability, model_version=pair.model_version, source="review",
        organisation_id=actor.organisation_id, reviewer_id=actor.user_id)
    db.add(label)
    db.flush()
    return label


def withdraw(db: Session, *, pair_id: int) -> None:
    """The decision on the pair was undone: its labels no longer teach anything."""
    db.execute(update(LinkageLabel).where(LinkageLabel.pair_id == pair_id,
                                          LinkageLabel.superseded.is_(False))
               .values(superseded=True))


def vector(levels: dict[str, Any], features: dict[str, Any] | None = None) -> dict[str, Any]:
    """The comparison vector of a pair: every level (-1 when absent) and the two frequencies."""
    features = features or {}
    out: dict[str, Any] = {f: int(levels.get(f, features.get(f, -1))) for f in LEVELS}
    for tf in (*TF_FIELDS, FS_WEIGHT):
        value = features.get(tf)
        out[tf] = None if value is None else float(value)
    return out


@dataclass(frozen=True, slots=True)
class Example:
    """One training example: the comparison vector, the answer and the model's probability."""

    features: dict[str, Any]
    is_match: bool
    probability: float | None = None


def examples(db: Session) -> list[Example]:
    """All current (not superseded) labels, oldest first."""
    found = db.scalars(select(LinkageLabel).where(LinkageLabel.superseded.is_(False))
                       .order_by(LinkageLabel.id))
    return [Example(lb.features, lb.is_match, lb.probability) for lb in found]


def counts(db: Session) -> tuple[int, int]:
    """(matches, non-matches) among the current labels."""
    ex = examples(db)
    matches = sum(e.is_match for e in ex)
    return matches, len(ex) - matches


def _tf(value: Any) -> str:
    return "" if value is None else f"{float(value):.6g}"


def export_csv(db: Session, *, actor: Principal, path: Path) -> int:
    """Write the current labels as comparison vectors and decisions; returns the row count."""
    require(actor, "linkage.review")
    found = list(db.scalars(select(LinkageLabel).where(LinkageLabel.superseded.is_(False))
                            .order_by(LinkageLabel.id)))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for lb in found:
            v = vector(lb.features, lb.features)
            writer.writerow([v[f] for f in LEVELS] + [_tf(v[t]) for t in TF_FIELDS]
                            + [_tf(v[FS_WEIGHT]), "match" if lb.is_match else "non-match",
                               lb.model_version])
    audit.record(db, actor=actor, action="linkage.labels_export", object_type="linkage_labels",
                 object_id=None, detail={"rows": len(found)})
    return len(found)


def parse_csv(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a labels CSV as (vectors with ``is_match`` and ``model_version``, errors)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header and c not in _OPTIONAL]
    if missing:
        return [], [f"missing column(s): {', '.join(missing)}"]
    unknown = [h for h in header if h not in COLUMNS]
    errors = [f"unknown column(s): {', '.join(unknown)} (names or ids of people are not "
              "accepted)"] if unknown else []
    out: list[dict[str, Any]] = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        vec: dict[str, Any] = {}
        for f, top in LEVELS.items():
            value = row.get(f"{f}_level", "")
            try:
                level = int(value)
            except ValueError:
                level = -99
            if not -1 <= level <= top:
                errors.append(f"row {n}, column {f}_level: '{value}' is not a level of {f} "
                              f"(-1 to {top})")
            vec[f] = level
        for tf in TF_FIELDS:
            value = row.get(tf, "")
            if value == "":
                vec[tf] = None
                continue
            try:
                freq = float(value)
            except ValueError:
                freq = -1.0
            if not 0.0 < freq <= 1.0:
                errors.append(f"row {n}, column {tf}: '{value}' is not a frequency (0 to 1]")
            vec[tf] = freq
        value = row.get(FS_WEIGHT, "")
        try:
            vec[FS_WEIGHT] = float(value) if value else None
        except ValueError:
            errors.append(f"row {n}, column {FS_WEIGHT}: '{value}' is not a number")
        decision = row.get("decision", "").lower()
        if decision not in DECISIONS:
            errors.append(f"row {n}, column decision: '{row.get('decision', '')}' is not "
                          "match or non-match")
        vec["is_match"] = DECISIONS.get(decision, False)
        vec["model_version"] = row.get("model_version", "")[:64]
        out.append(vec)
    return out, errors


def import_csv(db: Session, *, actor: Principal, path: Path) -> int:
    """Add the labels of a CSV (all or nothing); returns how many rows were imported."""
    require(actor, "linkage.review")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{path}: not a readable CSV file ({exc})", field="file") from exc
    parsed, errors = parse_csv(text)
    if errors:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10
                                          else "")
        raise ValidationFailed(f"{path.name}: {len(errors)} error(s): {shown}", field="file",
                               details={"errors": errors})
    _add(db, actor=actor, rows=parsed)
    audit.record(db, actor=actor, action="linkage.labels_import", object_type="linkage_labels",
                 object_id=None, detail={"rows": len(parsed), "file": path.name})
    return len(parsed)


def _add(db: Session, *, actor: Principal, rows: Iterable[dict[str, Any]]) -> None:
    db.add_all(LinkageLabel(
        pair_id=None, is_match=r["is_match"],
        features={k: v for k, v in r.items() if k not in ("is_match", "model_version")},
        probability=None, model_version=r["model_version"], source="import",
        organisation_id=actor.organisation_id, reviewer_id=actor.user_id) for r in rows)
    db.flush()
