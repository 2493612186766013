"""Demo agreements for the demo zones, signed with server-held demo keys.

- ``SZ-SY07-001``: operational under a fully signed agreement (host government MOLAE,
  administrator UNHCR, supporting IOM/NRC/SARC, guarantor TR-MFA, observer DE-FFO).
- ``SZ-SY02-001``: negotiating; an amendment is waiting for the host government's signature.
- ``SZ-SY07-002``: closing after MOLAE withdrew consent (90 days' notice).

A zone the zones demo did not create (or not in ``proposed`` state) is skipped quietly.
Server-held keys are the documented demo/low-security option: every demo signature is flagged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import keyring, service
from havens.agreements.schemas import AgreementPropose, TermsIn, WithdrawIn
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrganisationKey
from havens.orgs.permissions import Principal
from havens.zones.models import Zone, ZoneStatus

ORGS = ("MOLAE", "UNHCR", "IOM", "NRC", "SARC", "TR-MFA", "DE-FFO")
LIAISON = "liaison@molae.demo.havens.org"

PARTIES = [
    {"organisation": "MOLAE", "role": "host_government"},
    {"organisation": "UNHCR", "role": "administrator"},
    {"organisation": "IOM", "role": "supporting_agency"},
    {"organisation": "NRC", "role": "supporting_agency"},
    {"organisation": "SARC", "role": "supporting_agency"},
    {"organisation": "TR-MFA", "role": "guarantor", "required_signer": True},
    {"organisation": "DE-FFO", "role": "observer"},
]

COMMITMENTS = [
    {"party": "IOM", "what": "Safe water: 15 litres per person per day",
     "indicator": "water_lpd", "target": 15, "unit": "l/person/day", "due_date": "2027-01-01"},
    {"party": "NRC", "what": "Covered living space of 3.5 m² per person",
     "indicator": "covered_area_m2_pp", "target": "3.5", "unit": "m²/person"},
    {"party": "SARC", "what": "Primary health care point open six days a week",
     "indicator": "health_days_per_week", "target": 6, "unit": "days/week"},
    {"party": "UNHCR", "what": "Registration of every household within 30 days of arrival",
     "indicator": "registration_days", "target": 30, "unit": "days"},
    {"party": "TR-MFA", "what": "No armed presence inside the zone; guarantee of safe access",
     "indicator": "armed_presence_incidents", "target": 0, "unit": "incidents"},
]


def _terms(start: dt.date, **overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "parties": PARTIES,
        "security_arrangement": (
            "Civilian character of the zone. No armed actors inside the boundary; local civil "
            "police at access points only. Incidents reported to the guarantor within 24 hours."),
        "security_flags": ["no_armed_presence", "civilian_police_at_access_points",
                           "humanitarian_access_guaranteed"],
        "services": ["water", "sanitation", "shelter", "health", "protection", "registration"],
        "start_date": start.isoformat(),
        "end_date": (start.replace(year=start.year + 3) - dt.timedelta(days=1)).isoformat(),
        "notice_period_days": 90,
        "commitments": COMMITMENTS,
    }
    terms.update(overrides)
    return terms


def load(db: Session, *, actor: Principal, secret: str | None = None) -> None:
    if secret is None:
        from havens.config import get_settings

        secret = get_settings().resolved_secret_key()
    orgs = {a: org_service.get_organisation_by_acronym(db, acronym=a, missing_ok=True)
            for a in ORGS}
    if any(org is None for org in orgs.values()):
        return
    for org in orgs.values():
        assert org is not None
        _ensure_server_key(db, actor, org, secret)
    # The demo tells a story that began four months ago: terms start then, parties signed
    # within the first week, and the withdrawal is today.
    now = dt.datetime.now(dt.UTC)
    start = now.date() - dt.timedelta(days=120)
    signed_on = now - dt.timedelta(days=116)
    zones = {z.code: z for z in db.scalars(select(Zone).where(Zone.code.in_(
        ["SZ-SY07-001", "SZ-SY02-001", "SZ-SY07-002"])))
        if z.status in (ZoneStatus.proposed, ZoneStatus.negotiating)}

    def propose(code: str, **overrides: Any) -> Any:
        agreement = service.propose(db, actor=actor, data=AgreementPropose.model_validate(
            {"zone": code, **_terms(start, **overrides)}, strict=False))
        # The proposal is part of the story too: made before the signatures.
        agreement.versions[0].created_at = signed_on - dt.timedelta(days=3)
        return agreement

    def sign(version: Any, *acronyms: str, when: dt.datetime = signed_on) -> None:
        for acronym in acronyms:
            org = orgs[acronym]
            assert org is not None
            service.sign_with_server_key(db, actor=actor, version=version, secret=secret,
                                         organisation_id=org.id, now=when)

    if zone := zones.get("SZ-SY07-001"):
        agreement = propose(zone.code, note="Agreement as negotiated in Gaziantep")
        # Supporting agencies sign first: once the required signers have, it is closed.
        sign(agreement.versions[0], "IOM", "NRC", "SARC", "UNHCR", "TR-MFA", "MOLAE")
        service.transition_zone(db, actor=actor, agreement_id=agreement.id,
                                to=ZoneStatus.operational,
                                reason="Sites ready; first services delivered")

    if zone := zones.get("SZ-SY02-001"):
        agreement = propose(zone.code, notice_period_days=60)
        sign(agreement.versions[0], "UNHCR", "IOM")
        amendment = service.amend(db, actor=actor, agreement_id=agreement.id,
                                  data=TermsIn.model_validate(_terms(
                                      start, notice_period_days=120,
                                      note="MOLAE asks for a longer notice period"),
                                      strict=False))
        sign(amendment, "UNHCR", "TR-MFA", when=now)  # waiting for MOLAE

    if zone := zones.get("SZ-SY07-002"):
        agreement = propose(zone.code)
        sign(agreement.versions[0], "MOLAE", "UNHCR", "TR-MFA")
        service.transition_zone(db, actor=actor, agreement_id=agreement.id,
                                to=ZoneStatus.operational, reason="Opened")
        liaison = org_service.get_user_by_email(db, email=LIAISON)
        if liaison is not None:
            service.withdraw(db, actor=org_service.principal_for(liaison),
                             agreement_id=agreement.id, data=WithdrawIn(
                                 reason="Front line moved: the ministry can no longer guarantee "
                                        "the civilian character of the area"))


def _ensure_server_key(db: Session, actor: Principal, org: Organisation, secret: str) -> None:
    has_key = db.scalar(select(OrganisationKey.id).where(
        OrganisationKey.organisation_id == org.id,
        OrganisationKey.private_key_encrypted.is_not(None),
        OrganisationKey.revoked_at.is_(None)))
    if has_key is None:
        keyring.create_server_held_key(db, actor=actor, organisation_id=org.id, secret=secret)
