"""Jinja2 environment and page rendering with the request's language and CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from havens import __version__
from havens.web import csrf
from havens.web.assets import TEMPLATES_DIR
from havens.web.i18n import LANGUAGES, RTL_LANGUAGES, Formatter, pick_language, translations

LANG_COOKIE = "havens_lang"

env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "xml", "svg"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # per request via the context


def request_language(request: Request) -> str:
    user = getattr(request.state, "user", None)
    return pick_language(request.cookies.get(LANG_COOKIE), getattr(user, "language", None),
                         request.headers.get("accept-language"))


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    language = request_language(request)
    catalogue = translations(language)
    token = csrf.ensure_token(request)
    formatter = Formatter("ar_SY" if language == "ar" else language)

    def gettext(message: str, **variables: Any) -> str:
        text = catalogue.gettext(message)
        return text % variables if variables else text

    def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
        text = catalogue.ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    values = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "principal": getattr(request.state, "principal", None),
        "lang": language,
        "dir": "rtl" if language in RTL_LANGUAGES else "ltr",
        "languages": LANGUAGES,
        "csrf_token": token,
        "version": __version__,
        "fmt": formatter,
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        **(context or {}),
    }
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    csrf.set_cookie(request, response)
    return response
