from __future__ import annotations

from fastapi import APIRouter, Request, Response

from havens.api_types import ObjectId
from havens.orgs import service
from havens.orgs.dependencies import (
    SESSION_COOKIE,
    AppSettings,
    CurrentPrincipal,
    DbSession,
    session_signer,
)
from havens.orgs.models import User
from havens.orgs.schemas import (
    LoginRequest,
    Me,
    OrganisationCreate,
    OrganisationRead,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["organisations and users"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, settings: AppSettings, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_signer(settings).dumps(session_id),
        max_age=settings.session_lifetime_minutes * 60, httponly=True,
        secure=settings.cookie_secure, samesite="lax", path="/",
    )


@router.post("/auth/login", response_model=Me)
def login(data: LoginRequest, request: Request, response: Response, db: DbSession,
          settings: AppSettings) -> Me:
    """Start a browser session (cookie). Scripts should use personal API tokens instead."""
    request.state.commit_on_error = True  # failed attempts must be kept for rate limiting
    user = service.authenticate(db, settings=settings, email=data.email, password=data.password,
                                ip=client_ip(request))
    set_session_cookie(response, settings, service.start_session(db, settings=settings, user=user))
    return _me(user)


def _me(user: User) -> Me:
    return Me(user=UserRead.model_validate(user),
              organisation=OrganisationRead.model_validate(user.organisation))


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal, request: Request) -> Me:
    return _me(request.state.user)


@router.get("/organisations", response_model=list[OrganisationRead])
def list_organisations(principal: CurrentPrincipal, db: DbSession) -> list[OrganisationRead]:
    return [OrganisationRead.model_validate(o)
            for o in service.list_organisations(db, actor=principal)]


@router.post("/organisations", response_model=OrganisationRead, status_code=201)
def create_organisation(data: OrganisationCreate, principal: CurrentPrincipal,
                        db: DbSession) -> OrganisationRead:
    return OrganisationRead.model_validate(
        service.create_organisation(db, actor=principal, data=data))


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
def get_organisation(organisation_id: ObjectId, principal: CurrentPrincipal,
                     db: DbSession) -> OrganisationRead:
    return OrganisationRead.model_validate(
        service.get_organisation(db, actor=principal, organisation_id=organisation_id))


@router.get("/users", response_model=list[UserRead])
def list_users(principal: CurrentPrincipal, db: DbSession) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(db, actor=principal)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(data: UserCreate, principal: CurrentPrincipal, db: DbSession) -> UserRead:
    return UserRead.model_validate(service.create_user(db, actor=principal, data=data))


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> UserRead:
    return UserRead.model_validate(service.get_user(db, actor=principal, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: ObjectId, data: UserUpdate, principal: CurrentPrincipal,
                db: DbSession) -> UserRead:
    return UserRead.model_validate(
        service.update_user(db, actor=principal, user_id=user_id, data=data))


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(principal: CurrentPrincipal, db: DbSession) -> list[TokenRead]:
    assert principal.user_id is not None
    return [TokenRead.model_validate(t)
            for t in service.list_tokens(db, actor=principal, user_id=principal.user_id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenCreate, principal: CurrentPrincipal, db: DbSession) -> TokenCreated:
    assert principal.user_id is not None
    row, token = service.create_token(db, actor=principal, user_id=principal.user_id, data=data)
    return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: ObjectId, principal: CurrentPrincipal, db: DbSession) -> TokenRead:
    return TokenRead.model_validate(service.revoke_token(db, actor=principal, token_id=token_id))
