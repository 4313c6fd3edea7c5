"""A ward's doughnut as an SVG vector graphic, written directly (no browser, no plotting library).

The layout follows the four City Portrait lenses. The left half of the doughnut shows the
*local* lenses and the right half the *global* lenses; in each half the inner ring holds
the social dimensions and the outer ring the ecological ones, so each half-ring is one
lens. Every dimension has a numbered wedge, numbered in Raworth's order and mirrored
left and right, so dimension 5 sits at the same height in both halves:

- the band between the social foundation (inner circle) and the ecological ceiling
  (outer circle) is green where the ward meets the foundation or stays within the
  ceiling, light vermillion where it does not, and grey where there is no data;
- a social shortfall is a vermillion wedge reaching *inward* from the foundation, its
  length proportional to the shortfall (a shortfall of 100% reaches the centre);
- an ecological overshoot is a vermillion wedge reaching *outward* from the ceiling,
  drawn to scale up to 100% overshoot; beyond that it is drawn at 100% with a dashed tip.

The colours are from Okabe & Ito's colour-blind-safe palette, and status is carried by
position, wedge length and lightness as well as by hue. The SVG has a ``<title>`` and a ``<desc>`` that
says in words what it shows, and every wedge has its own ``<title>``.
"""

from __future__ import annotations

import math
from html import escape

from placeportrait.dimensions import ECOLOGICAL, SOCIAL

GREEN = "#009E73"  # Okabe-Ito bluish green: achieved / within
VERMILLION = "#D55E00"  # Okabe-Ito vermillion: shortfall / overshoot wedges
LIGHT_VERMILLION = "#F6C9A8"  # the band where the ward is in shortfall / overshoot
NO_DATA_FILL = "#D4D4D4"
INK = "#1A1A1A"

# Radii in SVG units (the viewBox is 480 wide).
R_HOLE = 16  # a shortfall of 100% reaches here
R_FOUNDATION = 92  # the social foundation: inner edge of the band
R_MIDDLE = 118  # between the social and the ecological ring
R_CEILING = 144  # the ecological ceiling: outer edge of the band
R_MAX = 200  # an overshoot of 100% (or more) reaches here
NUMBER_SIZE = 13  # font size of the wedge numbers, in SVG units
# The advance of a digit in DejaVu Sans, the reports' font: 1303 of 2048 units per em.
# (Liberation Sans and Arial, the fallbacks, have 1139: a number would sit 1 unit off centre.)
DIGIT_ADVANCE = 1303 / 2048
WEDGE_GAP = 0.9  # degrees between wedges
HALF_GAP = 5.0  # degrees left empty at the top and bottom between the two halves

BAND_FILL = {"achieved": GREEN, "within": GREEN, "shortfall": LIGHT_VERMILLION,
             "overshoot": LIGHT_VERMILLION}


def _point(r: float, angle: float) -> tuple[float, float]:
    """Angle in degrees clockwise from 12 o'clock; y points down."""
    rad = math.radians(angle)
    return r * math.sin(rad), -r * math.cos(rad)


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def sector(r_in: float, r_out: float, a0: float, a1: float) -> str:
    """Path of an annular sector from angle ``a0`` to ``a1`` (clockwise, a1 > a0)."""
    large = 1 if (a1 - a0) > 180 else 0
    x0, y0 = _point(r_out, a0)
    x1, y1 = _point(r_out, a1)
    x2, y2 = _point(r_in, a1)
    x3, y3 = _point(r_in, a0)
    return (f"M{_f(x0)},{_f(y0)} A{_f(r_out)},{_f(r_out)} 0 {large} 1 {_f(x1)},{_f(y1)} "
            f"L{_f(x2)},{_f(y2)} A{_f(r_in)},{_f(r_in)} 0 {large} 0 {_f(x3)},{_f(y3)} Z")


def _slots(n: int, side: str) -> list[tuple[float, float]]:
    """Angular extents of ``n`` wedges in one half, numbered from the top downward."""
    start, end = HALF_GAP / 2, 180 - HALF_GAP / 2
    step = (end - start) / max(n, 1)
    slots = []
    for i in range(n):
        a0, a1 = start + i * step + WEDGE_GAP / 2, start + (i + 1) * step - WEDGE_GAP / 2
        if side == "left":  # mirror: 360 - angle, keeping a0 < a1
            a0, a1 = 360 - a1, 360 - a0
        slots.append((a0, a1))
    return slots


def _percent(x: float) -> str:
    from placeportrait.report.content import fmt_percent

    return fmt_percent(x)


def _gap(record: dict) -> float:
    return record["shortfall"] if record["ring"] == SOCIAL else record["overshoot"]


def status_phrase(record: dict) -> str:
    """``shortfall of 9.1%``, ``foundation achieved``, ``no data``."""
    status = record["status"]
    if status == "shortfall":
        return f"shortfall of {_percent(_gap(record))}"
    if status == "overshoot":
        return f"overshoot of {_percent(_gap(record))}"
    if status == "achieved":
        return "foundation achieved"
    if status == "within":
        return "within the ceiling"
    return "no data"


def _lens_part(dims: list[dict], lens: str) -> list[dict]:
    ring = lens.split("-", 1)[1]
    return [d for d in dims if d["lens"] == lens and d["ring"] == ring]


def describe(name: str, dims: list[dict]) -> str:
    """The ``<desc>``: the graphic in words."""
    sentences = [f"Doughnut of {name}. Left half: local lenses; right half: global lenses. "
                 "Inner ring: social foundation, wedges reaching inward show shortfall. "
                 "Outer ring: ecological ceiling, wedges reaching outward show overshoot."]
    for lens in LENS_ORDER:
        part = _lens_part(dims, lens)
        with_data = [d for d in part if d["status"] != "no data"]
        label = lens.replace("-", " ").capitalize()
        if not with_data:
            sentences.append(f"{label}: no data.")
            continue
        bits = [f"{d['label']} {status_phrase(d)}" for d in with_data]
        rest = len(part) - len(with_data)
        sentences.append(f"{label}: {'; '.join(bits)}"
                         + (f"; no data for the other {rest}." if rest else "."))
    return " ".join(sentences)


LENS_ORDER = ("local-social", "local-ecological", "global-social", "global-ecological")


def _numbers_text(labels: list[tuple[float, float, str]]) -> str:
    """All the wedge numbers as one ``<text>`` whose every digit has its own position,
    each number centred on its point by the digits' advance. WeasyPrint draws each
    ``<text>`` with a layout of its own, and each centred one (``text-anchor="middle"``)
    as a PDF form of its own: one element instead of 42 halves the doughnut's cost."""
    xs, ys, digits = [], [], []
    advance = DIGIT_ADVANCE * NUMBER_SIZE
    for x, y, number in labels:
        start = x - len(number) * advance / 2
        for i, digit in enumerate(number):
            xs.append(_f(start + i * advance))
            ys.append(_f(y))
            digits.append(digit)
    return f'<text x="{" ".join(xs)}" y="{" ".join(ys)}">{"".join(digits)}</text>'


def render(dims: list[dict], name: str, *, id_prefix: str = "dn", for_pdf: bool = False) -> str:
    """The doughnut of one ward as an SVG string.

    ``dims`` are the records of :func:`placeportrait.report.content.dimension_scores`:
    one per lens × dimension with ``lens, dimension, label, ring, shortfall, overshoot,
    status``. Wedges of one kind share a single ``<path>``, which keeps the SVG small and
    quick to render; each wedge with data also has its own ``<title>`` (a tooltip in a
    browser, on an invisible hit area).

    ``for_pdf=True`` draws the same picture more cheaply for WeasyPrint: without the
    invisible hit areas (a PDF shows no tooltips; the alt text is the ``<title>`` and
    ``<desc>``) and with the wedge numbers in one ``<text>`` (:func:`_numbers_text`).
    """
    p = escape(id_prefix)
    numbers = {}
    for ring in (SOCIAL, ECOLOGICAL):
        ids = [d["dimension"] for d in dims if d["lens"] == "all" and d["ring"] == ring]
        numbers.update({dim: i for i, dim in enumerate(ids, start=1)})

    fills: dict[str, list[str]] = {GREEN: [], LIGHT_VERMILLION: [], NO_DATA_FILL: []}
    gaps: list[str] = []  # shortfall and overshoot wedges
    beyond: list[str] = []  # dashed tips of overshoot over 100%
    titled: list[str] = []  # invisible hit areas with a <title>, for wedges with data
    labels: list[tuple[float, float, str]] = []  # each wedge's number and where it goes
    for side, scope in (("left", "local"), ("right", "global")):
        for ring, r_in, r_out in ((SOCIAL, R_FOUNDATION, R_MIDDLE), (ECOLOGICAL, R_MIDDLE, R_CEILING)):
            lens = f"{scope}-{ring}"
            part = _lens_part(dims, lens)
            for (a0, a1), d in zip(_slots(len(part), side), part):
                status = d["status"]
                gap = _gap(d)
                band = sector(r_in, r_out, a0, a1)
                fills[BAND_FILL.get(status, NO_DATA_FILL)].append(band)
                outer = r_out
                if status == "shortfall" and gap > 0:
                    depth = min(float(gap), 1.0) * (R_FOUNDATION - R_HOLE)
                    gaps.append(sector(R_FOUNDATION - depth, R_FOUNDATION - 1.2, a0, a1))
                if status == "overshoot" and gap > 0:
                    reach = min(float(gap), 1.0) * (R_MAX - R_CEILING)
                    gaps.append(sector(R_CEILING + 1.2, R_CEILING + reach, a0, a1))
                    outer = R_CEILING + reach
                    if gap > 1:
                        beyond.append(sector(R_MAX + 2, R_MAX + 8, a0, a1))
                if status != "no data" and not for_pdf:
                    inner = R_FOUNDATION - (min(float(gap), 1.0) * (R_FOUNDATION - R_HOLE)
                                            if status == "shortfall" else 0)
                    title = escape(f"{d['label']}, {lens.replace('-', ' ')}: {status_phrase(d)}")
                    titled.append(f'<path d="{sector(min(inner, r_in), outer, a0, a1)}" '
                                  f'fill="#FFFFFF" fill-opacity="0"><title>{title}</title></path>')
                x, y = _point((r_in + r_out) / 2, (a0 + a1) / 2)
                labels.append((x, y + 4.5, str(numbers.get(d["dimension"], ""))))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-236 -236 472 452" '
        f'width="472" height="452" role="img" class="doughnut" '
        f'aria-labelledby="{p}-title {p}-desc" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">',
        f'<title id="{p}-title">Doughnut of {escape(name)}: shortfall of the social foundation '
        f'and overshoot of the ecological ceiling, by lens</title>',
        f'<desc id="{p}-desc">{escape(describe(name, dims))}</desc>',
    ]
    for fill, paths in fills.items():
        if paths:
            parts.append(f'<path d="{" ".join(paths)}" fill="{fill}" stroke="#FFFFFF" stroke-width="0.8"/>')
    if gaps:
        parts.append(f'<path d="{" ".join(gaps)}" fill="{VERMILLION}"/>')
    if beyond:
        parts.append(f'<path d="{" ".join(beyond)}" fill="none" stroke="{VERMILLION}" '
                     f'stroke-width="1.5" stroke-dasharray="3 2"/>')
    if for_pdf:
        parts.append(f'<g font-size="{NUMBER_SIZE}" fill="{INK}">{_numbers_text(labels)}</g>')
    else:
        numbers_text = "".join(f'<text x="{_f(x)}" y="{_f(y)}">{number}</text>' for x, y, number in labels)
        parts.append(f'<g font-size="{NUMBER_SIZE}" text-anchor="middle" fill="{INK}">{numbers_text}</g>')

    # The foundation and the ceiling, the divide between the halves, and the half labels.
    parts.append(f'<circle r="{R_FOUNDATION}" fill="none" stroke="{INK}" stroke-width="1.2"/>')
    parts.append(f'<circle r="{R_CEILING}" fill="none" stroke="{INK}" stroke-width="1.2"/>')
    parts.append(f'<line x1="0" y1="{-R_MAX - 10}" x2="0" y2="{R_MAX + 10}" stroke="{INK}" '
                 f'stroke-width="0.8" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="-234" y="-220" font-size="16" font-weight="bold" fill="{INK}">Local</text>')
    parts.append(f'<text x="-234" y="-203" font-size="12" fill="{INK}">this place</text>')
    parts.append(f'<text x="234" y="-220" font-size="16" font-weight="bold" fill="{INK}" '
                 f'text-anchor="end">Global</text>')
    parts.append(f'<text x="234" y="-203" font-size="12" fill="{INK}" text-anchor="end">'
                 f'its effect elsewhere</text>')
    parts.extend(titled)
    parts.append("</svg>")
    return "\n".join(parts)


LENS_PLACES = {"local-social": "inner ring, left", "local-ecological": "outer ring, left",
               "global-social": "inner ring, right", "global-ecological": "outer ring, right"}


def lens_key(dims: list[dict]) -> list[dict]:
    """The key beside the doughnut, lens by lens: each wedge's number, dimension and status.

    The numbering is Raworth's order within each ring, the same in both halves.
    """
    numbers = {}
    for ring in (SOCIAL, ECOLOGICAL):
        ids = [d["dimension"] for d in dims if d["lens"] == "all" and d["ring"] == ring]
        numbers.update({dim: i for i, dim in enumerate(ids, start=1)})
    key = []
    for lens in LENS_ORDER:
        part = _lens_part(dims, lens)
        measured, missing = [], []
        for d in part:
            entry = {"number": numbers.get(d["dimension"], ""), "label": d["label"], "status": d["status"]}
            if d["status"] == "no data":
                missing.append(entry)
                continue
            gap = _gap(d)
            entry["text"] = {"shortfall": f"{_percent(gap)} short", "overshoot": f"{_percent(gap)} over",
                             "achieved": "met", "within": "within"}[d["status"]]
            measured.append(entry)
        key.append({"lens": lens, "label": lens.replace("-", " ").capitalize(), "where": LENS_PLACES[lens],
                    "measured": measured, "missing": missing, "total": len(part)})
    return key
