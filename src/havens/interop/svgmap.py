"""A small map as inline SVG: a zone's boundary, the admin areas around it and its sites.

No tile server: shapes are drawn from their GeoJSON with a plain equirectangular projection
scaled by cos(latitude) at the centre, which is true enough at the scale of a zone (tens of km).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

ZONE_FILL = "#1f6f8b"
AREA_STROKE = "#9aa7b4"


@dataclass(frozen=True)
class Shape:
    geometry: dict[str, Any]
    label: str = ""
    kind: str = "zone"  # zone | area


@dataclass(frozen=True)
class Dot:
    lon: float
    lat: float
    label: str = ""


def _rings(geometry: dict[str, Any]) -> Iterable[Sequence[Sequence[float]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        yield from geometry["coordinates"]
    elif kind == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries", []):
            yield from _rings(part)


class Projection:
    def __init__(self, bbox: tuple[float, float, float, float], width: int, height: int,
                 margin: int = 12) -> None:
        min_lon, min_lat, max_lon, max_lat = bbox
        self.k = math.cos(math.radians((min_lat + max_lat) / 2))
        span_x = max((max_lon - min_lon) * self.k, 1e-6)
        span_y = max(max_lat - min_lat, 1e-6)
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        self.x0 = margin + ((width - 2 * margin) - span_x * self.scale) / 2 - min_lon * self.k \
            * self.scale
        self.y0 = margin + ((height - 2 * margin) - span_y * self.scale) / 2 + max_lat \
            * self.scale

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return self.x0 + lon * self.k * self.scale, self.y0 - lat * self.scale


def bbox_of(geometries: Iterable[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []
    for geometry in geometries:
        for ring in _rings(geometry):
            xs.extend(p[0] for p in ring)
            ys.extend(p[1] for p in ring)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _path(geometry: dict[str, Any], project: Projection) -> str:
    parts = []
    for ring in _rings(geometry):
        points = [project(p[0], p[1]) for p in ring]
        if points:
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def draw(zones: Sequence[Shape], areas: Sequence[Shape], dots: Sequence[Dot], *, title: str,
         width: int = 360, height: int = 260, pad: float = 0.15) -> Markup:
    """Zones filled, admin areas outlined (and clipped to the frame), sites as dots."""
    frame = bbox_of(z.geometry for z in zones) or bbox_of(a.geometry for a in areas)
    if frame is None and dots:
        frame = (min(d.lon for d in dots), min(d.lat for d in dots),
                 max(d.lon for d in dots), max(d.lat for d in dots))
    if frame is None:
        return Markup("")
    dx, dy = (frame[2] - frame[0]) * pad + 0.01, (frame[3] - frame[1]) * pad + 0.01
    frame = (frame[0] - dx, frame[1] - dy, frame[2] + dx, frame[3] + dy)
    project = Projection(frame, width, height)
    out = [f'<svg class="map" role="img" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>",
           f'<defs><clipPath id="frame"><rect width="{width}" height="{height}"/></clipPath>'
           "</defs>",
           f'<rect width="{width}" height="{height}" fill="#f4f6f8" stroke="#c9d1d9"/>',
           '<g clip-path="url(#frame)">']
    for area in areas:
        out.append(f'<path d="{_path(area.geometry, project)}" fill="none" '
                   f'stroke="{AREA_STROKE}" stroke-width="0.8" stroke-dasharray="3,2"/>')
    for zone in zones:
        out.append(f'<path d="{_path(zone.geometry, project)}" fill="{ZONE_FILL}" '
                   f'fill-opacity="0.35" stroke="{ZONE_FILL}" stroke-width="1.5">'
                   f"<title>{escape(zone.label)}</title></path>")
    for dot in dots:
        x, y = project(dot.lon, dot.lat)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="#c05621" stroke="#fff" '
                   f'stroke-width="0.6"><title>{escape(dot.label)}</title></circle>')
    for area in areas:
        box = bbox_of([area.geometry])
        if box and area.label:
            x, y = project((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            if 0 < x < width and 0 < y < height:
                out.append(f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="middle" '
                           f'class="area-label">{escape(area.label)}</text>')
    for zone in zones:
        box = bbox_of([zone.geometry])
        if box and zone.label:
            x, y = project((box[0] + box[2]) / 2, box[3])
            out.append(f'<text x="{x:.0f}" y="{max(y - 4, 10):.0f}" text-anchor="middle" '
                       f'class="zone-label">{escape(zone.label)}</text>')
    # Scale bar: 5 or 10 km, at the bottom left.
    km_per_px = 111.32 / project.scale
    km = 10 if km_per_px * 100 > 10 else 5 if km_per_px * 100 > 5 else 1
    length = km / km_per_px
    out.append(f'</g><line x1="12" y1="{height - 12}" x2="{12 + length:.1f}" y2="{height - 12}" '
               f'stroke="#333" stroke-width="2"/><text x="{14 + length:.1f}" y="{height - 9}" '
               f'class="scale">{km} km</text></svg>')
    return Markup("".join(out))
