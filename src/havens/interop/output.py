"""Producing an export's bytes in a format, with its own database session.

The API streams these bytes (``StreamingResponse``) and the CLI writes them to a file. Rows are
read inside the generator, from a session opened for it, because the request's session is
closed as soon as the endpoint returns — before the body is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TypeVar

from sqlalchemy.orm import Session

from havens.interop.geojson import write_geojson
from havens.interop.hxl import write_csv
from havens.interop.registry import Export, Params
from havens.interop.xlsx import stream_xlsx
from havens.orgs.permissions import Principal

T = TypeVar("T")

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def produce(export: Export, fmt: str, *, db: Session, actor: Principal, params: Params,
            on_row: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The export's bytes; call :func:`havens.interop.registry.prepare` first."""
    if fmt == "geojson":
        assert export.features is not None
        features = export.features(db, actor, params)
        yield from write_geojson(_counting(features, on_row), name=export.name)
        return
    assert export.rows is not None
    rows = _counting(export.rows(db, actor, params), on_row)
    if fmt == "xlsx":
        yield from stream_xlsx(export, rows)
    else:
        yield from write_csv(export.columns, rows)


def produce_with_session(export: Export, fmt: str, *,
                         open_session: Callable[[], Session | AbstractContextManager[Session]],
                         actor: Principal, params: Params) -> Iterator[bytes]:
    """As :func:`produce`, reading through a session of its own, closed at the end.

    An empty first chunk is yielded before the session is opened: the server takes it only
    once the endpoint has returned and the request's transaction is over, so the two sessions
    never work at the same time (they may share a connection, as in the tests)."""
    yield b""
    session = open_session()
    if not isinstance(session, Session):
        with session as db:
            yield from produce(export, fmt, db=db, actor=actor, params=params)
        return
    try:
        yield from produce(export, fmt, db=session, actor=actor, params=params)
    finally:
        session.close()


def _counting(items: Iterator[T], on_row: Callable[[], None] | None) -> Iterator[T]:
    for item in items:
        if on_row is not None:
            on_row()
        yield item
