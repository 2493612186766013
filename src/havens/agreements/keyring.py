"""Organisations' registered Ed25519 public keys, and the server-held demo option."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from havens.agreements import keys
from havens.agreements.schemas import KeyRead
from havens.audit import service as audit
from havens.database import utcnow
from havens.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from havens.orgs.models import Organisation, OrganisationKey
from havens.orgs.permissions import Principal, require


def key_read(key: OrganisationKey) -> KeyRead:
    return KeyRead(id=key.id, organisation_id=key.organisation_id, key_id=key.key_id,
                   public_key=key.public_key, server_held=is_server_held(key),
                   created_at=key.created_at, revoked_at=key.revoked_at)


def is_server_held(key: OrganisationKey) -> bool:
    return key.private_key_encrypted is not None


def _organisation_to_manage(db: Session, actor: Principal, organisation_id: int) -> Organisation:
    require(actor, "orgs.manage")
    org = db.get(Organisation, organisation_id)
    # An organisation's administrator manages its own keys only; the operator manages all.
    if org is None or (not actor.is_system and actor.organisation_id != organisation_id):
        raise NotFound("No such organisation.")
    return org


def register_key(db: Session, *, actor: Principal, organisation_id: int, public_key: str
                 ) -> OrganisationKey:
    """Register a public key whose private key the organisation keeps on its own machine."""
    org = _organisation_to_manage(db, actor, organisation_id)
    try:
        public = keys.normalise_public(public_key)
    except keys.KeyFormatError as exc:
        raise ValidationFailed(f"public_key: {exc}", field="public_key") from exc
    return _add_key(db, actor, org, public, sealed=None)


def create_server_held_key(db: Session, *, actor: Principal, organisation_id: int,
                           secret: str) -> OrganisationKey:
    """Demo/low-security option: a key pair whose private half the server keeps, encrypted
    under the instance's secret key. Signatures made with it are flagged ``server_held``."""
    org = _organisation_to_manage(db, actor, organisation_id)
    private = keys.generate()
    public = keys.public_b64(private)
    sealed = keys.seal_private(private, secret=secret, key_id=keys.key_id_of(public))
    return _add_key(db, actor, org, public, sealed=sealed)


def _add_key(db: Session, actor: Principal, org: Organisation, public: str,
             sealed: str | None) -> OrganisationKey:
    key_id = keys.key_id_of(public)
    existing = db.scalar(select(OrganisationKey).where(OrganisationKey.key_id == key_id))
    if existing is not None:
        raise Conflict("This public key is already registered"
                       + ("." if existing.organisation_id == org.id
                          else " to another organisation."), field="public_key")
    key = OrganisationKey(organisation_id=org.id, key_id=key_id, public_key=public,
                          private_key_encrypted=sealed)
    db.add(key)
    db.flush()
    audit.record(db, actor=actor, action="org.key.register", object_type="organisation_key",
                 object_id=key.id, detail={"org": org.acronym, "key_id": key_id,
                                           "server_held": sealed is not None})
    return key


def revoke_key(db: Session, *, actor: Principal, organisation_id: int, key_id: str
               ) -> OrganisationKey:
    """Refuse new signatures with the key; signatures made before stay valid."""
    org = _organisation_to_manage(db, actor, organisation_id)
    key = db.scalar(select(OrganisationKey).where(OrganisationKey.key_id == key_id,
                                                  OrganisationKey.organisation_id == org.id))
    if key is None:
        raise NotFound("No such key.", field="key_id")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.flush()
        audit.record(db, actor=actor, action="org.key.revoke", object_type="organisation_key",
                     object_id=key.id, detail={"org": org.acronym, "key_id": key_id})
    return key


def list_keys(db: Session, *, actor: Principal, organisation_id: int) -> list[OrganisationKey]:
    """Public keys are public: anyone who may read organisations may read them."""
    require(actor, "orgs.read")
    if db.get(Organisation, organisation_id) is None:
        raise NotFound("No such organisation.")
    return list(db.scalars(select(OrganisationKey)
                           .where(OrganisationKey.organisation_id == organisation_id)
                           .order_by(OrganisationKey.created_at, OrganisationKey.id)))


def signing_key(db: Session, *, key_id: str) -> OrganisationKey:
    key = db.scalar(select(OrganisationKey).where(OrganisationKey.key_id == key_id))
    if key is None:
        raise ValidationFailed(f"Key {key_id[:12]}… is not registered in Havens.",
                               field="key_id")
    if key.revoked_at is not None:
        raise PermissionDenied(f"Key {key_id[:12]}… of {key.organisation.acronym} was revoked "
                               f"on {key.revoked_at:%Y-%m-%d}.", code="key_revoked")
    return key


def server_held_key(db: Session, *, organisation_id: int) -> OrganisationKey:
    key = db.scalar(select(OrganisationKey).where(
        OrganisationKey.organisation_id == organisation_id,
        OrganisationKey.private_key_encrypted.is_not(None),
        OrganisationKey.revoked_at.is_(None)).order_by(OrganisationKey.id.desc()).limit(1))
    if key is None:
        raise Conflict("This organisation has no server-held key: sign with "
                       "'havens agreements sign' on your own machine.")
    return key
