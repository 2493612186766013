"""FastAPI dependencies: the request's database session and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from havens.config import Settings
from havens.exceptions import AuthenticationRequired
from havens.orgs import service as org_service
from havens.orgs.models import User
from havens.orgs.permissions import Principal

SESSION_COOKIE = "havens_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Session:
    """The request's unit of work, opened and committed by the database middleware."""
    return request.state.db


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


DbSession = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def session_signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key(), salt="havens-session")


def session_id_from_cookie(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        value = session_signer(settings).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def authenticated_user(request: Request, db: Session, settings: Settings) -> User | None:
    """The user of a Bearer token, or of the browser session (for the API: safe methods only,
    so that a cross-site form can never change anything through a cookie)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user: User | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationRequired("Use 'Authorization: Bearer <token>'.")
        user = org_service.user_for_token(db, token=token.strip())
        if user is None:
            raise AuthenticationRequired("The token is unknown, expired or revoked.")
    else:
        is_api = request.url.path.startswith("/api/")
        session_id = session_id_from_cookie(request, settings)
        if session_id and (not is_api or request.method in _SAFE_METHODS):
            user = org_service.user_for_session(db, session_id=session_id)
    request.state.user = user
    return user


def current_principal(request: Request, db: DbSession, settings: AppSettings) -> Principal:
    user = authenticated_user(request, db, settings)
    if user is None:
        raise AuthenticationRequired("Log in or send an API token.")
    principal = org_service.principal_for(user)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
