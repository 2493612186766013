"""Data-sharing agreements: proposed by the registering organisation, signed by both sides,
read by the recipient only for consented purposes, with fields not granted masked, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from havens.audit.models import AuditRecord
from havens.cli.main import app
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Role, User
from havens.orgs.permissions import Principal
from havens.people import service as people_service
from havens.people.crypto import FieldCipher
from havens.people.schemas import HouseholdCreate
from havens.sharing import service
from havens.sharing.schemas import DsaCreate
from tests.conftest import principal
from tests.people.conftest import RealDatabase, World, household_payload

TODAY = dt.date.today()


def _register(db: Session, world: World, cipher: FieldCipher, ref: str,
              purposes: list[str], sharing: bool = True) -> int:
    payload = household_payload(world.sites[0], household_ref=ref)
    payload["consent"] = {"registration": True, "sharing": sharing, "purposes": purposes,
                          "given_by": "head"}
    return people_service.register_household(
        db, actor=world.p(world.registrar), data=HouseholdCreate.model_validate(payload),
        cipher=cipher).id


def _dsa(world: World, **overrides: object) -> DsaCreate:
    data: dict[str, object] = {
        "recipient": world.sarc.acronym, "zone_code": world.zone.code,
        "purposes": ["protection"], "fields": ["names", "phone"],
        "starts_on": TODAY - dt.timedelta(days=1), "expires_on": TODAY + dt.timedelta(days=90)}
    data.update(overrides)
    return DsaCreate.model_validate(data)


@pytest.fixture
def sarc_coordinator(world: World, make_user: Callable[..., User]) -> User:
    return make_user(Role.coordinator, org=world.sarc)


def _signed(db: Session, world: World, sarc_coordinator: User, **overrides: object) -> int:
    dsa = service.propose(db, actor=world.p(world.coordinator), data=_dsa(world, **overrides))
    service.sign(db, actor=world.p(world.coordinator), agreement_id=dsa.id)
    service.sign(db, actor=principal(sarc_coordinator), agreement_id=dsa.id)
    return dsa.id


def test_recipient_reads_only_consented_households_with_fields_masked(
        db: Session, world: World, cipher: FieldCipher, sarc_coordinator: User) -> None:
    shared = _register(db, world, cipher, "SH-1", ["assistance", "protection"])
    _register(db, world, cipher, "SH-2", ["assistance"])            # not for protection
    _register(db, world, cipher, "SH-3", ["protection"], sharing=False)  # no sharing at all
    dsa_id = _signed(db, world, sarc_coordinator)
    reader = principal(sarc_coordinator)

    page = service.shared_households(db, actor=reader, agreement_id=dsa_id,
                                     purpose="protection", cipher=cipher)
    assert page.total == 1 and page.items[0].household.id == shared
    head = page.items[0].household.members[0]
    assert head.given_name_en == "Mohammad" and head.phone == "+963944123456"
    # Not granted: dates of birth (the year stays), documents, needs; never the shelter.
    assert head.date_of_birth is None and head.birth_year == 1985
    assert head.document_number is None and head.document_type is None
    assert head.specific_needs == []
    assert page.items[0].household.household_ref is None
    assert "members.document_number" in page.items[0].masked

    # A purpose the agreement does not cover is refused; a household without consent is hidden.
    with pytest.raises(ValidationFailed):
        service.shared_households(db, actor=reader, agreement_id=dsa_id, purpose="assistance")
    record = db.scalars(select(AuditRecord).where(AuditRecord.action == "people.read")
                        .order_by(AuditRecord.seq.desc())).first()
    assert record is not None and record.detail["sharing_agreement"] == dsa_id
    assert record.detail["households"] == [shared] and record.actor_user_id == \
        sarc_coordinator.id


def test_nothing_flows_before_both_signatures_or_after_revocation(
        db: Session, world: World, cipher: FieldCipher, sarc_coordinator: User) -> None:
    household = _register(db, world, cipher, "SH-4", ["protection"])
    dsa = service.propose(db, actor=world.p(world.coordinator), data=_dsa(world))
    reader = principal(sarc_coordinator)
    service.sign(db, actor=world.p(world.coordinator), agreement_id=dsa.id)
    with pytest.raises(ValidationFailed, match="awaiting_signatures"):
        service.shared_household(db, actor=reader, agreement_id=dsa.id,
                                 household_id=household, purpose="protection")
    with pytest.raises(Conflict):  # one signature per side
        service.sign(db, actor=world.p(world.coordinator), agreement_id=dsa.id)
    service.sign(db, actor=reader, agreement_id=dsa.id)
    assert service.shared_household(db, actor=reader, agreement_id=dsa.id,
                                    household_id=household, purpose="protection",
                                    cipher=cipher).household.id == household
    service.revoke(db, actor=reader, agreement_id=dsa.id, reason="project closed")
    with pytest.raises(ValidationFailed, match="revoked"):
        service.shared_household(db, actor=reader, agreement_id=dsa.id,
                                 household_id=household, purpose="protection")
    actions = list(db.scalars(select(AuditRecord.action).where(
        AuditRecord.object_type == "sharing_agreement", AuditRecord.object_id == str(dsa.id))))
    assert actions == ["sharing.propose", "sharing.sign", "sharing.sign", "sharing.revoke"]


def test_who_may_propose_sign_and_see(db: Session, world: World, cipher: FieldCipher,
                                      sarc_coordinator: User,
                                      make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):  # a registrar may not commit the organisation
        service.propose(db, actor=world.p(world.registrar), data=_dsa(world))
    with pytest.raises(PermissionDenied):  # the operator acts for no organisation
        service.propose(db, actor=service_system(), data=_dsa(world))
    dsa = service.propose(db, actor=world.p(world.coordinator), data=_dsa(world))
    # Third parties do not learn that the agreement exists.
    with pytest.raises(NotFound):
        service.get(db, actor=world.p(world.liaison), agreement_id=dsa.id)
    assert service.list_agreements(db, actor=world.p(world.liaison)) == []
    with pytest.raises(PermissionDenied):  # a SARC registrar may see it but not sign it
        service.sign(db, actor=principal(make_user(Role.registrar, org=world.sarc)),
                     agreement_id=dsa.id)
    # A SARC viewer of a signed agreement still has no personal-data role.
    service.sign(db, actor=world.p(world.coordinator), agreement_id=dsa.id)
    service.sign(db, actor=principal(sarc_coordinator), agreement_id=dsa.id)
    household = _register(db, world, cipher, "SH-5", ["protection"])
    with pytest.raises(PermissionDenied):
        service.shared_household(db, actor=principal(make_user(Role.viewer, org=world.sarc)),
                                 agreement_id=dsa.id, household_id=household,
                                 purpose="protection")
    # The provider's own users read through the people service, not through an agreement.
    with pytest.raises(NotFound):
        service.shared_household(db, actor=world.p(world.registrar), agreement_id=dsa.id,
                                 household_id=household, purpose="protection")


def test_host_government_sees_households_only_under_an_agreement(
        db: Session, world: World, cipher: FieldCipher,
        make_user: Callable[..., User]) -> None:
    household = _register(db, world, cipher, "SH-6", ["durable_solutions"])
    gov_org = world.liaison.organisation
    gov_officer = make_user(Role.protection_officer, org=gov_org)
    with pytest.raises(NotFound):
        people_service.get_household(db, actor=principal(gov_officer), household_id=household)
    dsa = service.propose(db, actor=world.p(world.coordinator), data=_dsa(
        world, recipient=gov_org.acronym, purposes=["durable_solutions"], fields=[]))
    service.sign(db, actor=world.p(world.coordinator), agreement_id=dsa.id)
    service.sign(db, actor=world.p(world.liaison), agreement_id=dsa.id)
    with pytest.raises(PermissionDenied):  # the liaison signs, but has no personal-data role
        service.shared_household(db, actor=world.p(world.liaison), agreement_id=dsa.id,
                                 household_id=household, purpose="durable_solutions")
    seen = service.shared_household(db, actor=principal(gov_officer), agreement_id=dsa.id,
                                    household_id=household, purpose="durable_solutions",
                                    cipher=cipher)
    assert all(m.given_name_en is None and m.phone is None for m in seen.household.members)


def test_dates_and_zone_are_checked(db: Session, world: World) -> None:
    with pytest.raises(ValidationFailed):
        service.propose(db, actor=world.p(world.coordinator), data=_dsa(
            world, expires_on=TODAY - dt.timedelta(days=5)))
    with pytest.raises(ValidationFailed):
        service.propose(db, actor=world.p(world.coordinator), data=_dsa(
            world, expires_on=TODAY + dt.timedelta(days=1000)))
    with pytest.raises(NotFound):
        service.propose(db, actor=world.p(world.coordinator), data=_dsa(world, zone_code="NOPE"))
    with pytest.raises(ValidationFailed):
        service.propose(db, actor=world.p(world.coordinator), data=_dsa(
            world, recipient=world.unhcr.acronym))


def test_api_round_trip(client: TestClient, db: Session, world: World, cipher: FieldCipher,
                        sarc_coordinator: User,
                        token_for: Callable[[User], dict[str, str]]) -> None:
    household = _register(db, world, cipher, "SH-7", ["protection"])
    provider, recipient = token_for(world.coordinator), token_for(sarc_coordinator)
    body = {"recipient": world.sarc.acronym, "zone_code": None, "purposes": ["protection"],
            "fields": ["documents"], "starts_on": TODAY.isoformat(),
            "expires_on": (TODAY + dt.timedelta(days=30)).isoformat()}
    created = client.post("/api/v1/sharing-agreements", json=body, headers=provider)
    assert created.status_code == 201, created.text
    dsa_id = created.json()["id"]
    assert client.post(f"/api/v1/sharing-agreements/{dsa_id}/sign",
                       headers=provider).status_code == 200
    signed = client.post(f"/api/v1/sharing-agreements/{dsa_id}/sign", headers=recipient)
    assert signed.json()["status"] == "in_force"
    url = f"/api/v1/sharing-agreements/{dsa_id}/households/{household}?purpose=protection"
    shown = client.get(url, headers=recipient)
    assert shown.status_code == 200
    head = shown.json()["household"]["members"][0]
    assert head["document_number"] == "0123456789" and head["given_name_en"] is None
    assert client.get(url, headers=token_for(world.other_registrar)).status_code == 200
    assert client.get(url, headers=token_for(world.liaison)).status_code == 404
    assert client.get("/api/v1/sharing-agreements/2147483648",
                      headers=recipient).status_code == 422


def service_system() -> Principal:


    return Principal.system()


def test_cli_propose_sign_list_revoke(real_db: RealDatabase) -> None:
    from havens.database import session_scope
    from havens.orgs import service as org_service
    from havens.orgs.schemas import UserCreate
    from tests.conftest import PASSWORD

    with session_scope(real_db.url) as db:
        org_service.create_user(db, actor=Principal.system(), data=UserCreate(
            email="coord@unhcr.example.org", display_name="coord", organisation="UNHCR",
            role=Role.coordinator, password=PASSWORD))
    runner = CliRunner()
    expires = (TODAY + dt.timedelta(days=60)).isoformat()
    proposed = runner.invoke(app, [
        "sharing", "propose", "--recipient", "MOLAE", "--purpose", "durable_solutions",
        "--field", "names", "--expires", expires, "--as", "coord@unhcr.example.org"])
    assert proposed.exit_code == 0, proposed.output
    assert "DSA 1" in proposed.output and "awaiting_signatures" in proposed.output
    refused = runner.invoke(app, ["sharing", "sign", "1", "--as", real_db.registrar_email])
    assert refused.exit_code == 2 and "may not" in refused.output
    for email in ("coord@unhcr.example.org", real_db.liaison_email):
        assert runner.invoke(app, ["sharing", "sign", "1", "--as", email]).exit_code == 0
    listed = runner.invoke(app, ["sharing", "list"])
    assert "in_force" in listed.output and "MOLAE" in listed.output
    revoked = runner.invoke(app, ["sharing", "revoke", "1", "--reason", "review failed",
                                  "--as", real_db.liaison_email])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
