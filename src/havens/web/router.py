"""Web pages: login, logout, language, and the overview. Domain pages live in their own
modules (``web/<domain>_pages.py``) and are included here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import text

from havens.exceptions import HavensError
from havens.orgs import service as org_service
from havens.orgs.dependencies import AppSettings, DbSession, session_id_from_cookie
from havens.orgs.router import client_ip, set_session_cookie
from havens.web import csrf, overview
from havens.web.i18n import LANGUAGES
from havens.web.pages import PagePrincipal
from havens.web.templating import LANG_COOKIE, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a user to another site after login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login_submit(
    request: Request, db: DbSession, settings: AppSettings,
    email: Annotated[str, Form(max_length=254)], password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    request.state.commit_on_error = True  # failed attempts are kept for rate limiting
    try:
        user = org_service.authenticate(db, settings=settings, email=email, password=password,
                                        ip=client_ip(request))
    except HavensError as exc:
        return render(request, "login.html", {"next": _safe_next(next), "error": exc,
                                              "email": email}, status_code=exc.status_code)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, settings,
                       org_service.start_session(db, settings=settings, user=user))
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, settings: AppSettings) -> Response:
    session_id = session_id_from_cookie(request, settings)
    if session_id:
        org_service.end_session(db, session_id=session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("havens_session", path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next or request.headers.get("referer-path")), 303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax",
                            path="/")
    return response


@router.get("/sources")
def sources(request: Request) -> Response:
    from havens.geo.loaders import PACKAGED_DIR

    text_ = (PACKAGED_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    return render(request, "sources.html", {"attribution": text_})


@router.get("/")
def home(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    try:
        db.execute(text("SELECT 1"))
        database_ok = True
    except Exception:
        database_ok = False
    context = overview.context(db, actor=principal)
    context["database_ok"] = database_ok
    context["database_kind"] = db.get_bind().dialect.name
    return render(request, "home.html", context)


for _module in overview.page_modules():
    router.include_router(_module.router)
