"""Checking proposed terms and putting them in the form the parties sign."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from havens.agreements import canonical
from havens.agreements.models import AgreementVersion, PartyRole
from havens.agreements.schemas import TermsIn
from havens.exceptions import Conflict, ValidationFailed
from havens.orgs import service as org_service
from havens.orgs.models import Organisation, OrgKind
from havens.zones.models import Zone


def organisation(db: Session, acronym: str, field: str) -> Organisation:
    org = org_service.get_organisation_by_acronym(db, acronym=acronym, missing_ok=True)
    if org is None:
        raise ValidationFailed(f"No organisation with acronym {acronym}.", field=field)
    return org


def build_terms(db: Session, zone: Zone, data: TermsIn, previous: AgreementVersion | None
                ) -> tuple[dict[str, Any], list[tuple[Organisation, PartyRole, bool]]]:
    """Check the terms and put them in their signed form (see :mod:`canonical`)."""
    parties: list[tuple[Organisation, PartyRole, bool]] = []
    seen: set[int] = set()
    extra = {a.strip().lower() for a in data.extra_required_signers}
    for index, party in enumerate(data.parties):
        org = organisation(db, party.organisation, f"parties[{index}].organisation")
        if org.id in seen:
            raise ValidationFailed(f"{org.acronym} is listed twice: each party has one role.",
                                   field=f"parties[{index}]")
        seen.add(org.id)
        required = (party.required_signer or org.acronym.lower() in extra
                    or party.role in (PartyRole.host_government, PartyRole.administrator))
        parties.append((org, party.role, required))
    by_role = {role: [o for o, r, _ in parties if r == role] for role in PartyRole}
    if len(by_role[PartyRole.host_government]) != 1:
        raise ValidationFailed("An agreement needs exactly one host government party.",
                               field="parties")
    host = by_role[PartyRole.host_government][0]
    if host.kind != OrgKind.host_government:
        raise ValidationFailed(f"{host.kind.value} {host.acronym} cannot be the host "
                               "government party.", field="parties")
    if len(by_role[PartyRole.administrator]) != 1:
        raise ValidationFailed("An agreement needs exactly one administrator party.",
                               field="parties")
    acronyms = {o.acronym.lower(): o for o, _, _ in parties}
    for name in extra - set(acronyms):
        raise ValidationFailed(f"Required signer {name.upper()} is not a party.",
                               field="extra_required_signers")
    if previous is not None and previous.host_government_org_id != host.id:
        raise Conflict("An amendment cannot change the host government: a different government "
                       "needs a new agreement.", field="parties")
    commitments = _commitments(data, acronyms, previous)

    def ref(org: Organisation) -> dict[str, Any]:
        return canonical.org_ref(org.acronym, org.id)

    terms: dict[str, Any] = {
        "format": canonical.TERMS_FORMAT,
        "zone_code": zone.code,
        "parties": [{"organisation": ref(o), "role": r.value, "required_signer": req}
                    for o, r, req in parties],
        "administrator": ref(by_role[PartyRole.administrator][0]),
        "supporting_organisations": [ref(o) for o in by_role[PartyRole.supporting_agency]],
        "security": {"arrangement": data.security_arrangement,
                     "flags": [f.strip() for f in data.security_flags]},
        "services": [s.strip() for s in data.services if s.strip()],
        "start_date": data.start_date.isoformat(),
        "end_date": data.end_date.isoformat(),
        "notice_period_days": data.notice_period_days,
        "commitments": commitments,
    }
    try:
        # Stored exactly as signed: the parsed canonical text.
        return json.loads(canonical.canonical_text(terms)), parties
    except canonical.CanonicalError as exc:
        raise ValidationFailed(str(exc)) from exc


def _commitments(data: TermsIn, parties: dict[str, Organisation],
                 previous: AgreementVersion | None) -> list[dict[str, Any]]:
    earlier = {(c.organisation_id, c.what.strip()): c.ref for c in
               (previous.commitments if previous else [])}
    used = {c.ref for c in (previous.commitments if previous else [])}
    used |= {c.ref for c in data.commitments if c.ref}
    result: list[dict[str, Any]] = []
    refs: set[str] = set()
    for index, item in enumerate(data.commitments):
        org = parties.get(item.party.strip().lower())
        if org is None:
            raise ValidationFailed(f"{item.party} makes a commitment but is not a party.",
                                   field=f"commitments[{index}].party")
        ref = item.ref or earlier.get((org.id, item.what.strip()))
        if ref is None:
            counter = 1
            while f"{org.acronym}-{counter}" in used:
                counter += 1
            ref = f"{org.acronym}-{counter}"
            used.add(ref)
        if ref in refs:
            raise ValidationFailed(f"Commitment reference {ref} is used twice.",
                                   field=f"commitments[{index}].ref")
        refs.add(ref)
        try:
            target = None if item.target is None else canonical.decimal_string(item.target)
        except canonical.CanonicalError as exc:
            raise ValidationFailed(f"target: {exc}", field=f"commitments[{index}].target"
                                   ) from exc
        result.append({"ref": ref, "party": canonical.org_ref(org.acronym, org.id),
                       "what": item.what, "indicator": item.indicator, "target": target,
                       "unit": item.unit,
                       "due_date": item.due_date.isoformat() if item.due_date else None})
    return result
