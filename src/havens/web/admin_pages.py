"""Administration pages: organisations, users and the caller's own API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from havens.exceptions import HavensError
from havens.orgs import service as org_service
from havens.orgs.dependencies import DbSession
from havens.orgs.models import OrgKind, Role
from havens.orgs.permissions import can
from havens.orgs.schemas import OrganisationCreate, TokenCreate, UserCreate
from havens.web.pages import PagePrincipal
from havens.web.templating import render

router = APIRouter()


@router.get("/admin")
def admin_home(request: Request, principal: PagePrincipal, db: DbSession,
               created_token: str | None = None) -> Response:
    context = {
        "organisations": org_service.list_organisations(db, actor=principal),
        "users": org_service.list_users(db, actor=principal)
        if can(principal, "users.manage") else [],
        "tokens": org_service.list_tokens(db, actor=principal, user_id=principal.user_id)
        if principal.user_id else [],
        "roles": list(Role), "kinds": list(OrgKind),
        "may_manage": can(principal, "users.manage"),
    }
    return render(request, "admin.html", context)


@router.post("/admin/tokens")
def create_token(request: Request, principal: PagePrincipal, db: DbSession,
                 name: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    assert principal.user_id is not None
    row, token = org_service.create_token(db, actor=principal, user_id=principal.user_id,
                                          data=TokenCreate(name=name, expires_in_days=365))
    return render(request, "token_created.html", {"token": token, "row": row})


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: int, principal: PagePrincipal, db: DbSession) -> Response:
    org_service.revoke_token(db, actor=principal, token_id=token_id)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users")
def create_user(
    request: Request, principal: PagePrincipal, db: DbSession,
    email: Annotated[str, Form()], display_name: Annotated[str, Form()],
    role: Annotated[str, Form()], password: Annotated[str, Form()],
) -> Response:
    org = org_service.get_organisation(db, actor=principal,
                                       organisation_id=principal.organisation_id or 0)
    try:
        org_service.create_user(db, actor=principal, data=UserCreate.model_validate(
            {"email": email, "display_name": display_name, "organisation": org.acronym,
             "role": Role(role), "password": password}, strict=False))
    except (HavensError, ValueError) as exc:
        request.state.form_error = str(exc)
        return admin_home(request, principal, db)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/organisations")
def create_organisation(
    request: Request, principal: PagePrincipal, db: DbSession,
    name: Annotated[str, Form()], acronym: Annotated[str, Form()],
    kind: Annotated[str, Form()], country: Annotated[str, Form()],
) -> Response:
    try:
        org_service.create_organisation(db, actor=principal, data=OrganisationCreate.model_validate(
            {"name": name, "acronym": acronym, "kind": OrgKind(kind),
             "country": country.upper()}, strict=False))
    except (HavensError, ValueError) as exc:
        request.state.form_error = str(exc)
        return admin_home(request, principal, db)
    return RedirectResponse("/admin", status_code=303)
