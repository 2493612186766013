"""Registrations merged into another: the history is kept, the person counted once.

When a reviewer confirms that two registered individuals are one person (``havens.linkage``),
the individual merged away keeps its row — its household, movements and audit trail — and
points at the individual kept (``merged_into_id``); a household whose members were all merged
into members of one other household points at that household. Unmerging clears the pointers and
the records count again.

The people domain knows nothing of linkage: linkage calls :func:`mark_merged` /
:func:`clear_merged` (and the household pair), and every query that lists, searches, counts or
exports the people present filters with :func:`not_merged`. Read by its id, a merged record
still answers, saying where it went (:func:`household_reads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from havens.exceptions import Conflict, NotFound
from havens.orgs.models import Organisation
from havens.people.crypto import FieldCipher
from havens.people.models import Household, Individual
from havens.people.schemas import HouseholdRead, MergedInto
from havens.people.views import household_read, site_and_org_codes


def not_merged(entity: Any = Individual) -> ColumnElement[bool]:
    """SQL condition keeping the rows of ``entity`` (``Individual``, ``Household`` or an alias
    of either) that count: those not merged into another record."""
    condition: ColumnElement[bool] = entity.merged_into_id.is_(None)
    return condition


# --- set and cleared by linkage ----------------------------------------------------------------

def _record(db: Session, model: type[Individual] | type[Household], record_id: int,
            what: str) -> Any:
    found = db.get(model, record_id)
    if found is None:
        raise NotFound(f"No such {what}.", field=f"{what}_id")
    return found


def _point(db: Session, model: type[Individual] | type[Household], what: str, record_id: int,
           into_id: int) -> None:
    """Point ``record_id`` at ``into_id``, which is kept and must itself still count."""
    merged = _record(db, model, record_id, what)
    kept = _record(db, model, into_id, what)
    if kept.id == merged.id or kept.merged_into_id is not None:
        article = "An" if what[0] in "aeiou" else "A"
        raise Conflict(f"{article} {what} is merged into another one that still counts.",
                       field=f"{what}_id")
    merged.merged_into_id = kept.id


def mark_merged(db: Session, *, individual_id: int, into_id: int) -> None:
    """The individual ``individual_id`` is the same person as ``into_id``, which is kept."""
    _point(db, Individual, "individual", individual_id, into_id)


def clear_merged(db: Session, *, individual_id: int) -> None:
    """The merge of ``individual_id`` was undone: it counts again."""
    _record(db, Individual, individual_id, "individual").merged_into_id = None


def mark_household_merged(db: Session, *, household_id: int, into_id: int) -> None:
    """Every member of ``household_id`` was merged into members of ``into_id``, which is kept."""
    _point(db, Household, "household", household_id, into_id)


def clear_household_merged(db: Session, *, household_id: int) -> None:
    """The household merge of ``household_id`` was undone: it counts again."""
    _record(db, Household, household_id, "household").merged_into_id = None


# --- reading -----------------------------------------------------------------------------------

class _Kept(NamedTuple):
    household_id: int
    organisation_id: int
    registration_number: str
    individual_id: int | None


class _Pointers:
    """Where records were merged, looked up together for the individuals and households kept.

    The registration number of the record kept is given when it is the same organisation's;
    of another organisation only its acronym (its registration numbers are its own business).
    """

    def __init__(self, db: Session, *, individuals: set[int], households: set[int]) -> None:
        self.individuals: dict[int, _Kept] = {}
        self.households: dict[int, _Kept] = {}
        if individuals:
            for iid, hid, org, number in db.execute(
                    select(Individual.id, Household.id, Household.organisation_id,
                           Household.registration_number)
                    .join(Household, Household.id == Individual.household_id)
                    .where(Individual.id.in_(sorted(individuals)))):
                self.individuals[int(iid)] = _Kept(int(hid), int(org), str(number), int(iid))
        if households:
            for hid, org, number in db.execute(
                    select(Household.id, Household.organisation_id,
                           Household.registration_number)
                    .where(Household.id.in_(sorted(households)))):
                self.households[int(hid)] = _Kept(int(hid), int(org), str(number), None)
        orgs = {k.organisation_id for k in [*self.individuals.values(),
                                            *self.households.values()]}
        self.acronyms = {int(i): str(a) for i, a in db.execute(
            select(Organisation.id, Organisation.acronym)
            .where(Organisation.id.in_(sorted(orgs))))} if orgs else {}

    def pointer(self, owner: int, kept: _Kept | None) -> MergedInto | None:
        if kept is None:
            return None
        same = kept.organisation_id == owner
        return MergedInto(household_id=kept.household_id, individual_id=kept.individual_id,
                          organisation=self.acronyms.get(kept.organisation_id, ""),
                          registration_number=kept.registration_number if same else None)

    def of_individual(self, person: Individual) -> MergedInto | None:
        return self.pointer(person.organisation_id,
                            self.individuals.get(person.merged_into_id or 0))

    def of_household(self, household: Household) -> MergedInto | None:
        return self.pointer(household.organisation_id,
                            self.households.get(household.merged_into_id or 0))


def household_reads(db: Session, households: Sequence[Household], cipher: FieldCipher
                    ) -> list[HouseholdRead]:
    """The households as the API shows them, with where they and their members were merged."""
    codes = site_and_org_codes(db, households)
    reads = [household_read(db, h, cipher, codes=codes) for h in households]
    individuals = {m.merged_into_id for h in households for m in h.members if m.merged_into_id}
    kept_households = {h.merged_into_id for h in households if h.merged_into_id}
    if not individuals and not kept_households:
        return reads
    pointers = _Pointers(db, individuals=individuals, households=kept_households)
    return [read.model_copy(update={
        "members": [member.model_copy(update={"merged_into": pointers.of_individual(person)})
                    for person, member in zip(household.members, read.members, strict=True)],
        "merged_into": pointers.of_household(household)})
        for household, read in zip(households, reads, strict=True)]


def individual_merged_into(db: Session, person: Individual) -> MergedInto | None:
    """Where ``person`` was merged, if it was."""
    if person.merged_into_id is None:
        return None
    return _Pointers(db, individuals={person.merged_into_id}, households=set()
                     ).of_individual(person)


def counting_members(household: Household) -> list[Individual]:
    """The members of ``household`` that count (not merged into someone else)."""
    return [m for m in household.members if m.merged_into_id is None]
