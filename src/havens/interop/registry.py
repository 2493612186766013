"""The registry of exports: name -> columns (with HXL hashtags) and a producer of rows.

Each ``exports_*.py`` module registers its exports with :func:`register` when imported; a module
whose domain is not installed (its import fails) is skipped, so the registry lists only what
works. Producers are generators reading the database in chunks: the CLI and the API write rows
as they come, so memory does not grow with the size of an export.

Every producer receives the caller (:class:`~havens.orgs.permissions.Principal`) and applies the
access model itself: aggregates go through :mod:`havens.interop.disclosure`; exports of personal
data (``personal=True``) need ``people.personal``, are limited to the caller's organisation and
need a stated purpose, which :func:`prepare` audits before the first row is read.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.exceptions import NotFound, PermissionDenied, ValidationFailed
from havens.orgs.permissions import Principal, can, require

log = logging.getLogger("havens.interop")

FORMATS = ("csv", "xlsx", "geojson")
MIN_PURPOSE = 10
XLSX_MAX_ROWS = 1_048_574  # Excel's 1,048,576 rows, less the header and the hashtag row

#: The modules holding exports, in the order they are listed.
MODULES = ("havens.interop.exports_zones", "havens.interop.dtm",
           "havens.interop.exports_people", "havens.interop.exports_assistance",
           "havens.interop.exports_safety", "havens.interop.exports_returns")


@dataclass(frozen=True)
class Column:
    name: str
    hashtag: str
    description: str


@dataclass
class Params:
    """What the caller asked for: every export reads the ones it understands."""

    zone: str | None = None
    on: dt.date = field(default_factory=dt.date.today)
    start: dt.date | None = None
    end: dt.date | None = None
    purpose: str | None = None

    def period(self, days: int = 30) -> tuple[dt.date, dt.date]:
        end = self.end or self.on
        return self.start or end - dt.timedelta(days=days - 1), end


Row = Sequence[Any]
Rows = Callable[[Session, Principal, Params], Iterator[Row]]
Features = Callable[[Session, Principal, Params], Iterator[dict[str, Any]]]
Counter = Callable[[Session, Principal, Params], int | None]


@dataclass(frozen=True)
class Export:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Rows | None = None
    features: Features | None = None
    #: Rows to expect (for progress bars); None when unknown.
    count: Counter | None = None
    personal: bool = False
    #: Permission needed besides ``exports.read``.
    action: str = "exports.read"

    @property
    def formats(self) -> tuple[str, ...]:
        tabular = ("csv", "xlsx") if self.rows is not None else ()
        return tabular + (("geojson",) if self.features is not None else ())


_EXPORTS: dict[str, Export] = {}
_SKIPPED: dict[str, str] = {}
_LOADED = False


def register(export: Export) -> Export:
    _EXPORTS[export.name] = export
    return export


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module in MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:  # a domain not written yet: its exports are not offered
            _SKIPPED[module] = str(exc)
            log.info("exports of %s skipped: %s", module, exc)


def exports() -> dict[str, Export]:
    _load()
    return dict(_EXPORTS)


def skipped() -> dict[str, str]:
    """Export modules that could not be loaded, and why."""
    _load()
    return dict(_SKIPPED)


def get(name: str, fmt: str | None = None) -> Export:
    export = exports().get(name)
    if export is None:
        raise NotFound(f"No export named {name!r}; known: {', '.join(sorted(exports()))}.",
                       field="name")
    if fmt is not None and fmt not in export.formats:
        raise ValidationFailed(f"Export {name} is available as {', '.join(export.formats)}, "
                               f"not {fmt}.", field="format")
    return export


def prepare(db: Session, *, actor: Principal, export: Export, params: Params, fmt: str) -> None:
    """Check the caller may have this export, and audit it, before any row is produced.

    Run in the caller's own transaction (the request or the command), so that a refusal is an
    ordinary error and the audit record is kept with it."""
    require(actor, "exports.read")
    require(actor, export.action)
    if fmt not in export.formats:
        raise ValidationFailed(f"Export {export.name} is available as "
                               f"{', '.join(export.formats)}, not {fmt}.", field="format")
    if params.zone:
        from havens.interop.common import zones_of

        zones_of(db, params.zone)  # NotFound now, not in the middle of a streamed body
    if params.start and params.end and params.end < params.start:
        raise ValidationFailed("The period ends before it starts.", field="end")
    if fmt == "xlsx" and export.count is not None:
        rows = export.count(db, actor, params) or 0
        if rows > XLSX_MAX_ROWS:
            raise ValidationFailed(f"{rows:,} rows do not fit in a worksheet (at most "
                                   f"{XLSX_MAX_ROWS:,}): download the CSV.", field="format")
    detail: dict[str, Any] = {"export": export.name, "format": fmt, "zone": params.zone}
    if export.personal:
        if not can(actor, "people.personal"):
            raise PermissionDenied("This export holds personal data: your role may not have it.")
        if actor.organisation_id is None:
            raise PermissionDenied("Personal data is exported for an organisation: sign in as "
                                   "a user of the registering organisation.")
        purpose = (params.purpose or "").strip()
        if len(purpose) < MIN_PURPOSE:
            raise ValidationFailed(f"State the purpose of this export of personal data (at least "
                                   f"{MIN_PURPOSE} characters); it is recorded.", field="purpose")
        detail["purpose"] = purpose
    audit.record(db, actor=actor, action="export.personal" if export.personal else "export.read",
                 object_type="export", detail=detail)
