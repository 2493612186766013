"""Agreement pages: sign with a server-held key, verify, diff, withdraw with confirmation."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from havens.agreements import keyring
from havens.agreements import service as agreement_service
from havens.agreements.schemas import AgreementPropose, TermsIn
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import Principal
from havens.zones.models import Zone
from tests.web.test_pages import _csrf, log_in


def _setup(db: Session, system: Principal, settings, make_org, make_user) -> dict[str, object]:
    host = make_org("MOL", kind=OrgKind.host_government)
    admin_org = make_org("UNA", kind=OrgKind.un_agency)
    users = {"liaison": make_user(Role.government_liaison, org=host),
             "coordinator": make_user(Role.coordinator, org=admin_org)}
    for org in (host, admin_org):
        keyring.create_server_held_key(db, actor=system, organisation_id=org.id,
                                       secret=settings.resolved_secret_key())
    zone = Zone(code="SZ-T-100", name_en="Web test zone")
    db.add(zone)
    db.flush()
    today = dt.date.today()
    terms = {"parties": [{"organisation": "MOL", "role": "host_government"},
                         {"organisation": "UNA", "role": "administrator"}],
             "security_arrangement": "Civil police only.", "security_flags": ["no_armed_presence"],
             "services": ["water"], "start_date": (today - dt.timedelta(days=1)).isoformat(),
             "end_date": (today + dt.timedelta(days=365)).isoformat(),
             "notice_period_days": 60, "commitments": []}
    agreement = agreement_service.propose(db, actor=system, data=AgreementPropose.model_validate(
        {**terms, "zone": "SZ-T-100"}, strict=False))
    agreement_service.amend(db, actor=system, agreement_id=agreement.id,
                            data=TermsIn.model_validate({**terms, "notice_period_days": 90},
                                                        strict=False))
    db.flush()
    return users


def _sign(client: TestClient, number: int) -> None:
    page = client.get(f"/zones/SZ-T-100/agreement?version={number}").text
    assert 'id="sign-button"' in page
    response = client.post(f"/zones/SZ-T-100/agreement/versions/{number}/sign",
                           data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert response.status_code == 303, response.text


def test_sign_verify_diff_and_withdraw(client: TestClient, db: Session, system: Principal,
                                       settings, make_org, make_user) -> None:
    users = _setup(db, system, settings, make_org, make_user)
    log_in(client, users["coordinator"].email)
    _sign(client, 2)
    page = client.get("/zones/SZ-T-100/agreement?version=2").text
    assert "pending" in page and 'id="sign-button"' not in page
    diff = client.get("/zones/SZ-T-100/agreement/diff?a=1&b=2").text
    assert "notice_period_days" in diff and "<del>60</del>" in diff and "<ins>90</ins>" in diff
    client.post("/logout", data={"csrf_token": _csrf(page)})

    log_in(client, users["liaison"].email)
    _sign(client, 2)
    page = client.get("/zones/SZ-T-100/agreement").text
    assert re.search(r'id="in-force">\s*2<', page)
    assert 'id="zone-status">consented' in page
    verified = client.get("/zones/SZ-T-100/agreement/verify").text
    assert 'id="verify-ok"' in verified and "server-held" in verified

    confirm = client.get("/zones/SZ-T-100/agreement/withdraw").text
    wrong = client.post("/zones/SZ-T-100/agreement/withdraw", data={
        "csrf_token": _csrf(confirm), "reason": "Security situation changed.",
        "confirm_code": "SZ-T-999"})
    assert wrong.status_code == 422 and 'id="withdraw-error"' in wrong.text
    done = client.post("/zones/SZ-T-100/agreement/withdraw", data={
        "csrf_token": _csrf(confirm), "reason": "Security situation changed.",
        "confirm_code": "sz-t-100"}, follow_redirects=False)
    assert done.status_code == 303
    assert 'id="zone-status">closing' in client.get("/zones/SZ-T-100/agreement").text


def test_only_the_host_government_sees_withdrawal(client: TestClient, db: Session,
                                                  system: Principal, settings, make_org,
                                                  make_user) -> None:
    users = _setup(db, system, settings, make_org, make_user)
    log_in(client, users["coordinator"].email)
    page = client.get("/zones/SZ-T-100/agreement").text
    assert 'id="withdraw-link"' not in page
    response = client.post("/zones/SZ-T-100/agreement/withdraw", data={
        "csrf_token": _csrf(page), "reason": "Not ours to withdraw.", "confirm_code": "SZ-T-100"})
    assert response.status_code in (403, 409)
