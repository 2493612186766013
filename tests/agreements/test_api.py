"""The HTTP API: permissions, scoping (404 for non-parties), signing, diff, keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from havens.agreements import keys
from havens.orgs.models import Role, User
from havens.zones.models import Zone
from tests.agreements.conftest import Cast, terms

API = "/api/v1"


def _propose(client: TestClient, headers: dict[str, str], zone: str, **overrides: Any) -> Any:
    body = {"zone": zone, **terms(start_date="2026-01-01", end_date="2035-12-31", **overrides)}
    return client.post(f"{API}/agreements", json=body, headers=headers)


def _sign(client: TestClient, headers: dict[str, str], cast: Cast, agreement_id: int,
          number: int, signer: str, key_of: str | None = None) -> Any:
    version = client.get(f"{API}/agreements/{agreement_id}/versions/{number}",
                         headers=headers).json()
    key = cast[key_of or signer]
    signature = keys.sign(key.key, version["signing_message"].encode())
    return client.post(f"{API}/agreements/{agreement_id}/versions/{number}/signatures",
                       json={"key_id": key.key_id, "signature": signature}, headers=headers)


def test_negotiate_sign_and_read_over_http(client: TestClient, cast: Cast,
                                           make_zone: Callable[..., Zone],
                                           token_for: Callable[[User], dict[str, str]]) -> None:
    make_zone("SZ-API-1")
    una, mol = token_for(cast["UNA"].user), token_for(cast["MOL"].user)
    created = _propose(client, una, "SZ-API-1")
    assert created.status_code == 201, created.text
    agreement = created.json()
    assert agreement["zone_status"] == "negotiating" and agreement["version_in_force"] is None
    aid = agreement["id"]

    refused = _sign(client, una, cast, aid, 1, "UNA", key_of="MOL")
    assert refused.status_code == 403 and "registered to MOL" in refused.json()["error"]["message"]
    assert _sign(client, mol, cast, aid, 1, "MOL").status_code == 201
    version = client.get(f"{API}/agreements/{aid}/versions/1", headers=una).json()
    assert [p["acronym"] for p in version["pending_signers"]] == ["UNA"]
    assert version["hash"] in version["signing_message"]
    assert version["commitments"][0]["ref"] == "NGO-1"
    assert _sign(client, una, cast, aid, 1, "UNA").status_code == 201
    agreement = client.get(f"{API}/agreements/{aid}", headers=una).json()
    assert agreement["zone_status"] == "consented" and agreement["version_in_force"] == 1
    assert agreement["administrator"]["acronym"] == "UNA"

    amended = client.post(f"{API}/agreements/{aid}/versions", headers=mol, json=terms(
        start_date="2026-01-01", end_date="2035-12-31", notice_period_days=120))
    assert amended.status_code == 201, amended.text
    diff = client.get(f"{API}/agreements/{aid}/versions/1/diff/2", headers=una).json()
    assert diff["changes"] == [{"path": "notice_period_days", "change": "changed",
                                "old": 90, "new": 120}]
    moved = client.post(f"{API}/agreements/{aid}/transitions", headers=una,
                        json={"to": "operational", "reason": "sites ready"})
    assert moved.status_code == 200 and moved.json()["status"] == "operational"
    bad = client.post(f"{API}/agreements/{aid}/transitions", headers=una,
                      json={"to": "closed", "reason": "not yet"})
    assert bad.status_code == 409

    assert client.post(f"{API}/agreements/{aid}/withdrawals", headers=una,
                       json={"reason": "not ours"}).status_code == 403
    withdrawn = client.post(f"{API}/agreements/{aid}/withdrawals", headers=mol,
                            json={"reason": "front line moved"})
    assert withdrawn.status_code == 201, withdrawn.text
    assert client.get(f"{API}/agreements/{aid}", headers=una).json()["zone_status"] == "closing"
    exported = client.get(f"{API}/agreements/{aid}/export", headers=una).json()
    assert exported["format"] == "havens-agreement-export/1" and len(exported["versions"]) == 2


def test_non_parties_get_404_and_roles_are_checked(
        client: TestClient, cast: Cast, make_zone: Callable[..., Zone],
        make_user: Callable[..., User], token_for: Callable[[User], dict[str, str]]) -> None:
    make_zone("SZ-API-2")
    una = token_for(cast["UNA"].user)
    aid = _propose(client, una, "SZ-API-2").json()["id"]
    outsider = token_for(cast["OUT"].user)
    assert client.get(f"{API}/agreements/{aid}", headers=outsider).status_code == 404
    assert client.get(f"{API}/agreements/{aid}/versions/1", headers=outsider).status_code == 404
    assert client.get(f"{API}/agreements/{aid}/export", headers=outsider).status_code == 404
    assert client.get(f"{API}/agreements", headers=outsider).json() == []
    assert client.get(f"{API}/agreements?zone=SZ-API-2", headers=outsider).status_code == 404
    forged = client.post(f"{API}/agreements/{aid}/versions/1/signatures", headers=outsider,
                         json={"key_id": cast["OUT"].key_id, "signature": "A" * 88})
    assert forged.status_code == 404
    # A party's viewer reads, but may not negotiate.
    viewer = token_for(make_user(Role.viewer, org=cast["NGO"].org))
    assert client.get(f"{API}/agreements/{aid}", headers=viewer).status_code == 200
    assert client.post(f"{API}/agreements/{aid}/versions", headers=viewer,
                       json=terms()).status_code == 403
    # An outsider cannot propose an agreement it is not a party of.
    make_zone("SZ-API-3")
    assert _propose(client, outsider, "SZ-API-3").status_code == 403
    # Strict input: a number as a string is refused, naming the field.
    bad = _propose(client, una, "SZ-API-3", notice_period_days="90")
    assert bad.status_code == 422
    missing_host = _propose(client, una, "SZ-API-3", parties=[
        {"organisation": "UNA", "role": "administrator"},
        {"organisation": "NGO", "role": "supporting_agency"}], commitments=[])
    assert missing_host.status_code == 422
    assert "exactly one host government" in missing_host.json()["error"]["message"]


def test_key_registration_by_the_organisations_admin(
        client: TestClient, cast: Cast, make_user: Callable[..., User],
        token_for: Callable[[User], dict[str, str]]) -> None:
    org_id = cast["UNA"].org.id
    public = keys.public_b64(keys.generate())
    coordinator = token_for(cast["UNA"].user)
    admin = token_for(make_user(Role.admin, org=cast["UNA"].org))
    url = f"{API}/organisations/{org_id}/keys"
    assert client.post(url, json={"public_key": public}, headers=coordinator).status_code == 403
    other = f"{API}/organisations/{cast['NGO'].org.id}/keys"
    assert client.post(other, json={"public_key": public}, headers=admin).status_code == 404
    created = client.post(url, json={"public_key": public}, headers=admin)
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key_id"] == keys.key_id_of(public) and key["server_held"] is False
    assert client.post(url, json={"public_key": public}, headers=admin).status_code == 409
    listed = client.get(url, headers=coordinator).json()
    assert {k["key_id"] for k in listed} == {cast["UNA"].key_id, key["key_id"]}
    revoked = client.delete(f"{url}/{key['key_id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    garbage = client.post(url, json={"public_key": "x" * 44}, headers=admin)
    assert garbage.status_code == 422
