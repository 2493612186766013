"""Data-sharing agreements (DSA): proposing, signing, revoking, and reading under one.

A DSA is offered by the registering organisation (the *provider*) to a *recipient*
organisation, for one zone or all, for purposes from the consent list and a documented set of
fields (``SharedField``), between two dates. It is in force once a user of each side whose role
may sign (``sharing.sign``) has signed, until it expires or either side revokes it. While in
force, users of the recipient with ``people.personal`` may read the provider's households it
covers whose consent to sharing includes the purpose they state — with the fields not granted
masked. Every proposal, signature, revocation and read is audited with the DSA id.

The host government and states have no personal-data role of their own: they see aggregates
only, unless a DSA names them as recipient (and their user's role has ``people.personal``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs import service as org_service
from havens.orgs.permissions import Principal, require
from havens.orgs.policy import may, require_may
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.models import ConsentPurpose, Household
from havens.people.schemas import HouseholdRead
from havens.people.views import household_read
from havens.sharing.models import DataSharingAgreement, SharedField
from havens.sharing.schemas import DsaCreate, DsaRead, SharedHousehold, SharedPage, Signer
from havens.zones.models import Site, Zone

#: Longest agreement: sharing is reviewed at least every two years.
MAX_DURATION = dt.timedelta(days=2 * 366)

_NAME_FIELDS = [f"{part}_{lang}" for part in ("given_name", "father_name", "grandfather_name",
                                              "family_name") for lang in ("ar", "en")]
#: Member fields masked unless the agreement grants the field.
_MEMBER_FIELDS: dict[SharedField, list[str]] = {
    SharedField.names: _NAME_FIELDS,
    SharedField.dates_of_birth: ["date_of_birth"],
    SharedField.phone: ["phone"],
    SharedField.documents: ["document_type", "document_number"],
    SharedField.specific_needs: ["specific_needs"],
}
#: Household fields never shared: the provider's own key and where the family sleeps.
_NEVER = ["household_ref", "shelter_lon", "shelter_lat"]


@dataclass(frozen=True)
class Coverage:
    """A household and the agreement through which the caller asks to read it."""

    agreement: DataSharingAgreement
    household: Household
    in_force: bool
    consented: bool


def _today() -> dt.date:
    return dt.date.today()


def to_read(db: Session, dsa: DataSharingAgreement, today: dt.date | None = None) -> DsaRead:
    zone_code = db.scalar(select(Zone.code).where(Zone.id == dsa.zone_id)) if dsa.zone_id \
        else None
    return DsaRead(
        id=dsa.id, provider=dsa.provider.acronym, recipient=dsa.recipient.acronym,
        zone_code=zone_code, purposes=list(dsa.purposes), fields=list(dsa.fields),
        starts_on=dsa.starts_on, expires_on=dsa.expires_on, note=dsa.note,
        status=dsa.status(today or _today()),
        provider_signature=Signer(user_id=dsa.provider_signed_by_user_id,
                                  at=dsa.provider_signed_at),
        recipient_signature=Signer(user_id=dsa.recipient_signed_by_user_id,
                                   at=dsa.recipient_signed_at),
        revoked_at=dsa.revoked_at, revocation_reason=dsa.revocation_reason)


# --- lifecycle -------------------------------------------------------------------------------

def propose(db: Session, *, actor: Principal, data: DsaCreate) -> DataSharingAgreement:
    """Offer the caller's organisation's data to a recipient (unsigned until both sign)."""
    require(actor, "sharing.propose")
    if actor.organisation_id is None:
        raise PermissionDenied("An agreement is proposed by a user of the registering "
                               "organisation (--as EMAIL).")
    recipient = org_service.get_organisation_by_acronym(db, acronym=data.recipient)
    assert recipient is not None
    zone_id = None
    if data.zone_code:
        zone_id = db.scalar(select(Zone.id).where(Zone.code == data.zone_code.strip().upper()))
        if zone_id is None:
            raise NotFound(f"No zone {data.zone_code}.", field="zone_code")
    if data.expires_on < data.starts_on:
        raise ValidationFailed("The agreement expires before it starts.", field="expires_on")
    if data.expires_on - data.starts_on > MAX_DURATION:
        raise ValidationFailed("An agreement lasts at most two years; renew it after review.",
                               field="expires_on")
    dsa = DataSharingAgreement(
        provider_org_id=actor.organisation_id, recipient_org_id=recipient.id,
        zone_id=zone_id, purposes=sorted({p.value for p in data.purposes}),
        fields=sorted({f.value for f in data.fields}), starts_on=data.starts_on,
        expires_on=data.expires_on, note=data.note, proposed_by_user_id=actor.user_id)
    require_may(actor, "sharing.propose", dsa, hide=False)
    if recipient.id == dsa.provider_org_id:
        raise ValidationFailed("An organisation does not share with itself.",
                               field="recipient")
    db.add(dsa)
    db.flush()
    audit.record(db, actor=actor, action="sharing.propose", object_type="sharing_agreement",
                 object_id=dsa.id, detail={
                     "provider": dsa.provider_org_id, "recipient": recipient.acronym,
                     "zone": data.zone_code, "purposes": dsa.purposes, "fields": dsa.fields,
                     "starts_on": dsa.starts_on.isoformat(),
                     "expires_on": dsa.expires_on.isoformat()})
    return dsa


def get(db: Session, *, actor: Principal, agreement_id: int) -> DataSharingAgreement:
    """One agreement of which the caller's organisation is a side (else ``NotFound``)."""
    require(actor, "sharing.read")
    dsa = db.get(DataSharingAgreement, agreement_id)
    if dsa is None or not (actor.is_system or may(actor, "sharing.read", dsa)):
        raise NotFound("No such data-sharing agreement.", field="agreement_id")
    return dsa


def list_agreements(db: Session, *, actor: Principal) -> list[DataSharingAgreement]:
    require(actor, "sharing.read")
    query = select(DataSharingAgreement).order_by(DataSharingAgreement.id)
    if not actor.is_system:
        query = query.where(or_(DataSharingAgreement.provider_org_id == actor.organisation_id,
                                DataSharingAgreement.recipient_org_id == actor.organisation_id))
    return [d for d in db.scalars(query) if actor.is_system or may(actor, "sharing.read", d)]


def sign(db: Session, *, actor: Principal, agreement_id: int) -> DataSharingAgreement:
    """Sign for the caller's side; the agreement is in force once both sides have signed."""
    dsa = get(db, actor=actor, agreement_id=agreement_id)
    require_may(actor, "sharing.sign", dsa, hide=False)
    if dsa.revoked_at is not None:
        raise Conflict("The agreement was revoked.", field="agreement_id")
    if dsa.expires_on < _today():
        raise Conflict("The agreement has expired.", field="agreement_id")
    side = "provider" if actor.organisation_id == dsa.provider_org_id else "recipient"
    if getattr(dsa, f"{side}_signed_at") is not None:
        raise Conflict(f"Your organisation ({side}) has already signed.", field="agreement_id")
    setattr(dsa, f"{side}_signed_by_user_id", actor.user_id)
    setattr(dsa, f"{side}_signed_at", utcnow())
    db.flush()
    audit.record(db, actor=actor, action="sharing.sign", object_type="sharing_agreement",
                 object_id=dsa.id, detail={"side": side, "fully_signed": dsa.signed})
    return dsa


def revoke(db: Session, *, actor: Principal, agreement_id: int, reason: str
           ) -> DataSharingAgreement:
    """End the agreement now; either side may (a household's data stops flowing at once)."""
    dsa = get(db, actor=actor, agreement_id=agreement_id)
    require_may(actor, "sharing.revoke", dsa, hide=False)
    if dsa.revoked_at is not None:
        raise Conflict("The agreement is already revoked.", field="agreement_id")
    dsa.revoked_at, dsa.revoked_by_user_id = utcnow(), actor.user_id
    dsa.revocation_reason = reason
    db.flush()
    audit.record(db, actor=actor, action="sharing.revoke", object_type="sharing_agreement",
                 object_id=dsa.id, detail={"reason": reason})
    return dsa


# --- reading under an agreement --------------------------------------------------------------

def _purpose(dsa: DataSharingAgreement, purpose: str) -> str:
    try:
        value = ConsentPurpose(purpose).value
    except ValueError:
        raise ValidationFailed(f"Unknown purpose {purpose!r}.", field="purpose") from None
    if value not in dsa.purposes:
        raise ValidationFailed(f"The agreement does not cover the purpose {value}; it covers "
                               f"{', '.join(dsa.purposes)}.", field="purpose")
    return value


def _covered(dsa: DataSharingAgreement) -> Any:
    """SQL: households of the provider in the agreement's zone (consent checked per purpose)."""
    query = select(Household.id).where(Household.organisation_id == dsa.provider_org_id,
                                       Household.consent_sharing.is_(True))
    if dsa.zone_id is not None:
        query = query.where(Household.site_id.in_(select(Site.id).where(
            Site.zone_id == dsa.zone_id)))
    return query


def _consented(household: Household, purpose: str) -> bool:
    return household.consent_sharing and purpose in (household.consent_purposes or [])


def masked_fields(dsa: DataSharingAgreement) -> list[str]:
    granted = set(dsa.fields)
    hidden = list(_NEVER)
    if SharedField.origin_locality.value not in granted:
        hidden.append("origin_locality")
    for field, names in _MEMBER_FIELDS.items():
        if field.value not in granted:
            hidden += [f"members.{n}" for n in names]
    return hidden


def _mask(read: HouseholdRead, hidden: list[str]) -> HouseholdRead:
    household: dict[str, Any] = {k: None for k in hidden if "." not in k}
    member: dict[str, Any] = {k.split(".", 1)[1]: None for k in hidden
                              if k.startswith("members.")}
    if "specific_needs" in member:
        member["specific_needs"] = []
    return read.model_copy(update={**household, "members": [
        m.model_copy(update=member) for m in read.members]})


def _in_force(dsa: DataSharingAgreement, actor: Principal) -> None:
    if not dsa.in_force(_today()):
        raise ValidationFailed(f"The agreement is not in force ({dsa.status(_today())}).",
                               field="agreement_id")
    require(actor, "people.personal")


def shared_households(db: Session, *, actor: Principal, agreement_id: int, purpose: str,
                      page: int = 1, page_size: int = 50,
                      cipher: FieldCipher | None = None) -> SharedPage:
    """The households an agreement in force covers for a purpose, as the recipient sees them."""
    dsa = get(db, actor=actor, agreement_id=agreement_id)
    _in_force(dsa, actor)
    purpose = _purpose(dsa, purpose)
    page, page_size = max(page, 1), min(max(page_size, 1), 100)
    candidates = list(db.scalars(select(Household).where(Household.id.in_(_covered(dsa)))
                                 .order_by(Household.registration_number)
                                 .options(selectinload(Household.members))))
    # Consent purposes are a JSON list: checked here, through the policy, for both databases.
    visible = [h for h in candidates if may(actor, "people.shared", Coverage(
        dsa, h, in_force=True, consented=_consented(h, purpose)))]
    chosen = visible[(page - 1) * page_size: page * page_size]
    items = _reads(db, actor, dsa, chosen, purpose, cipher)
    return SharedPage(agreement_id=dsa.id, purpose=purpose, total=len(visible), page=page,
                      page_size=page_size, items=items)


def shared_household(db: Session, *, actor: Principal, agreement_id: int, household_id: int,
                     purpose: str, cipher: FieldCipher | None = None) -> SharedHousehold:
    dsa = get(db, actor=actor, agreement_id=agreement_id)
    _in_force(dsa, actor)
    purpose = _purpose(dsa, purpose)
    household = db.scalar(select(Household).where(
        Household.id == household_id, Household.id.in_(_covered(dsa)))
        .options(selectinload(Household.members)))
    if household is None or not may(actor, "people.shared", Coverage(
            dsa, household, in_force=True, consented=_consented(household, purpose))):
        raise NotFound("No such household.", field="household_id")
    return _reads(db, actor, dsa, [household], purpose, cipher)[0]


def _reads(db: Session, actor: Principal, dsa: DataSharingAgreement,
           households: list[Household], purpose: str, cipher: FieldCipher | None
           ) -> list[SharedHousehold]:
    if not households:
        return []
    cipher = cipher or cipher_for()
    hidden = masked_fields(dsa)
    audit.record(db, actor=actor, action="people.read", object_type="household",
                 object_id=households[0].id if len(households) == 1 else None,
                 detail={"purpose": purpose, "sharing_agreement": dsa.id,
                         "fields": list(dsa.fields),
                         "households": [h.id for h in households],
                         "individuals": [m.id for h in households for m in h.members]})
    return [SharedHousehold(agreement_id=dsa.id, purpose=purpose, masked=hidden,
                            household=_mask(household_read(db, h, cipher), hidden))
            for h in households]


def agreements_covering(db: Session, *, household: Household, today: dt.date | None = None
                        ) -> list[DataSharingAgreement]:
    """Agreements in force that cover a household (for the subject-access report)."""
    today = today or _today()
    site_zone = db.scalar(select(Site.zone_id).where(Site.id == household.site_id))
    found = db.scalars(select(DataSharingAgreement).where(
        DataSharingAgreement.provider_org_id == household.organisation_id,
        or_(DataSharingAgreement.zone_id.is_(None),
            DataSharingAgreement.zone_id == site_zone)))
    return [d for d in found if d.in_force(today)]

