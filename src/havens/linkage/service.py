"""The registry review queue: run the matcher over the registry, list and show candidate pairs.

``run`` loads the individuals in the caller's scope (``access.py``) — never decrypting anything:
names are plain, phone and document numbers are compared through their keyed hashes — scores
them (``registry.py``), clusters the pairs at or above the threshold with the pairs reviewers
rejected kept apart (``constraints.py``) and adds the pairs whose two individuals end in one
cluster, and were never proposed before, to the queue. Individuals merged away are left out;
an incremental run compares the individuals registered since the previous run and those
unmerged since it (they were out of that run). Confirming, rejecting and unmerging are in
``review.py`` (re-exported here). Every run, read of a pair's personal data and decision is
audited with ids and counts only, never names.

The people domain shows each person once (``havens.people.merges``): every merge and unmerge is
mirrored onto its ``merged_into_id`` pointers as it is written (:func:`_mirror_merges`),
whichever way the decision came (API, web page, terminal reviewer).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import NotFound, ValidationFailed
from havens.linkage import active, constraints, labels, learned, registry
from havens.linkage.access import Scope, personal_scope, scope_for
from havens.linkage.features import COMPARISONS, PART_FIELDS
from havens.linkage.model import TF_FIELDS, TF_FLOOR, Model
from havens.linkage.models import (
    CandidatePair,
    Decision,
    IndividualMerge,
    LinkageRun,
)
from havens.linkage.review import confirm, reject, unmerge
from havens.linkage.schemas import (
    CandidateDetail,
    CandidatePage,
    CandidateRead,
    FieldAgreement,
    PairRecord,
)
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.people import merges as people_merges
from havens.people.models import Household, Individual
from havens.zones.models import Site

__all__ = [
    "DEFAULT_THRESHOLD",
    "candidate_detail",
    "confirm",
    "list_candidates",
    "reject",
    "run",
    "unmerge",
]

#: Pairs from this probability go to the review queue: lower than the files' 0.9 because a
#: reviewer decides, and a missed duplicate is found only here.
DEFAULT_THRESHOLD = 0.8

Step = Callable[[str], None]

log = logging.getLogger(__name__)


# --- running ---------------------------------------------------------------------------------

def _unmerged_since(db: Session, previous: LinkageRun | None) -> set[int]:
    """Individuals whose merge was undone since ``previous`` started: that run left them out,
    so an incremental run compares them as it compares new registrations."""
    if previous is None:
        return set()
    return {int(i) for i in db.scalars(select(IndividualMerge.merged_id).where(
        IndividualMerge.unmerged_at >= previous.started_at))}


def _records(db: Session, scope: Scope, since: int, returned: frozenset[int] = frozenset()
             ) -> list[registry.Record]:
    query = (select(Individual.id, Individual.given_name_ar, Individual.father_name_ar,
                    Individual.grandfather_name_ar, Individual.family_name_ar,
                    Individual.given_name_en, Individual.father_name_en,
                    Individual.grandfather_name_en, Individual.family_name_en, Individual.sex,
                    Individual.date_of_birth, Individual.dob_estimated, Household.origin_pcode,
                    Individual.phone_hash, Individual.document_number_hash)
             .join(Household, Household.id == Individual.household_id)
             .where(scope.individuals(), people_merges.not_merged(Individual))
             .order_by(Individual.id))
    out = []
    for (iid, g_ar, f_ar, gf_ar, fam_ar, g_en, f_en, gf_en, fam_en, sex, dob, estimated,
         origin, phone, doc) in db.execute(query):
        # One script per individual, Arabic when there is any (see registry.py).
        arabic = any((g_ar, f_ar, gf_ar, fam_ar))
        names = (g_ar, f_ar, gf_ar, fam_ar) if arabic else (g_en, f_en, gf_en, fam_en)
        out.append(registry.Record(
            iid, *names, sex=str(sex.value if hasattr(sex, "value") else sex),
            date_of_birth=str(dob.year) if estimated else dob.isoformat(),
            origin_pcode=origin, phone_hash=phone, document_hash=doc,
            new=bool(since) and (iid > since or iid in returned)))
    return out


def _previous(db: Session, scope: Scope) -> LinkageRun | None:
    return db.scalar(select(LinkageRun).where(
        LinkageRun.organisation_id.is_(None) if scope.organisation_id is None
        else LinkageRun.organisation_id == scope.organisation_id,
        LinkageRun.finished_at.is_not(None)).order_by(LinkageRun.id.desc()).limit(1))


def _stored_model(previous: LinkageRun | None) -> Model | None:
    """The previous run's model, or None when there is none or it no longer fits this version's
    comparisons (the next run then trains or takes the bundled one, over the whole registry)."""
    if previous is None:
        return None
    try:
        return Model.from_json(previous.model, source=f"linkage run {previous.id}")
    except (ValidationFailed, KeyError, TypeError):
        return None


def run(db: Session, *, actor: Principal, organisation: str | None = None,
        threshold: float = DEFAULT_THRESHOLD, incremental: bool = False, retrain: bool = False,
        step: Step | None = None) -> LinkageRun:
    """Match the registry in the caller's scope and queue the new candidate pairs.

    ``incremental``: only individuals registered since the previous run of the same scope are
    compared (against everyone), with that run's model; without a previous run it is a full run.
    ``retrain``: train the model again (full runs) instead of reusing the previous run's.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValidationFailed("The threshold is a probability between 0 and 1.",
                               field="threshold")
    scope = scope_for(db, actor=actor, organisation=organisation)
    previous = _previous(db, scope)
    previous_model = _stored_model(previous)
    # Incremental needs the previous run's model (else scores would not be comparable).
    incremental = incremental and previous_model is not None
    since = previous.last_individual_id if incremental and previous else 0
    returned = frozenset(_unmerged_since(db, previous)) if incremental else frozenset()
    records = _records(db, scope, since, returned)
    if step:
        step("read")
    model: Model | None = None
    if previous is not None and previous_model is not None and (incremental or not retrain):
        reusable = previous.model_trained or len(records) < registry.MIN_TRAINING_RECORDS
        if incremental or reusable:
            model = previous_model
    scorer = learned.promoted()
    result = registry.match(records, threshold=threshold, model=model, incremental=incremental,
                            learned=scorer, cannot_link=constraints.rejected_pairs(db))
    if step:
        step("score")
    linkage_run = LinkageRun(
        organisation_id=scope.organisation_id, started_by_id=actor.user_id,
        incremental=incremental, since_individual_id=since,
        last_individual_id=max((r.individual_id for r in records), default=since),
        model_version=(scorer.tag if scorer else registry.model_version(result.model)),
        model=result.model.to_json(),
        # Learned from this registry (now or by the run whose model is reused), not bundled.
        model_trained=result.model_trained or bool(
            model is not None and previous is not None and previous.model_trained),
        threshold=threshold, records=result.records, new_records=result.new_records,
        candidate_pairs=result.candidate_pairs, kept_apart=result.kept_apart,
        seconds=result.seconds)
    db.add(linkage_run)
    db.flush()
    proposed = _queue(db, linkage_run, result.pairs)
    linkage_run.proposed = proposed
    linkage_run.finished_at = utcnow()
    audit.record(db, actor=actor, action="linkage.run", object_type="linkage_run",
                 object_id=linkage_run.id, detail={
                     "organisation_id": scope.organisation_id, "incremental": incremental,
                     "records": result.records, "new_records": result.new_records,
                     "candidate_pairs": result.candidate_pairs, "proposed": proposed,
                     "kept_apart": result.kept_apart,
                     "threshold": threshold, "model_version": linkage_run.model_version,
                     "model_trained": result.model_trained,
                     "learned_model": scorer.tag if scorer else None})
    log.info("linkage run %s: %d pairs proposed, %d at or above %g kept apart by clustering",
             linkage_run.id, proposed, result.kept_apart, threshold)
    if step:
        step("queue")
    return linkage_run


def _queue(db: Session, linkage_run: LinkageRun, pairs: list[registry.ScoredPair]) -> int:
    """Add the pairs never proposed before (whatever was decided on them); returns how many."""
    if not pairs:
        return 0
    ids = sorted({p.individual_l_id for p in pairs})
    known: set[tuple[int, int]] = set()
    for chunk in range(0, len(ids), 5_000):
        found = db.execute(select(CandidatePair.individual_l_id, CandidatePair.individual_r_id)
                           .where(CandidatePair.individual_l_id.in_(ids[chunk:chunk + 5_000])))
        known.update((int(a), int(b)) for a, b in found)
    fresh = [p for p in pairs if (p.individual_l_id, p.individual_r_id) not in known]
    db.add_all(CandidatePair(
        run_id=linkage_run.id, individual_l_id=p.individual_l_id,
        individual_r_id=p.individual_r_id, match_probability=p.probability, levels=p.levels,
        features=p.features, model_version=linkage_run.model_version) for p in fresh)
    db.flush()
    return len(fresh)


# --- the queue -------------------------------------------------------------------------------

def visible_pair(db: Session, scope: Scope, pair_id: int) -> CandidatePair:
    """A pair whose two individuals are both in the scope, else ``NotFound``."""
    left, right = aliased(Individual), aliased(Individual)
    pair = db.scalar(select(CandidatePair)
                     .join(left, left.id == CandidatePair.individual_l_id)
                     .join(right, right.id == CandidatePair.individual_r_id)
                     .where(CandidatePair.id == pair_id, scope.individuals(left),
                            scope.individuals(right)))
    if pair is None:
        raise NotFound("No such candidate pair.", field="pair_id")
    return pair


def list_candidates(db: Session, *, actor: Principal, decision: Decision = Decision.pending,
                    page: int = 1, page_size: int = 50, order: str = "probability"
                    ) -> CandidatePage:
    """The queue (ids, probabilities and levels; no personal data).

    ``order``: ``probability`` (most likely first) or ``active`` (the pairs that teach the
    matcher the most first: uncertain, spread over sites and kinds of pair; see ``active.py``).
    """
    if order not in ORDERS:
        raise ValidationFailed(f"Unknown order '{order}': use {' or '.join(ORDERS)}.",
                               field="order")
    scope = scope_for(db, actor=actor)
    page, page_size = max(page, 1), min(max(page_size, 1), 200)
    left, right = aliased(Individual), aliased(Individual)
    query = (select(CandidatePair)
             .join(left, left.id == CandidatePair.individual_l_id)
             .join(right, right.id == CandidatePair.individual_r_id)
             .where(CandidatePair.decision == decision, scope.individuals(left),
                    scope.individuals(right)))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    if order == "active":
        ids = active_ids(db, query.with_only_columns(
            CandidatePair.id, CandidatePair.run_id, CandidatePair.match_probability,
            CandidatePair.levels, CandidatePair.features, left.site_id))
        wanted = ids[(page - 1) * page_size: page * page_size]
        found = {p.id: p for p in db.scalars(select(CandidatePair)
                                             .where(CandidatePair.id.in_(wanted)))}
        items = [found[i] for i in wanted]
    else:
        items = list(db.scalars(query.order_by(CandidatePair.match_probability.desc(),
                                               CandidatePair.id)
                                .offset((page - 1) * page_size).limit(page_size)))
    return CandidatePage(total=total, page=page, page_size=page_size,
                         items=[CandidateRead.model_validate(p, from_attributes=True)
                                for p in items])


ORDERS = ("probability", "active")


def active_ids(db: Session, query: Select[Any]) -> list[int]:
    """Pair ids of ``query`` (id, run_id, probability, levels, features, site) in active-learning
    order, scored by the promoted learned model when there is one."""
    found = db.execute(query).all()
    if not found:
        return []
    scorer = learned.promoted()
    if scorer is not None:
        levels, tf = learned.matrices([labels.vector(r[3], r[4]) for r in found])
        probs = [float(p) for p in scorer.predict(levels, tf)]
        boundaries = {r[1]: 0.5 for r in found}
    else:
        probs = [float(r[2]) for r in found]
        boundaries = {int(a): float(b) for a, b in db.execute(
            select(LinkageRun.id, LinkageRun.threshold).where(
                LinkageRun.id.in_({r[1] for r in found})))}
    return active.order([
        active.Item(int(r[0]), p, float(boundaries.get(r[1], DEFAULT_THRESHOLD)),
                    (r[5], active.pattern(r[3] or {})))
        for r, p in zip(found, probs, strict=True)])


def _record(db: Session, individual: Individual, merged_into: int | None) -> PairRecord:
    household = individual.household
    acronym = db.scalar(select(Organisation.acronym).where(
        Organisation.id == individual.organisation_id)) or ""
    site = db.scalar(select(Site.code).where(Site.id == individual.site_id)) or ""
    dob: dt.date = individual.date_of_birth
    return PairRecord(
        individual_id=individual.id, organisation=acronym, household_id=household.id,
        registration_number=household.registration_number, site_code=site,
        relationship=individual.relationship.value,
        given_name_ar=individual.given_name_ar, father_name_ar=individual.father_name_ar,
        grandfather_name_ar=individual.grandfather_name_ar,
        family_name_ar=individual.family_name_ar, given_name_en=individual.given_name_en,
        father_name_en=individual.father_name_en,
        grandfather_name_en=individual.grandfather_name_en,
        family_name_en=individual.family_name_en, sex=individual.sex.value,
        date_of_birth=None if individual.dob_estimated else dob, birth_year=dob.year,
        dob_estimated=individual.dob_estimated, origin_pcode=household.origin_pcode,
        has_phone=individual.phone_hash is not None,
        has_document=individual.document_number_hash is not None, merged_into_id=merged_into)


def _agreement(db: Session, pair: CandidatePair) -> list[FieldAgreement]:
    stored = db.scalar(select(LinkageRun.model).where(LinkageRun.id == pair.run_id))
    model = Model.from_json(stored) if stored else None
    params = {f.name: f for f in model.fields} if model else {}
    name_levels = COMPARISONS[0].levels
    out = []
    for c in COMPARISONS:
        level = int(pair.levels.get(c.name, -1))
        weight = None
        fp = params.get(c.name)
        if fp is not None and level >= 0:
            tf = pair.features.get(f"tf_{c.name}")
            if c.name in TF_FIELDS and level == len(fp.m) - 1 and tf:
                weight = math.log2(max(fp.m[level], 1e-6) / max(float(tf), TF_FLOOR))
            else:
                weight = fp.weights()[level]
        out.append(FieldAgreement(field=c.name, level=level,
                                  label=c.levels[level] if level >= 0 else "missing",
                                  weight=None if weight is None else round(weight, 2)))
    for part in PART_FIELDS:
        level = int(pair.levels.get(part, -1))
        out.append(FieldAgreement(field=part, level=level,
                                  label=name_levels[level] if level >= 0 else "missing"))
    return out


def candidate_detail(db: Session, *, actor: Principal, pair_id: int) -> CandidateDetail:
    """Both records side by side with the agreement of each field, for a reviewer entitled to
    both; the read is audited (ids only)."""
    scope = personal_scope(db, actor=actor)
    pair = visible_pair(db, scope, pair_id)
    left = db.get(Individual, pair.individual_l_id)
    right = db.get(Individual, pair.individual_r_id)
    assert left is not None and right is not None
    merged = {int(a): int(b) for a, b in db.execute(
        select(IndividualMerge.merged_id, IndividualMerge.kept_id).where(
            IndividualMerge.merged_id.in_([left.id, right.id]),
            IndividualMerge.unmerged_at.is_(None)))}
    audit.record(db, actor=actor, action="linkage.read", object_type="linkage_pair",
                 object_id=pair.id, detail={"individuals": [left.id, right.id],
                                            "households": [left.household_id,
                                                           right.household_id]})
    return CandidateDetail(pair=CandidateRead.model_validate(pair, from_attributes=True),
                           left=_record(db, left, merged.get(left.id)),
                           right=_record(db, right, merged.get(right.id)),
                           agreement=_agreement(db, pair))
