"""Where everything in Raworth's doughnut goes: one layout that the app and the reports draw.

The social foundation's dimensions sit round the inner half of the green band, the
ecological ceiling's round its outer half, each ring all the way round the circle in
Raworth's order (clockwise from 12 o'clock; council dimensions after hers). A social
shortfall is a wedge reaching *inward* from the foundation, its length
:math:`s (R_F - R_0)` for a shortfall :math:`s \\le 1`; an ecological overshoot a wedge
reaching *outward* from the ceiling, :math:`o (R_O - R_C)` for :math:`o \\le 1`. An
overshoot above 100 % is drawn at 100 %, marked with a break and labelled with its value,
so one huge overshoot never shrinks the others.

Every wedge is labelled on its own angle: a social label runs along its wedge's radius
inside the foundation (turned to read left to right), an ecological label sits beyond
the overshoot zone, anchored away from the circle. Each label's box is computed here, so
a test can check that it lies within its wedge's angle and overlaps no other label.

Angles are in degrees clockwise from 12 o'clock; coordinates are SVG units with y down.
Nothing here draws: :mod:`placeportrait.report.doughnut_svg` turns a :class:`Layout`
into SVG for the reports and the app alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SOCIAL, ECOLOGICAL = "social", "ecological"

R_HOLE = 30.0  # a shortfall of 100 % reaches here
R_FOUNDATION = 150.0
R_MIDDLE = 172.0  # social slots inside, ecological outside
R_CEILING = 194.0
R_OVERSHOOT = 264.0  # an overshoot of 100 % (or more) reaches here
R_LABEL = 276.0  # ecological labels start here
FONT = 13.0
LINE = 15.0  # line height of a label
#: Advance of an average character in DejaVu Sans, the reports' font, as a share of the
#: font size; generous, so the overlap test errs on the safe side.
CHAR_WIDTH = 0.6
WRAP = 12  # labels longer than this break at the space nearest their middle
GAP_DEGREES = 0.8  # between neighbouring wedges
HALF_WIDTH = 440.0  # the drawing spans -HALF_WIDTH .. HALF_WIDTH across
HALF_HEIGHT = 330.0


@dataclass(frozen=True)
class Label:
    """A label's text lines, its anchor point and rotation (degrees, SVG sense), its
    ``text-anchor`` and its box as four corner points, for drawing and for tests."""

    lines: tuple[str, ...]
    x: float
    y: float
    rotation: float
    anchor: str
    box: tuple[tuple[float, float], ...]
    size: float = FONT


@dataclass(frozen=True)
class Wedge:
    """One dimension's slot: its angles, its part of the band, and its bar if it has a gap.

    ``bar`` is (inner radius, outer radius) of the shortfall or overshoot wedge, or None;
    ``capped`` marks an overshoot above 100 % drawn at 100 %; ``copied`` a dimension whose
    every indicator with data is an authority value given to each ward."""

    dimension: str
    label_text: str
    ring: str
    status: str
    gap: float
    a0: float
    a1: float
    band: tuple[float, float]
    bar: tuple[float, float] | None
    capped: bool
    copied: bool
    title: str
    label: Label | None = None
    value_label: Label | None = None  # the value of a capped overshoot


@dataclass
class Layout:
    wedges: list[Wedge] = field(default_factory=list)

    def labels(self) -> list[tuple[Wedge, Label]]:
        """Every label with the wedge it belongs to."""
        out = []
        for wedge in self.wedges:
            out += [(wedge, lab) for lab in (wedge.label, wedge.value_label) if lab is not None]
        return out


def point(r: float, angle: float) -> tuple[float, float]:
    rad = math.radians(angle)
    return r * math.sin(rad), -r * math.cos(rad)


def angle_of(x: float, y: float) -> float:
    """The angle of a point, 0–360 clockwise from 12 o'clock."""
    return math.degrees(math.atan2(x, -y)) % 360


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * CHAR_WIDTH * size


def wrap(text: str, width: int = WRAP) -> tuple[str, ...]:
    """One line, or two broken at the space nearest the middle."""
    if len(text) <= width or " " not in text:
        return (text,)
    middle = len(text) / 2
    cut = min((i for i, ch in enumerate(text) if ch == " "), key=lambda i: abs(i - middle))
    return text[:cut], text[cut + 1:]


def _box(cx: float, cy: float, width: float, height: float, rotation: float):
    """Corners of a ``width`` × ``height`` box centred on (cx, cy), turned by ``rotation``."""
    c, s = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    corners = []
    for dx, dy in ((-width / 2, -height / 2), (width / 2, -height / 2),
                   (width / 2, height / 2), (-width / 2, height / 2)):
        corners.append((cx + dx * c - dy * s, cy + dx * s + dy * c))
    return tuple(corners)


def social_label(text: str, a0: float, a1: float, size: float = FONT) -> Label:
    """Along the wedge's middle radius, between the hole and the foundation, read left to
    right (turned half a circle on the left side). The label starts far enough out for its
    height to fit the wedge's angle, and shrinks if it would then reach the foundation."""
    mid = (a0 + a1) / 2
    lines = wrap(text)
    rotation = mid - 90 if mid < 180 else mid + 90
    half_angle = math.radians((a1 - a0) / 2) * 0.9
    for scale in (1.0, 0.9, 0.8, 0.7):
        width = max(text_width(line, size * scale) for line in lines)
        height = LINE * len(lines) * scale
        start = max(R_HOLE + 12, height / 2 / math.tan(half_angle))
        centre = max((R_HOLE + R_FOUNDATION) / 2 + 8, start + width / 2)
        if centre + width / 2 <= R_FOUNDATION - 4:
            break
    x, y = point(centre, mid)
    return Label(lines, x, y, rotation, "middle", _box(x, y, width, height, rotation),
                 size * scale)


def ecological_label(text: str, a0: float, a1: float, size: float = FONT) -> Label:
    """Beyond the overshoot zone on the wedge's middle angle, anchored away from the
    circle: to the right on the right side, to the left on the left, centred at the top
    and the bottom."""
    mid = (a0 + a1) / 2
    lines = wrap(text, 18)
    x, y = point(R_LABEL, mid)
    width = max(text_width(line, size) for line in lines)
    height = LINE * len(lines) * size / FONT
    side = math.sin(math.radians(mid))
    if abs(side) < 0.2:
        anchor, cx = "middle", x
    elif side > 0:
        anchor, cx = "start", x + width / 2
    else:
        anchor, cx = "end", x - width / 2
    # Grow away from the circle vertically too: up at the top, down at the bottom.
    cy = y - height / 2 if math.cos(math.radians(mid)) > 0 else y + height / 2
    return Label(lines, x, cy, 0.0, anchor, _box(cx, cy, width, height, 0.0), size)


def value_label(text: str, a0: float, a1: float, size: float = FONT) -> Label:
    """A capped overshoot's value, inside its bar near the tip."""
    x, y = point(R_OVERSHOOT - 16, (a0 + a1) / 2)
    return Label((text,), x, y, 0.0, "middle",
                 _box(x, y, text_width(text, size), LINE * size / FONT, 0.0), size)


def slots(n: int) -> list[tuple[float, float]]:
    """``n`` equal wedges round the circle from 12 o'clock, a small gap between each."""
    step = 360.0 / max(n, 1)
    return [(i * step + GAP_DEGREES / 2, (i + 1) * step - GAP_DEGREES / 2) for i in range(n)]


def bar_of(ring: str, status: str, gap: float) -> tuple[tuple[float, float] | None, bool]:
    """The shortfall or overshoot wedge's radii, and whether it was capped at 100 %."""
    if status == "shortfall" and gap > 0:
        return (R_FOUNDATION - min(gap, 1.0) * (R_FOUNDATION - R_HOLE), R_FOUNDATION), False
    if status == "overshoot" and gap > 0:
        return (R_CEILING, R_CEILING + min(gap, 1.0) * (R_OVERSHOOT - R_CEILING)), gap > 1
    return None, False


def layout(records: list[dict], *, labels: bool = True, percent=lambda g: f"{100 * g:.0f}%") -> Layout:
    """The doughnut of one area.

    ``records``: one per dimension, in Raworth's order within each ring, with
    ``dimension, label, ring, status, gap`` (shortfall or overshoot as a share, NaN
    without data), ``copied`` (bool) and ``title`` (the wedge's tooltip). ``labels=False``
    leaves the labels out (the small doughnuts of the compare view).
    """
    out = Layout()
    for ring, band in ((SOCIAL, (R_FOUNDATION, R_MIDDLE)), (ECOLOGICAL, (R_MIDDLE, R_CEILING))):
        part = [r for r in records if r["ring"] == ring]
        for (a0, a1), r in zip(slots(len(part)), part):
            gap = float(r["gap"])
            bar, capped = bar_of(ring, r["status"], gap)
            text = r["label"]
            label = value = None
            if labels:
                label = (social_label if ring == SOCIAL else ecological_label)(text, a0, a1)
                if capped:
                    value = value_label(f"+{percent(gap)}", a0, a1)
            out.wedges.append(Wedge(r["dimension"], text, ring, r["status"], gap, a0, a1, band,
                                    bar, capped, bool(r.get("copied")), r.get("title", text),
                                    label, value))
    return out
