"""Running an export in a test and reading it back as a reader would."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import hxl
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from havens.interop import registry
from havens.interop.output import produce
from havens.orgs.permissions import Principal
from tests.interop.conftest import TODAY


def run(db: Session, actor: Principal, name: str, fmt: str = "csv", **params: Any) -> bytes:
    export = registry.get(name, fmt)
    values = registry.Params(on=params.pop("on", TODAY), **params)
    registry.prepare(db, actor=actor, export=export, params=values, fmt=fmt)
    return b"".join(produce(export, fmt, db=db, actor=actor, params=values))


def hxl_rows(data: bytes, tmp_path: Path) -> tuple[Any, list[dict[str, str]]]:
    """Parse a CSV with libhxl (from a local file, as a user's download would be)."""
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    dataset = hxl.data(str(path), hxl.input.InputOptions(allow_local=True))
    tags = [c.display_tag for c in dataset.columns]
    rows = [dict(zip(tags, row.values, strict=False)) for row in dataset]
    return dataset, rows


def xlsx_rows(data: bytes) -> tuple[list[Any], list[Any], list[list[Any]], list[list[Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book.worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    about = [list(r) for r in book["about"].iter_rows(values_only=True)]
    return values[0], values[1], values[2:], about
