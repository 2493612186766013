from __future__ import annotations

import xml.etree.ElementTree as ET

from havens.web.charts import PyramidRow, Series, bars, meter, pyramid


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_pyramid_draws_each_group_and_marks_suppressed_cells() -> None:
    rows = [PyramidRow("0-4", 120, 130), PyramidRow("60+", None, 7)]
    svg = str(pyramid(rows, title="Population", female_label="Women", male_label="Men"))
    root = _parse(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "0-4" in texts and "60+" in texts and "<5" in texts and "130" in texts


def test_labels_are_escaped() -> None:
    svg = str(bars(["<script>"], [Series("a&b", [3])], title="t"))
    assert "<script>" not in svg
    _parse(svg)


def test_meter_turns_red_over_capacity() -> None:
    assert "#b3261e" in str(meter(120, 100, title="occupancy"))
    assert "#1e7b34" in str(meter(50, 100, title="occupancy"))
    assert "–" in str(meter(50, None, title="occupancy"))
