"""Shared helpers for web pages: the logged-in principal and error pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from havens.exceptions import AuthenticationRequired, HavensError
from havens.orgs.dependencies import AppSettings, DbSession, authenticated_user
from havens.orgs.permissions import Principal
from havens.orgs.service import principal_for


def page_principal(request: Request, db: DbSession, settings: AppSettings) -> Principal:
    user = authenticated_user(request, db, settings)
    if user is None:
        raise AuthenticationRequired("Please log in.")
    principal = principal_for(user)
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def error_page(request: Request, exc: HavensError) -> Response:
    if isinstance(exc, AuthenticationRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    from havens.web.templating import render

    if request.headers.get("hx-request"):
        # htmx swaps the message into the page instead of replacing the whole document.
        return render(request, "partials/error.html", {"error": exc}, status_code=exc.status_code)
    return render(request, "error.html", {"error": exc}, status_code=exc.status_code)
