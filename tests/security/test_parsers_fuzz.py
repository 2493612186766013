"""Arbitrary input into the importers and parsers: only clean errors come out.

A clean error is a ``HavensError`` (the API turns it into a 4xx naming the field) or, for the
pure parsers, a ``ValueError``; anything else (KeyError, TypeError, AttributeError, a
zipfile or XML error...) would be a 500 or a traceback in the field. Bounded examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from havens.agreements.verify import EXPORT_FORMAT, verify_document
from havens.exceptions import HavensError
from havens.orgs.permissions import Principal
from havens.people import importing
from havens.people.crypto import FieldCipher
from havens.zones import service as zone_service
from havens.zones.site_import import import_sites
from tests.people.conftest import World

EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CLEAN = (HavensError, ValueError)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


def _xlsx_like(payload: bytes) -> bytes:
    """A zip holding arbitrary bytes where a workbook's parts would be."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", payload)
        archive.writestr("xl/workbook.xml", payload)
        archive.writestr("xl/worksheets/sheet1.xml", payload)
    return out.getvalue()


files = st.one_of(
    st.binary(max_size=400).map(lambda b: ("upload.csv", b)),
    st.text(max_size=300).map(lambda t: ("upload.csv", t.encode())),
    st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)),
                                  max_size=12), min_size=1, max_size=6), max_size=6)
    .map(lambda rows: ("upload.csv", "\n".join(",".join(r) for r in rows).encode())),
    st.binary(max_size=200).map(lambda b: ("upload.xlsx", b)),
    st.binary(max_size=200).map(lambda b: ("upload.xlsx", _xlsx_like(b))),
)


def test_people_importer_gives_clean_errors(db: Session, world: World,
                                             cipher: FieldCipher) -> None:
    actor = world.p(world.registrar)

    @FUZZ
    @given(upload=files)
    def run(upload: tuple[str, bytes]) -> None:
        name, data = upload
        savepoint = db.begin_nested()
        try:
            importing.import_file(db, actor=actor, data=data, filename=name,
                                  site_code=world.sites[0].code, cipher=cipher)
        except CLEAN:
            pass
        finally:
            savepoint.rollback()

    run()


def test_site_importer_gives_clean_errors(db: Session, world: World, system: Principal,
                                          tmp_path: Path) -> None:
    @FUZZ
    @given(upload=files)
    def run(upload: tuple[str, bytes]) -> None:
        name, data = upload
        path = tmp_path / name
        path.write_bytes(data)
        savepoint = db.begin_nested()
        try:
            import_sites(db, actor=system, path=path, dry_run=True)
        except CLEAN:
            pass
        finally:
            savepoint.rollback()

    run()


def _features(value: Any) -> Any:
    return {"type": "FeatureCollection", "features": value}


def test_geojson_zone_import_gives_clean_errors(db: Session, world: World,
                                                system: Principal) -> None:
    feature = st.fixed_dictionaries({
        "type": st.just("Feature"),
        "properties": st.dictionaries(st.sampled_from(
            ["code", "name_en", "name_ar", "admin_pcodes", "emergency_phase"]), json_values),
        "geometry": json_values | st.fixed_dictionaries({
            "type": st.sampled_from(["Polygon", "MultiPolygon", "Point"]),
            "coordinates": json_values})})

    @FUZZ
    @given(data=json_values | st.lists(feature | json_values, max_size=3).map(_features))
    def run(data: Any) -> None:
        savepoint = db.begin_nested()
        try:
            zone_service.import_geojson(db, actor=system, data=data)
        except CLEAN:
            pass
        finally:
            savepoint.rollback()

    run()


def test_agreement_verifier_gives_clean_errors() -> None:
    shaped = st.fixed_dictionaries({"format": st.just(EXPORT_FORMAT)}, optional={
        "zone": json_values | st.fixed_dictionaries({"code": json_values}),
        "keys": json_values, "versions": json_values, "organisations": json_values,
        "withdrawals": json_values})

    @FUZZ
    @given(document=json_values | shaped)
    def run(document: Any) -> None:
        with contextlib.suppress(*CLEAN):
            verify_document(document)

    run()


def test_a_foreign_document_is_refused_cleanly() -> None:
    with pytest.raises(ValueError):
        verify_document(json.loads('{"format": "something else"}'))
