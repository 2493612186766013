"""Return intention surveys: one answer per household and survey, recorded or imported.

Intentions: return within 3, 6 or 12 months, not intending to return, undecided. The main
preconditions come from :data:`PRECONDITIONS`. Answers are personal data: recorded and read by
the household's registering organisation only; reports show aggregates.

Import (all rows or none, problems as (row, column, reason)) takes a CSV/XLSX such as a
KoboToolbox or ODK export: group prefixes are dropped (``intentions/intention``,
``hh-registration_number``); a *select_multiple* question may come as one column of
space-separated codes (``preconditions``) or as Kobo's split 0/1 columns
(``preconditions/safety_security``). The household is found by ``registration_number``,
``household_id`` or ``household_ref``; ``_uuid`` keeps a submission from being imported twice.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import Conflict, HavensError, ValidationFailed
from havens.orgs.permissions import Principal, require
from havens.people import service as people_service
from havens.people.records import parse_date, text_of
from havens.people.tabular import read_tables
from havens.returns import households
from havens.returns.models import Intention, ReturnIntention
from havens.returns.schemas import ImportProblem, IntentionCreate, IntentionImportReport
from havens.returns.service import check_origin

PRECONDITIONS: dict[str, str] = {
    "safety_security": "Safety and security in the area",
    "explosive_clearance": "Clearance of mines and explosive remnants",
    "housing_repair": "Repair or rebuilding of the house",
    "property_restitution": "Getting housing, land or property back",
    "basic_services": "Water, electricity and other basic services",
    "health_services": "Health care",
    "schools": "Schools open",
    "livelihoods": "Work or another livelihood",
    "documentation": "Civil documentation",
    "family_reunification": "Family members back or reunited",
    "transport": "Transport for the return",
    "return_assistance": "A return assistance package",
    "information": "Reliable information about the area",
}


def parse_intention(text: str) -> Intention | None:
    folded = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    if not folded:
        return None
    if folded in Intention.__members__:
        return Intention(folded)
    digits = re.findall(r"\d+", folded)
    if digits and not folded.startswith("no"):
        return {"3": Intention.within_3_months, "6": Intention.within_6_months,
                "12": Intention.within_12_months}.get(digits[0])
    if folded in {"no", "not", "not_return", "no_return", "will_not_return", "never", "not_intend"}:
        return Intention.not_intending
    if folded in {"undecided", "dont_know", "do_not_know", "don_t_know", "unknown", "maybe"}:
        return Intention.undecided
    return None


def check_preconditions(codes: list[str], *, field: str = "preconditions") -> list[str]:
    cleaned = list(dict.fromkeys(c.strip().lower() for c in codes if c.strip()))
    unknown = [c for c in cleaned if c not in PRECONDITIONS]
    if unknown:
        raise ValidationFailed(f"Unknown precondition(s): {', '.join(unknown)}.", field=field)
    return cleaned


def record_intention(db: Session, *, actor: Principal, data: IntentionCreate,
                     organisation: str | None = None, today: dt.date | None = None
                     ) -> ReturnIntention:
    """Record one household's answer (audited by household id, never by name)."""
    require(actor, "returns.write")
    org_id = households.organisation_of_records(db, actor=actor, acronym=organisation)
    household = households.find_household(
        db, organisation_id=org_id, household_id=data.household_id,
        registration_number=data.registration_number)
    if data.surveyed_on > (today or dt.date.today()):
        raise ValidationFailed("The survey date is in the future.", field="surveyed_on")
    destination = (check_origin(db, data.destination_pcode, field="destination_pcode")
                   if data.destination_pcode else household.origin_pcode)
    ref = (data.external_ref or "").strip() or None
    if ref and db.scalar(select(ReturnIntention.id).where(
            ReturnIntention.organisation_id == org_id, ReturnIntention.external_ref == ref)):
        raise Conflict(f"Survey answer {ref} was recorded already.", field="external_ref")
    intention = ReturnIntention(
        household_id=household.id, organisation_id=org_id, surveyed_on=data.surveyed_on,
        intention=data.intention, preconditions=check_preconditions(data.preconditions),
        destination_pcode=destination, notes=(data.notes or "").strip() or None,
        external_ref=ref, recorded_by_user_id=actor.user_id)
    db.add(intention)
    db.flush()
    audit.record(db, actor=actor, action="return_intention.record",
                 object_type="return_intention", object_id=intention.id, detail={
                     "household_id": household.id, "intention": data.intention.value,
                     "surveyed_on": data.surveyed_on})
    return intention


def list_intentions(db: Session, *, actor: Principal, household_id: int
                    ) -> list[ReturnIntention]:
    """A household's answers, oldest first (personal data: audited)."""
    require(actor, "returns.read")
    org_id = people_service.personal_organisation(actor)
    household = households.find_household(db, organisation_id=org_id,
                                          household_id=household_id)
    rows = list(db.scalars(select(ReturnIntention).where(
        ReturnIntention.household_id == household.id)
        .order_by(ReturnIntention.surveyed_on, ReturnIntention.id)))
    audit.record(db, actor=actor, action="return_intention.read", object_type="household",
                 object_id=household.id)
    return rows


# --- import ----------------------------------------------------------------------------------

_ALIASES = {
    "regno": "registration_number", "registration_no": "registration_number",
    "reg_number": "registration_number", "hh_id": "household_ref", "household_id_ref":
    "household_ref", "date": "surveyed_on", "survey_date": "surveyed_on", "today": "surveyed_on",
    "intention_to_return": "intention", "return_intention": "intention",
    "intends_to_return": "intention", "conditions": "preconditions",
    "main_preconditions": "preconditions", "destination": "destination_pcode",
    "_uuid": "external_ref", "uuid": "external_ref", "instanceid": "external_ref",
    "meta_instanceid": "external_ref", "comments": "notes", "note": "notes",
}
_FIELDS = frozenset({"registration_number", "household_id", "household_ref", "surveyed_on",
                     "intention", "preconditions", "destination_pcode", "notes",
                     "external_ref", "_submission_time"})


def _column(header: str) -> tuple[str | None, str | None]:
    """(field, precondition code) of a header; the code for Kobo's split 0/1 columns."""
    parts = [p for p in re.split(r"[/:]", header.strip().lower()) if p]
    if not parts:
        return None, None
    if len(parts) >= 2 and _key(parts[-2]) == "preconditions" and parts[-1] in PRECONDITIONS:
        return "preconditions", parts[-1]
    key = _key(parts[-1])
    if key not in _FIELDS and "-" in key:
        key = _key(key.rsplit("-", 1)[-1])
    return (key if key in _FIELDS else None), None


def _key(text: str) -> str:
    key = re.sub(r"\s+", "_", text.strip().lower())
    return _ALIASES.get(key, key)


def _row_data(row: dict[str, Any], split: dict[str, Any]) -> dict[str, Any]:
    intention_text = text_of(row.get("intention"))
    intention = parse_intention(intention_text)
    if intention is None:
        raise _Problem("intention", f"{intention_text!r} is not an intention (3, 6, 12 months, "
                                    "not, undecided)" if intention_text
                       else "the intention is missing")
    codes = text_of(row.get("preconditions")).replace(",", " ").split()
    codes += [code for code, value in split.items() if text_of(value) in {"1", "true", "yes"}]
    try:
        codes = check_preconditions(codes)
    except ValidationFailed as exc:
        raise _Problem("preconditions", exc.message) from None
    when = row.get("surveyed_on") or row.get("_submission_time")
    try:
        surveyed_on = parse_date(when) if text_of(when) else None
    except ValueError as exc:
        raise _Problem("surveyed_on", str(exc)) from None
    if surveyed_on is None:
        raise _Problem("surveyed_on", "the survey date is missing")
    household_id = text_of(row.get("household_id"))
    return {"household_id": int(household_id) if household_id.isdigit() else None,
            "registration_number": text_of(row.get("registration_number")) or None,
            "household_ref": text_of(row.get("household_ref")) or None,
            "surveyed_on": surveyed_on, "intention": intention, "preconditions": codes,
            "destination_pcode": text_of(row.get("destination_pcode")) or None,
            "notes": text_of(row.get("notes")) or None,
            "external_ref": text_of(row.get("external_ref")) or None}


class _Problem(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def import_intentions(db: Session, *, actor: Principal, data: bytes, filename: str,
                      organisation: str | None = None, today: dt.date | None = None
                      ) -> IntentionImportReport:
    """Import every answer or none (``ValidationFailed`` with ``details`` listing each
    problem as ``{"row", "column", "reason"}``)."""
    require(actor, "returns.write")
    org_id = households.organisation_of_records(db, actor=actor, acronym=organisation)
    table = read_tables(data, filename)[0]
    columns: dict[int, tuple[str, str | None]] = {}
    for index, header in enumerate(table.headers):
        name, code = _column(header) if header else (None, None)
        if name:
            columns[index] = (name, code)
    names = {name for name, _code in columns.values()}
    if "intention" not in names or not names & {"registration_number", "household_id",
                                                 "household_ref"}:
        raise ValidationFailed("The file needs an intention column and a household column "
                               "(registration_number, household_id or household_ref).",
                               field="file")
    problems: list[ImportProblem] = []
    created = skipped = 0
    seen: dict[str, int] = {}
    rows = [(table.first_row_number + n, raw) for n, raw in enumerate(table.rows)
            if any(text_of(c) for c in raw)]
    savepoint = db.begin_nested()
    for number, raw in rows:
        row: dict[str, Any] = {}
        split: dict[str, Any] = {}
        for index, (name, code) in columns.items():
            value = raw[index] if index < len(raw) else None
            if code:
                split[code] = value
            else:
                row[name] = value
        try:
            values = _row_data(row, split)
            ref = values["external_ref"]
            if ref and ref in seen:
                raise _Problem("external_ref", f"submission {ref} is also on row {seen[ref]}")
            if ref:
                seen[ref] = number
                if db.scalar(select(ReturnIntention.id).where(
                        ReturnIntention.organisation_id == org_id,
                        ReturnIntention.external_ref == ref)):
                    skipped += 1
                    continue
            household = households.find_household(
                db, organisation_id=org_id, household_id=values.pop("household_id"),
                registration_number=values["registration_number"],
                household_ref=values.pop("household_ref"), field="registration_number")
            values["household_id"], values["registration_number"] = household.id, None
            try:
                answer = IntentionCreate.model_validate(values, strict=False)
            except ValidationError as exc:
                error = exc.errors()[0]
                raise _Problem(str(error["loc"][0]) if error["loc"] else None,
                               error["msg"]) from None
            record_intention(db, actor=actor, data=answer, today=today,
                             organisation=organisation)
            created += 1
        except _Problem as problem:
            problems.append(ImportProblem(row=number, column=problem.column,
                                          reason=problem.reason))
        except HavensError as exc:
            problems.append(ImportProblem(row=number, column=exc.field, reason=exc.message))
    if problems:
        savepoint.rollback()
        raise ValidationFailed(f"{len(problems)} problem(s) in {filename}: nothing was "
                               "imported.", field="file",
                               details=[p.model_dump() for p in problems])
    savepoint.commit()
    return IntentionImportReport(rows=len(rows), created=created, skipped_existing=skipped)
