"""GeoJSON FeatureCollections written feature by feature (RFC 7946: lon/lat, WGS 84)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK_FEATURES = 500


def write_geojson(features: Iterable[dict[str, Any]], *, name: str) -> Iterator[bytes]:
    """The collection in chunks of bytes; no more than a chunk of features is held."""
    head = {"type": "FeatureCollection", "name": name}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    parts: list[str] = []
    first = True
    for feature in features:
        parts.append(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False,
                                                           default=str))
        first = False
        if len(parts) >= CHUNK_FEATURES:
            yield "".join(parts).encode()
            parts = []
    parts.append("\n]}\n")
    yield "".join(parts).encode()


def feature(geometry: dict[str, Any] | None, properties: dict[str, Any],
            feature_id: str | int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "Feature"}
    if feature_id is not None:
        result["id"] = feature_id
    result["geometry"] = geometry
    result["properties"] = properties
    return result


def point(lon: float | None, lat: float | None) -> dict[str, Any] | None:
    if lon is None or lat is None:
        return None
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
