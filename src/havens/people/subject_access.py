"""Subject access: everything held on one household, and who accessed it.

For the entitled caller (a user with personal-data rights of the registering organisation),
decrypted; the request itself is audited (purpose ``subject_access``). Accesses come from the
audit log: records about the household or one of its members, and reads (``people.read``) that
listed it among others (searches, shared reads under a data-sharing agreement).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from havens.audit.models import AuditRecord
from havens.orgs.models import Organisation
from havens.orgs.permissions import Principal
from havens.people import service
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.models import Movement
from havens.people.views import household_read

#: Audit actions that are accesses of personal data (the rest are changes).
READS = frozenset({"people.read", "people.export", "export.personal"})


def report(db: Session, *, actor: Principal, registration_number: str,
           cipher: FieldCipher | None = None) -> dict[str, Any]:
    """The household, its movements, the sharing agreements covering it and its audit trail."""
    from havens.sharing import service as sharing_service

    cipher = cipher or cipher_for()
    household_id = service.household_id_for(db, actor=actor,
                                            registration_number=registration_number)
    household = service.entitled_household(db, actor=actor, household_id=household_id)
    held = household_read(db, household, cipher)
    member_ids = {m.id for m in household.members}
    trail = _trail(db, household_id, member_ids)
    service.audit_read(db, actor=actor, households=[household], purpose="subject_access")
    movements = db.scalars(select(Movement).where(Movement.household_id == household_id)
                           .order_by(Movement.moved_on, Movement.id))
    orgs: dict[int, str] = {i: a for i, a in db.execute(
        select(Organisation.id, Organisation.acronym))}
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generated_by": actor.email,
        "household": held.model_dump(mode="json"),
        "movements": [{"kind": m.kind.value, "moved_on": m.moved_on.isoformat(),
                       "destination_type": m.destination_type.value
                       if m.destination_type else None,
                       "individuals": m.individuals} for m in movements],
        "sharing_agreements": [
            {"id": d.id, "recipient": d.recipient.acronym, "purposes": d.purposes,
             "fields": d.fields, "expires_on": d.expires_on.isoformat(),
             "covers_this_household": bool(household.consent_sharing and set(
                 d.purposes) & set(household.consent_purposes or []))}
            for d in sharing_service.agreements_covering(db, household=household)],
        "accesses": [_entry(r, orgs) for r in trail if r.action in READS],
        "changes": [_entry(r, orgs) for r in trail if r.action not in READS],
    }


def _entry(record: AuditRecord, orgs: dict[int, str]) -> dict[str, Any]:
    detail = record.detail or {}
    return {"seq": record.seq, "at": record.at.isoformat(timespec="seconds"),
            "action": record.action, "by": record.actor_label,
            "organisation": orgs.get(record.actor_org_id) if record.actor_org_id else None,
            "purpose": detail.get("purpose"),
            "sharing_agreement": detail.get("sharing_agreement")}


def _trail(db: Session, household_id: int, member_ids: set[int]) -> list[AuditRecord]:
    """Audit records naming the household or a member, in order."""
    direct = or_(
        (AuditRecord.object_type == "household") & (AuditRecord.object_id == str(household_id)),
        (AuditRecord.object_type == "individual")
        & AuditRecord.object_id.in_([str(i) for i in member_ids]))
    found = {r.seq: r for r in db.scalars(select(AuditRecord).where(direct))}
    # Reads of several households at once list them in the detail (JSON: filtered here).
    for record in db.scalars(select(AuditRecord).where(
            AuditRecord.action.in_(READS | {"retention.pseudonymise"}),
            AuditRecord.object_id.is_(None))):
        if household_id in ((record.detail or {}).get("households") or []):
            found[record.seq] = record
    return [found[k] for k in sorted(found)]
