"""CSRF protection for the web pages (signed double-submit token).

Every page sets a random, HttpOnly, SameSite=Strict cookie; forms carry the same value signed
with the server secret (hidden field ``csrf_token``; htmx sends it as ``X-CSRF-Token``). A
state-changing request is refused unless the signed value matches the cookie. The API needs no
such check: it changes state only for Bearer tokens, which browsers never send on their own.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from havens.exceptions import PermissionDenied

COOKIE = "havens_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.resolved_secret_key(), salt="havens-csrf")


def ensure_token(request: Request) -> str:
    """The signed token for this browser, creating the cookie value if it has none."""
    raw = getattr(request.state, "csrf_raw", None) or request.cookies.get(COOKIE)
    if not raw or len(raw) < 32:
        raw = secrets.token_urlsafe(32)
    request.state.csrf_raw = raw
    return _signer(request).dumps(raw)


def set_cookie(request: Request, response: Response) -> None:
    raw = getattr(request.state, "csrf_raw", None)
    if raw and raw != request.cookies.get(COOKIE):
        response.set_cookie(COOKIE, raw, httponly=True, samesite="strict", path="/",
                            secure=request.app.state.settings.cookie_secure)


async def verify(request: Request) -> None:
    """FastAPI dependency for web routes: refuse a state-changing request without the token."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if not sent:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    cookie = request.cookies.get(COOKIE)
    try:
        expected = _signer(request).loads(sent) if sent else None
    except BadSignature:
        expected = None
    if not (cookie and isinstance(expected, str) and hmac.compare_digest(expected, cookie)):
        raise PermissionDenied(
            "This form has expired or did not come from Havens. Reload the page and try again.",
            code="csrf_failed")
