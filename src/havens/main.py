"""The application factory: API under /api/v1, web pages, middleware and error handling."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from havens import __version__
from havens.config import Settings, get_settings
from havens.database import get_engine, session_factory
from havens.exceptions import HavensError, ServiceUnavailable, ValidationFailed

log = logging.getLogger("havens")

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None, *, session_maker: Callable[[], Session] | None = None
) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Havens API",
        version=__version__,
        description="Coordination of safe zones for internally displaced people.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.session_maker = session_maker or session_factory(
        get_engine(settings.database_url))

    _install_middleware(app, settings)
    _install_error_handlers(app)
    _include_routers(app)
    from havens.web.assets import STATIC_DIR

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _include_routers(app: FastAPI) -> None:
    from havens.api import api_routers
    from havens.exceptions import ERROR_RESPONSES
    from havens.web.router import router as web_router

    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.include_router(web_router)

    @app.get("/health", tags=["health"])
    def health(request: Request) -> JSONResponse:
        """Liveness and database reachability; needs no login."""
        try:
            request.state.db.execute(text("SELECT 1"))
        except DBAPIError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    max_body = settings.max_upload_mb * 1024 * 1024

    @app.middleware("http")
    async def unit_of_work(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                           ) -> Response:
        """One database session per request: committed if the response is a success (or the
        route asked to keep its writes on error), rolled back otherwise."""
        session = request.app.state.session_maker()
        request.state.db = session
        try:
            response = await call_next(request)
            keep = response.status_code < 400 or getattr(request.state, "commit_on_error", False)
            if keep:
                await run_in_threadpool(session.commit)
            else:
                await _quietly(session.rollback)
            return response
        except OperationalError:
            await _quietly(session.rollback)
            return _error_response(request, ServiceUnavailable(
                "The database is not reachable; try again shortly."))
        except BaseException:
            await _quietly(session.rollback)
            raise
        finally:
            await _quietly(session.close)

    @app.middleware("http")
    async def guard_and_headers(request: Request,
                                call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            return JSONResponse({"error": {"code": "too_large", "message":
                                 f"Requests are limited to {settings.max_upload_mb} MB."}}, 413)
        response = await call_next(request)
        _security_headers(response, https=request.url.scheme == "https")
        return response


async def _quietly(action: Callable[[], object]) -> None:
    """Roll back or close a session whose connection may be gone; never mask the real error."""
    try:
        await run_in_threadpool(action)
    except DBAPIError as exc:
        log.warning("database connection lost: %s", type(exc).__name__)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response: Response, *, https: bool) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if https:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, exc: HavensError) -> Response:
    if _is_api(request) or request.url.path == "/health":
        headers: dict[str, str] = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.status_code == 429 and isinstance(exc.details, dict) and exc.details.get(
                "retry_after"):
            headers["Retry-After"] = str(int(exc.details["retry_after"]))
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers or None)
    from havens.web.pages import error_page

    return error_page(request, exc)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HavensError)
    async def havens_error(request: Request, exc: HavensError) -> Response:
        return _error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = list(exc.errors())
        first = errors[0] if errors else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
        field = ".".join(location) or None
        message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
        details = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                    "message": e.get("msg")} for e in errors]
        return _error_response(request, ValidationFailed(message, field=field, details=details))

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return _error_response(request, ServiceUnavailable(
            "The database is not reachable; try again shortly."))
