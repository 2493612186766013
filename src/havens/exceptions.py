"""The error hierarchy every service raises; one handler turns it into JSON or a page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class HavensError(Exception):
    """Base of all expected errors: a code, a message for people, and optionally a field."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class ValidationFailed(HavensError):
    status_code = 422
    code = "validation_failed"


class NotFound(HavensError):
    status_code = 404
    code = "not_found"


class AuthenticationRequired(HavensError):
    status_code = 401
    code = "authentication_required"


class PermissionDenied(HavensError):
    status_code = 403
    code = "permission_denied"


class Conflict(HavensError):
    status_code = 409
    code = "conflict"


class RateLimited(HavensError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(HavensError):
    status_code = 503
    code = "service_unavailable"


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: Any = None


class ErrorBody(BaseModel):
    """The shape of every error the API returns."""

    error: ErrorDetail


#: Documented on every API operation, so clients (and schema fuzzers) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad request", 401: "Not authenticated", 403: "Not allowed for this role",
        404: "Not found, or not visible to the caller", 409: "Conflicts with existing data",
        413: "Request too large", 422: "Invalid input (the field is named)",
        429: "Too many requests", 503: "Database unavailable",
    }.items()
}
