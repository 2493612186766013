"""HTTP API of the exports and reports.

``GET /exports`` lists the exports (columns, hashtags, formats). ``GET /exports/{name}.{fmt}``
streams one: the caller is checked and the export audited in the request's transaction, then
the body is produced by a generator reading the database *with a session of its own*
(``app.state.session_maker()``), because the request's session is closed as soon as the
endpoint returns, before the body is sent. Rows are read in chunks and written as they come,
so a million-row CSV is sent in constant memory (XLSX is built in a temporary file first: a
zip's directory comes last).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from havens.exceptions import ValidationFailed
from havens.interop import registry
from havens.interop.output import MEDIA_TYPES, produce_with_session
from havens.orgs.dependencies import CurrentPrincipal, DbSession
from havens.orgs.permissions import require
from havens.orgs.ratelimit import EXPORTS

router = APIRouter(tags=["exports and reports"])


class ColumnRead(BaseModel):
    name: str
    hashtag: str
    description: str


class ExportRead(BaseModel):
    name: str
    title: str
    description: str
    formats: list[str]
    personal: bool
    columns: list[ColumnRead]
    urls: dict[str, str]


@router.get("/exports")
def list_exports(actor: CurrentPrincipal) -> list[ExportRead]:
    """Every export, with its columns and HXL hashtags."""
    require(actor, "exports.read")
    return [ExportRead(name=e.name, title=e.title, description=e.description,
                       formats=list(e.formats), personal=e.personal,
                       columns=[ColumnRead(name=c.name, hashtag=c.hashtag,
                                           description=c.description) for c in e.columns],
                       urls={f: f"/api/v1/exports/{e.name}.{f}" for f in e.formats})
            for e in registry.exports().values()]


@router.get("/exports/{filename}", response_class=StreamingResponse,
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}})
def download_export(
    filename: str, request: Request, db: DbSession, actor: CurrentPrincipal,
    zone: Annotated[str | None, Query(max_length=32, description="Zone code")] = None,
    on: Annotated[dt.date | None, Query(description="Reference date (default today)")] = None,
    start: Annotated[dt.date | None, Query()] = None,
    end: Annotated[dt.date | None, Query()] = None,
    purpose: Annotated[str | None, Query(max_length=500,
                                         description="Required for personal data")] = None,
) -> StreamingResponse:
    """One export as ``.csv`` (HXL hashtag row under the header), ``.xlsx`` or ``.geojson``."""
    EXPORTS.check(actor, "export")
    name, _dot, fmt = filename.rpartition(".")
    if not name or fmt not in registry.FORMATS:
        raise ValidationFailed("Ask for NAME.csv, NAME.xlsx or NAME.geojson.", field="filename")
    export = registry.get(name)
    params = registry.Params(zone=zone, on=on or dt.date.today(), start=start, end=end,
                             purpose=purpose)
    registry.prepare(db, actor=actor, export=export, params=params, fmt=fmt)
    suffix = f"-{zone.upper()}" if zone else ""
    body = produce_with_session(export, fmt, open_session=request.app.state.session_maker,
                                actor=actor, params=params)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="havens-{name}{suffix}-'
                               f'{params.on.isoformat()}.{fmt}"',
        "Cache-Control": "no-store"})


@router.get("/reports/sitrep.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def sitrep_pdf(
    request: Request, db: DbSession, actor: CurrentPrincipal,
    zone: Annotated[str | None, Query(max_length=32, description="Zone code (default: all)")
                    ] = None,
    lang: Annotated[str, Query(pattern="^(en|ar)$")] = "en",
    on: Annotated[dt.date | None, Query()] = None,
) -> Response:
    """The situation report of a zone, or of all zones, as a PDF (English or Arabic)."""
    from havens.interop.sitrep import render_pdf

    pdf = render_pdf(db, actor=actor, zone=zone, lang=lang, on=on or dt.date.today(),
                            settings=request.app.state.settings)
    name = f"havens-sitrep-{(zone or 'all').upper()}-{lang}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


