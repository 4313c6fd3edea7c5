"""The doughnut's layout: every label within its wedge's angle, no two labels overlapping,
Raworth's order round each ring, and a huge overshoot capped but labelled."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from placeportrait import doughnut_layout as L
from placeportrait.dimensions import Dimension, all_dimensions
from placeportrait.report import doughnut_svg

SVG = "{http://www.w3.org/2000/svg}"


def records(extra=(), gap=0.4, capped=None, missing=()):
    out = []
    for d in all_dimensions(extra):
        status = ("no data" if d.id in missing else
                  "shortfall" if d.ring == "social" else "overshoot")
        g = np.nan if d.id in missing else (3.0 if d.id == capped else gap)
        out.append({"dimension": d.id, "label": d.label, "ring": d.ring, "status": status,
                    "gap": g, "copied": d.id == "networks", "title": f"{d.label}: tooltip"})
    return out


def corner_angles(label: L.Label) -> list[float]:
    return [L.angle_of(x, y) for x, y in label.box]


def inside(angle: float, a0: float, a1: float) -> bool:
    return a0 - 1e-6 <= angle <= a1 + 1e-6


CASES = {
    "Raworth's 21": (),
    "with a council dimension": (Dimension("mobility", "Mobility and transport", "social"),),
}


@pytest.mark.parametrize("extra", CASES.values(), ids=CASES.keys())
def test_every_label_lies_within_its_wedge_and_none_overlap(extra):
    layout = L.layout(records(extra, capped="climate_change"))
    labels = layout.labels()
    assert len(labels) == len(all_dimensions(extra)) + 1  # + the capped overshoot's value
    for wedge, label in labels:
        for angle in corner_angles(label):
            assert inside(angle, wedge.a0, wedge.a1), (wedge.dimension, label.lines, angle)
    boxes = [shapely.Polygon(label.box) for _, label in labels]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not a.intersects(boxes[j]), (labels[i][1].lines, labels[j][1].lines)
    # Social labels stay inside the foundation; ecological ones beyond the overshoot zone.
    for wedge, label in labels:
        radii = [math.hypot(x, y) for x, y in label.box]
        if wedge.ring == "social":
            assert L.R_HOLE < min(radii) and max(radii) < L.R_FOUNDATION, label.lines
        elif label is wedge.label:
            assert min(radii) > L.R_OVERSHOOT, label.lines
    # Everything fits the drawing.
    for _, label in labels:
        for x, y in label.box:
            assert abs(x) < L.HALF_WIDTH and abs(y) < L.HALF_HEIGHT, label.lines


def test_raworths_order_round_each_ring_from_twelve_o_clock():
    layout = L.layout(records())
    social = [w for w in layout.wedges if w.ring == "social"]
    ecological = [w for w in layout.wedges if w.ring == "ecological"]
    assert [w.dimension for w in social][:3] == ["food", "water", "health"]
    assert [w.dimension for w in ecological][0] == "climate_change"
    for ring in (social, ecological):
        assert ring[0].a0 < 1 and ring[-1].a1 > 359  # all the way round
        assert all(a.a1 < b.a0 for a, b in zip(ring, ring[1:]))  # clockwise, never overlapping
    assert all(w.band == (L.R_FOUNDATION, L.R_MIDDLE) for w in social)
    assert all(w.band == (L.R_MIDDLE, L.R_CEILING) for w in ecological)


def test_a_huge_overshoot_is_capped_visibly_and_labelled_with_its_value():
    layout = L.layout(records(capped="climate_change", gap=0.25))
    wedges = {w.dimension: w for w in layout.wedges}
    climate, air = wedges["climate_change"], wedges["air_pollution"]
    assert climate.capped and climate.bar == (L.R_CEILING, L.R_OVERSHOOT)
    assert climate.value_label.lines == ("+300%",)
    # The others keep their scale: 25 % of the overshoot zone.
    assert air.bar[1] - air.bar[0] == pytest.approx(0.25 * (L.R_OVERSHOOT - L.R_CEILING))
    shortfall = wedges["health"].bar
    assert shortfall[1] - shortfall[0] == pytest.approx(0.25 * (L.R_FOUNDATION - L.R_HOLE))


def test_the_svg_draws_the_layout_with_quiet_no_data_and_striped_authority_values():
    svg = doughnut_svg.render(records(missing=("food", "ocean_acidification"),
                                      capped="climate_change"), "Testward <&>")
    root = ET.fromstring(svg)  # well formed, the name escaped
    texts = [line.text for t in root.iter(f"{SVG}text") for line in t]
    for wedge, label in L.layout(records(capped="climate_change")).labels():
        assert all(line in texts for line in label.lines), label.lines
    assert "+300%" in texts
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert titles[0].startswith("Doughnut of Testward <&>")
    assert "Networks: tooltip" in titles  # every wedge has its tooltip
    desc = root.find(f"{SVG}desc").text
    assert "no data for Food" in desc and "Networks shortfall of 40% (authority value)" in desc
    assert 'fill="url(#dn-stripes)"' in svg
    compact = doughnut_svg.render(records(), "Testward", compact=True)
    assert "<text" not in compact and "<title" in compact
