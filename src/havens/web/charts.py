"""Server-side SVG charts: they need no script and no network, and print well in PDFs.

Each function returns SVG markup (``markupsafe.Markup``) built from numbers and escaped labels.
Labels are placed with ``text-anchor`` so that they read correctly in Arabic pages too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FEMALE = "#b5487a"
MALE = "#2f6f9f"
BAR = "#0b5394"
ALT = "#c05621"


@dataclass(frozen=True)
class PyramidRow:
    label: str
    female: int | None  # None: suppressed (fewer than 5) for this caller
    male: int | None


def pyramid(rows: Sequence[PyramidRow], *, title: str, female_label: str, male_label: str,
            suppressed_label: str = "<5", width: int = 420) -> Markup:
    """A population pyramid: age groups top (oldest) to bottom, women left, men right."""
    row_h, top, label_w = 22, 28, 56
    half = (width - label_w) / 2
    values = [v for r in rows for v in (r.female, r.male) if v is not None]
    peak = max(values, default=0) or 1
    height = top + row_h * len(rows) + 24
    parts = [f'<svg class="chart pyramid" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="{half / 2:.0f}" y="16" text-anchor="middle">{escape(female_label)}</text>',
             f'<text x="{half + label_w + half / 2:.0f}" y="16" text-anchor="middle">'
             f"{escape(male_label)}</text>"]
    for index, row in enumerate(reversed(rows)):
        y = top + index * row_h
        for value, colour, left in ((row.female, FEMALE, True), (row.male, MALE, False)):
            bar = 0.0 if value is None else (half - 40) * value / peak
            x = half - bar if left else half + label_w
            text = suppressed_label if value is None else f"{value:,}"
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{row_h - 6}" '
                         f'fill="{colour}"><title>{escape(row.label)}: {escape(text)}</title>'
                         "</rect>")
            tx = x - 4 if left else x + bar + 4
            anchor = "end" if left else "start"
            parts.append(f'<text x="{tx:.1f}" y="{y + row_h - 10}" text-anchor="{anchor}">'
                         f"{escape(text)}</text>")
        parts.append(f'<text x="{half + label_w / 2:.1f}" y="{y + row_h - 10}" '
                     f'text-anchor="middle">{escape(row.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    colour: str = BAR


def bars(categories: Sequence[str], series: Sequence[Series], *, title: str,
         width: int = 560, height: int = 220) -> Markup:
    """Grouped vertical bars, one group per category (e.g. days or zones)."""
    left, bottom, top = 44, 36, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max((v for s in series for v in s.values if v), default=0) or 1
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(group_w / (len(series) + 1), 1.0)
    parts = [f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
             'stroke="#8796a5"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_short(peak)}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    step = max(1, len(categories) // 8)
    for ci, category in enumerate(categories):
        gx = left + ci * group_w
        for si, serie in enumerate(series):
            value = serie.values[ci] if ci < len(serie.values) else None
            h = 0.0 if not value else plot_h * value / peak
            x = gx + (si + 0.5) * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{serie.colour}"><title>{escape(category)} · '
                         f"{escape(serie.label)}: {escape(_short(value))}</title></rect>")
        if ci % step == 0:
            parts.append(f'<text x="{gx + group_w / 2:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle">{escape(category)}</text>')
    for si, serie in enumerate(series):
        x = left + si * 140
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{serie.colour}"/>'
                     f'<text x="{x + 14}" y="13">{escape(serie.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def meter(value: float | None, maximum: float | None, *, title: str, width: int = 260
          ) -> Markup:
    """A horizontal gauge, e.g. occupancy against capacity (red past 100 %)."""
    share = (value or 0) / maximum if maximum else None
    filled = 0 if share is None else min(share, 1.0) * (width - 2)
    colour = "#b3261e" if share and share > 1 else "#1e7b34"
    label = "–" if share is None else f"{share:.0%}"
    return Markup(
        f'<svg class="chart meter" role="img" viewBox="0 0 {width} 22" width="{width}" '
        f'height="22" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}: {label}</title>'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="21" fill="#eef2f6" stroke="#8796a5"/>'
        f'<rect x="1" y="1" width="{filled:.1f}" height="20" fill="{colour}"/>'
        f'<text x="{width / 2}" y="15" text-anchor="middle">{label}</text></svg>')


def _short(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
