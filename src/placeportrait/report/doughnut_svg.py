"""A ward's doughnut as an SVG vector graphic, written directly (no browser, no plotting
library), for the reports and the app alike.

Everything is placed by :mod:`placeportrait.doughnut_layout`: Raworth's 12 social
dimensions round the inner half of the green band, her 9 ecological ones round the outer
half, each labelled on its own angle.

- the band is green where the ward meets the foundation or stays within the ceiling,
  light vermillion where it does not, and light grey (quiet, unlabelled in colour) where
  there is no data;
- a social shortfall is a vermillion wedge reaching *inward* from the foundation, its
  length proportional to the shortfall (a shortfall of 100 % reaches the centre);
- an ecological overshoot is a vermillion wedge reaching *outward* from the ceiling, to
  scale up to 100 %; beyond that it is drawn at 100 % with a white break and its value;
- a dimension known only from authority values given to every ward is striped: it says
  nothing about how the ward differs from its neighbours.

The colours are from Okabe & Ito's colour-blind-safe palette, and status is carried by
position, wedge length and lightness as well as by hue. The SVG has a ``<title>`` and a
``<desc>`` that say in words what it shows, and every wedge has its own ``<title>``.
"""

from __future__ import annotations

from html import escape

from placeportrait import doughnut_layout as L
from placeportrait.doughnut import status_words
from placeportrait.dimensions import ECOLOGICAL, SOCIAL

GREEN = "#009E73"  # Okabe-Ito bluish green: achieved / within
VERMILLION = "#D55E00"  # Okabe-Ito vermillion: shortfall / overshoot wedges
LIGHT_VERMILLION = "#F6C9A8"  # the band where the ward is in shortfall / overshoot
NO_DATA_FILL = "#E6E6E6"
NO_DATA_INK = "#6B6B6B"
INK = "#1A1A1A"

BAND_FILL = {"achieved": GREEN, "within": GREEN, "shortfall": LIGHT_VERMILLION,
             "overshoot": LIGHT_VERMILLION}


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def sector(r_in: float, r_out: float, a0: float, a1: float) -> str:
    """Path of an annular sector from angle ``a0`` to ``a1`` (clockwise, a1 > a0)."""
    large = 1 if (a1 - a0) > 180 else 0
    x0, y0 = L.point(r_out, a0)
    x1, y1 = L.point(r_out, a1)
    x2, y2 = L.point(r_in, a1)
    x3, y3 = L.point(r_in, a0)
    return (f"M{_f(x0)},{_f(y0)} A{_f(r_out)},{_f(r_out)} 0 {large} 1 {_f(x1)},{_f(y1)} "
            f"L{_f(x2)},{_f(y2)} A{_f(r_in)},{_f(r_in)} 0 {large} 0 {_f(x3)},{_f(y3)} Z")


def _percent(x: float) -> str:
    from placeportrait.report.content import fmt_percent

    return fmt_percent(x)


def _gap(record: dict) -> float:
    return record["shortfall"] if record["ring"] == SOCIAL else record["overshoot"]


def _lens_part(dims: list[dict], lens: str) -> list[dict]:
    ring = lens.split("-", 1)[1]
    return [d for d in dims if d["lens"] == lens and d["ring"] == ring]


def _wedge_phrase(record: dict) -> str:
    text = status_words(record["status"], record["gap"], _percent)
    return text + (" (authority value)" if record.get("copied") else "")


def describe(name: str, records: list[dict]) -> str:
    """The ``<desc>``: the graphic in words, from :func:`placeportrait.doughnut.wedge_records`."""
    sentences = [f"Doughnut of {name}. Inner ring: the social foundation, wedges reaching "
                 "inward show shortfall. Outer ring: the ecological ceiling, wedges reaching "
                 "outward show overshoot. Striped wedges are authority values given to every "
                 "ward."]
    for ring, title in ((SOCIAL, "Social foundation"), (ECOLOGICAL, "Ecological ceiling")):
        part = [r for r in records if r["ring"] == ring]
        measured = [f"{r['label']} {_wedge_phrase(r)}" for r in part if r["status"] != "no data"]
        missing = [r["label"] for r in part if r["status"] == "no data"]
        text = f"{title}: {'; '.join(measured) if measured else 'no data'}"
        if measured and missing:
            text += f"; no data for {', '.join(missing)}"
        sentences.append(text + ".")
    return " ".join(sentences)


LENS_ORDER = ("local-social", "local-ecological", "global-social", "global-ecological")


def _label_svg(label: L.Label, ink: str) -> str:
    """A label as one ``<text>``: one ``<tspan>`` a line, centred on the label's point."""
    line = L.LINE * label.size / L.FONT
    first = -(len(label.lines) - 1) * line / 2 + 0.33 * label.size  # first baseline
    spans = "".join(f'<tspan x="0" y="{_f(first + i * line)}">{escape(text)}</tspan>'
                    for i, text in enumerate(label.lines))
    turn = f" rotate({_f(label.rotation)})" if label.rotation else ""
    size = f' font-size="{_f(label.size)}"' if label.size != L.FONT else ""
    return (f'<text transform="translate({_f(label.x)},{_f(label.y)}){turn}" '
            f'text-anchor="{label.anchor}" fill="{ink}"{size}>{spans}</text>')


def render(records: list[dict], name: str, *, id_prefix: str = "dn", for_pdf: bool = False,
           compact: bool = False) -> str:
    """The doughnut of one area as an SVG string.

    ``records`` are :func:`placeportrait.doughnut.wedge_records`. Wedges of one kind share
    a single ``<path>``, which keeps the SVG small and quick to render; each wedge also
    has its own ``<title>`` on an invisible hit area (a tooltip in a browser), left out
    when ``for_pdf`` (a PDF shows no tooltips; its alt text is the ``<title>`` and
    ``<desc>``). ``compact`` leaves the labels out, for the small doughnuts of the
    compare view.
    """
    p = escape(id_prefix)
    layout = L.layout(records, labels=not compact, percent=_percent)
    fills: dict[str, list[str]] = {GREEN: [], LIGHT_VERMILLION: [], NO_DATA_FILL: []}
    bars, striped, breaks, titled = [], [], [], []
    for w in layout.wedges:
        band = sector(*w.band, w.a0, w.a1)
        fills[BAND_FILL.get(w.status, NO_DATA_FILL)].append(band)
        if w.copied:
            striped.append(band)
        if w.bar is not None:
            bar = sector(*w.bar, w.a0, w.a1)
            bars.append(bar)
            if w.copied:
                striped.append(bar)
        if w.capped:
            breaks.append(sector(L.R_OVERSHOOT - 34, L.R_OVERSHOOT - 30, w.a0, w.a1))
        if not for_pdf:
            reach = w.bar if w.bar is not None else w.band
            hit = sector(min(reach[0], w.band[0]), max(reach[1], w.band[1]), w.a0, w.a1)
            titled.append(f'<path d="{hit}" fill="#FFFFFF" fill-opacity="0">'
                          f'<title>{escape(w.title)}</title></path>')
    half_w, half_h = ((L.R_OVERSHOOT + 6,) * 2 if compact else (L.HALF_WIDTH, L.HALF_HEIGHT))
    size = 'width="100%"' if compact else f'width="{_f(2 * half_w)}" height="{_f(2 * half_h)}"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_f(-half_w)} {_f(-half_h)} '
        f'{_f(2 * half_w)} {_f(2 * half_h)}" {size} role="img" class="doughnut" '
        f'aria-labelledby="{p}-title {p}-desc" '
        f'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">',
        f'<title id="{p}-title">Doughnut of {escape(name)}: shortfall of the social foundation '
        f'and overshoot of the ecological ceiling</title>',
        f'<desc id="{p}-desc">{escape(describe(name, records))}</desc>',
        f'<defs><pattern id="{p}-stripes" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="2.4" height="6" fill="#FFFFFF" '
        f'fill-opacity="0.75"/></pattern></defs>',
    ]
    for fill, paths in fills.items():
        if paths:
            parts.append(f'<path d="{" ".join(paths)}" fill="{fill}" stroke="#FFFFFF" '
                         f'stroke-width="0.8"/>')
    if bars:
        parts.append(f'<path d="{" ".join(bars)}" fill="{VERMILLION}"/>')
    if striped:
        parts.append(f'<path d="{" ".join(striped)}" fill="url(#{p}-stripes)"/>')
    if breaks:
        parts.append(f'<path d="{" ".join(breaks)}" fill="#FFFFFF"/>')
    parts.append(f'<circle r="{_f(L.R_FOUNDATION)}" fill="none" stroke="{INK}" '
                 f'stroke-width="1.2"/>')
    parts.append(f'<circle r="{_f(L.R_CEILING)}" fill="none" stroke="{INK}" '
                 f'stroke-width="1.2"/>')
    if not compact:
        inner = [(w.label, w.status) for w in layout.wedges if w.ring == SOCIAL]
        outer = [(w.label, w.status) for w in layout.wedges if w.ring == ECOLOGICAL]
        values = [w.value_label for w in layout.wedges if w.value_label is not None]
        # Social labels cross the shortfall wedges: a white halo under each keeps it
        # readable (drawn as a copy: WeasyPrint has no paint-order).
        parts.append(f'<g font-size="{_f(L.FONT)}" stroke="#FFFFFF" stroke-width="3.2" '
                     f'stroke-linejoin="round" aria-hidden="true">'
                     + "".join(_label_svg(lab, "#FFFFFF") for lab, _ in inner) + "</g>")
        parts.append(f'<g font-size="{_f(L.FONT)}">'
                     + "".join(_label_svg(lab, _ink(status)) for lab, status in inner) + "</g>")
        parts.append(f'<g font-size="{_f(L.FONT)}">'
                     + "".join(_label_svg(lab, _ink(status)) for lab, status in outer) + "</g>")
        if values:
            parts.append(f'<g font-size="{_f(L.FONT)}" font-weight="bold">'
                         + "".join(_label_svg(lab, "#FFFFFF") for lab in values) + "</g>")
    parts.extend(titled)
    parts.append("</svg>")
    return "\n".join(parts)


def _ink(status: str) -> str:
    return NO_DATA_INK if status == "no data" else INK


def lens_key(dims: list[dict]) -> list[dict]:
    """The key beside the doughnut, lens by lens: each dimension with data and its status,
    and those without (``dims``: :func:`placeportrait.report.content.dimension_scores`)."""
    key = []
    for lens in LENS_ORDER:
        part = _lens_part(dims, lens)
        measured, missing = [], []
        for d in part:
            entry = {"label": d["label"], "status": d["status"]}
            if d["status"] == "no data":
                missing.append(entry)
                continue
            gap = _gap(d)
            entry["text"] = {"shortfall": f"{_percent(gap)} short",
                             "overshoot": f"{_percent(gap)} over",
                             "achieved": "met", "within": "within"}[d["status"]]
            measured.append(entry)
        key.append({"lens": lens, "label": lens.replace("-", " ").capitalize(),
                    "measured": measured, "missing": missing, "total": len(part)})
    return key
