"""Organisations, users, API tokens, browser sessions and login with rate limiting."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.config import Settings
from havens.database import utcnow
from havens.exceptions import AuthenticationRequired, Conflict, NotFound, RateLimited
from havens.orgs import security
from havens.orgs.models import (
    ApiToken,
    LoginFailure,
    Organisation,
    Role,
    User,
    WebSession,
)
from havens.orgs.permissions import Principal, can, require
from havens.orgs.schemas import OrganisationCreate, TokenCreate, UserCreate, UserUpdate


def principal_for(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        organisation_id=user.organisation_id,
        role=user.role,
        org_kind=user.organisation.kind,
        email=user.email,
    )


# --- organisations ---------------------------------------------------------------------------

def create_organisation(db: Session, *, actor: Principal, data: OrganisationCreate) -> Organisation:
    require(actor, "orgs.manage")
    if get_organisation_by_acronym(db, acronym=data.acronym, missing_ok=True):
        raise Conflict(f"An organisation with acronym {data.acronym} exists.", field="acronym")
    org = Organisation(**data.model_dump())
    db.add(org)
    db.flush()
    audit.record(db, actor=actor, action="org.create", object_type="organisation",
                 object_id=org.id, detail={"acronym": org.acronym, "kind": org.kind.value})
    return org


def list_organisations(db: Session, *, actor: Principal) -> list[Organisation]:
    require(actor, "orgs.read")
    return list(db.scalars(select(Organisation).order_by(Organisation.name)))


def get_organisation(db: Session, *, actor: Principal, organisation_id: int) -> Organisation:
    require(actor, "orgs.read")
    org = db.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("No such organisation.")
    return org


def get_organisation_by_acronym(
    db: Session, *, acronym: str, missing_ok: bool = False
) -> Organisation | None:
    org = db.scalar(
        select(Organisation).where(func.lower(Organisation.acronym) == acronym.lower())
    )
    if org is None and not missing_ok:
        raise NotFound(f"No organisation with acronym {acronym}.", field="organisation")
    return org


# --- users -----------------------------------------------------------------------------------

def _normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(db: Session, *, actor: Principal, data: UserCreate) -> User:
    require(actor, "users.manage")
    org = get_organisation_by_acronym(db, acronym=data.organisation)
    assert org is not None
    _require_same_org(actor, org.id)
    email = _normalise_email(data.email)
    if db.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with email {email} exists.", field="email")
    user = User(
        email=email,
        display_name=data.display_name,
        organisation_id=org.id,
        role=data.role,
        password_hash=security.hash_password(data.password),
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent create of the same email
        raise Conflict(f"A user with email {email} exists.", field="email") from exc
    audit.record(db, actor=actor, action="user.create", object_type="user", object_id=user.id,
                 detail={"email": email, "org": org.acronym, "role": data.role.value})
    return user


def _require_same_org(actor: Principal, organisation_id: int) -> None:
    # An organisation's administrator manages its own people; the operator manages all.
    if not actor.is_system and actor.organisation_id != organisation_id:
        raise NotFound("No such user.")


def list_users(db: Session, *, actor: Principal) -> list[User]:
    require(actor, "users.manage")
    query = select(User).order_by(User.email)
    if not actor.is_system:
        query = query.where(User.organisation_id == actor.organisation_id)
    return list(db.scalars(query))


def get_user(db: Session, *, actor: Principal, user_id: int) -> User:
    require(actor, "users.manage")
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    _require_same_org(actor, user.organisation_id)
    return user


def update_user(db: Session, *, actor: Principal, user_id: int, data: UserUpdate) -> User:
    user = get_user(db, actor=actor, user_id=user_id)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("is_active") is False:
        end_sessions(db, user_id=user.id)
    db.flush()
    audit.record(db, actor=actor, action="user.update", object_type="user", object_id=user.id,
                 detail={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
    return user


def set_password(db: Session, *, actor: Principal, user_id: int, password: str) -> None:
    if len(password) < 12:
        from havens.exceptions import ValidationFailed

        raise ValidationFailed("Passwords need at least 12 characters.", field="password")
    user = get_user(db, actor=actor, user_id=user_id)
    user.password_hash = security.hash_password(password)
    end_sessions(db, user_id=user.id)
    audit.record(db, actor=actor, action="user.password", object_type="user", object_id=user.id)


def get_user_by_email(db: Session, *, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == _normalise_email(email)))


# --- login and rate limiting -----------------------------------------------------------------

def authenticate(
    db: Session, *, settings: Settings, email: str, password: str, ip: str
) -> User:
    """Check a password login. Failures are recorded (the caller must keep them on error)."""
    email = _normalise_email(email)
    window_start = utcnow() - dt.timedelta(minutes=settings.login_failure_window_minutes)
    _refuse_if_limited(db, settings=settings, email=email, ip=ip, since=window_start)
    user = get_user_by_email(db, email=email)
    ok = security.verify_password(user.password_hash if user else None, password)
    if not (user and ok and user.is_active):
        db.add(LoginFailure(email=email, ip=ip))
        db.flush()
        audit.record(db, actor=Principal.system(), action="login.failure", object_type="user",
                     object_id=user.id if user else None, detail={"email": email, "ip": ip})
        _refuse_if_limited(db, settings=settings, email=email, ip=ip, since=window_start)
        raise AuthenticationRequired("Wrong email or password.", code="invalid_credentials")
    db.execute(delete(LoginFailure).where(LoginFailure.email == email))
    if user.password_hash and security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.last_login_at = utcnow()
    audit.record(db, actor=principal_for(user), action="login", object_type="user",
                 object_id=user.id, detail={"ip": ip})
    return user


def _refuse_if_limited(
    db: Session, *, settings: Settings, email: str, ip: str, since: dt.datetime
) -> None:
    by_account = db.scalar(
        select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since)
    ) or 0
    if by_account >= settings.login_max_failures_per_account:
        raise RateLimited(
            f"Too many failed logins for this account; try again in "
            f"{settings.login_failure_window_minutes} minutes."
        )
    by_ip = db.scalar(
        select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since)
    ) or 0
    if by_ip >= settings.login_max_failures_per_ip:
        raise RateLimited("Too many failed logins from this address; try again later.")


# --- browser sessions ------------------------------------------------------------------------

def start_session(db: Session, *, settings: Settings, user: User) -> str:
    """Open a browser session; returns the session id to put (signed) in the cookie."""
    session_id = secrets.token_urlsafe(32)
    db.add(WebSession(
        session_hash=security.sha256_hex(session_id),
        user_id=user.id,
        expires_at=utcnow() + dt.timedelta(minutes=settings.session_lifetime_minutes),
    ))
    db.flush()
    return session_id


def user_for_session(db: Session, *, session_id: str) -> User | None:
    now = utcnow()
    found = db.scalar(select(WebSession).where(
        WebSession.session_hash == security.sha256_hex(session_id),
        WebSession.ended_at.is_(None),
        WebSession.expires_at > now,
    ))
    if found is None or not found.user.is_active:
        return None
    return found.user


def end_session(db: Session, *, session_id: str) -> None:
    found = db.scalar(select(WebSession).where(
        WebSession.session_hash == security.sha256_hex(session_id)))
    if found and found.ended_at is None:
        found.ended_at = utcnow()


def end_sessions(db: Session, *, user_id: int) -> None:
    for found in db.scalars(select(WebSession).where(
            WebSession.user_id == user_id, WebSession.ended_at.is_(None))):
        found.ended_at = utcnow()


# --- API tokens ------------------------------------------------------------------------------

def create_token(db: Session, *, actor: Principal, user_id: int, data: TokenCreate
                 ) -> tuple[ApiToken, str]:
    """Create a token for a user: yourself, or (administrators) a user of your organisation."""
    if actor.user_id != user_id:
        get_user(db, actor=actor, user_id=user_id)
    else:
        require(actor, "tokens.own")
    token = security.new_api_token()
    expires = utcnow() + dt.timedelta(days=data.expires_in_days) if data.expires_in_days else None
    row = ApiToken(user_id=user_id, name=data.name, prefix=token[:12],
                   token_hash=security.sha256_hex(token), expires_at=expires)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="token.create", object_type="api_token",
                 object_id=row.id, detail={"user_id": user_id, "name": data.name})
    return row, token


def list_tokens(db: Session, *, actor: Principal, user_id: int) -> list[ApiToken]:
    if actor.user_id != user_id:
        get_user(db, actor=actor, user_id=user_id)
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                           .order_by(ApiToken.created_at)))


def revoke_token(db: Session, *, actor: Principal, token_id: int) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise NotFound("No such token.")
    if actor.user_id != row.user_id:
        # Someone else's token: only their organisation's administrator may revoke it, and
        # to anyone else it does not exist (a 403 would confirm the id).
        if not can(actor, "users.manage"):
            raise NotFound("No such token.")
        get_user(db, actor=actor, user_id=row.user_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(db, actor=actor, action="token.revoke", object_type="api_token",
                     object_id=row.id)
    return row


def user_for_token(db: Session, *, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == security.sha256_hex(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if not row.user.is_active:
        return None
    # Written at most once a minute: a busy client should not turn every read into a write.
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
        row.last_used_at = now
    return row.user
