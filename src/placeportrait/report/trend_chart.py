"""A ward's trends as the reports and the app show them: one row per indicator with a
series, its direction of travel (:mod:`placeportrait.trends`) and a small SVG chart of the
ward against its threshold, its authority and its nation.

Every text from the store is escaped here; the result is one HTML string, placed as is by
the report template and by the app's ``RawHtml``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeportrait import trends
from placeportrait.doughnut import APPORTIONED_FLAG
from placeportrait.missing import is_missing

WIDTH, HEIGHT, PAD_X, PAD_TOP, PAD_BOTTOM = 200, 64, 6, 6, 14
WARD, AUTHORITY, NATION, THRESHOLD = "#0072B2", "#D55E00", "#6f6f6f", "#000000"  # Okabe–Ito
ORDER = {trends.WORSENING: 0, trends.IMPROVING: 1, trends.NO_CLEAR_CHANGE: 2, "": 3}
LEGEND = ("Blue: the ward (a gap where the series breaks, at the grey vertical line); "
          "orange dashed: its authority; grey dotted: its nation; black dashed: the threshold. "
          "Each chart has its own scale.")


@dataclass
class TrendRow:
    indicator: str
    title: str
    unit: str
    span: str
    direction: str
    basis: str
    change_text: str
    needed_text: str
    break_text: str
    copied: bool
    svg: str


def ward_trends(rows: pd.DataFrame, breaks: pd.DataFrame | None, fmt) -> list[TrendRow]:
    """The trend rows of one ward, from its tidy rows of every period (``export.tidy_scores``
    with the trend marks): each indicator with two or more dated periods, worsening first.
    ``fmt`` formats a number (``report.content.fmt_number``)."""
    dated = trends.series(rows, breaks)
    counts = dated.groupby("indicator")["value"].count()
    out = []
    for indicator in counts[counts >= 2].index:
        points = dated[dated["indicator"] == indicator]
        # the marks sit on the row of the series' last period with a value (trends.attach)
        out.append(_row(points, points[points["value"].notna()].iloc[-1], fmt))
    return sorted(out, key=lambda r: (ORDER.get(r.direction, 3), r.title))


def _row(points: pd.DataFrame, mark: pd.Series, fmt) -> TrendRow:
    unit = "" if is_missing(mark.get("unit")) else str(mark["unit"])
    copied = APPORTIONED_FLAG in str(mark.get("flags") or "")
    change = mark.get("change_per_year")
    needed = [(year, mark.get(f"needed_{year}")) for year in trends.TARGET_YEARS]
    needed_text = "; ".join(f"{_signed(v, fmt)} by {year}" for year, v in needed
                            if not is_missing(v))
    brk = str(mark.get("series_break") or "")
    valued = points[points["value"].notna()]
    return TrendRow(
        indicator=str(mark["indicator"]), title=str(mark.get("title") or mark["indicator"]),
        unit=unit, span=f"{valued['period'].iloc[0]} to {valued['period'].iloc[-1]}",
        direction=str(mark.get("direction") or ""), basis=str(mark.get("direction_basis") or ""),
        change_text="" if is_missing(change) else f"{_signed(change, fmt)} a year",
        needed_text=needed_text, break_text=brk, copied=copied,
        svg=chart_svg(points, mark, copied))


def _signed(value, fmt) -> str:
    text = fmt(value)
    return f"+{text}" if float(value) > 0 else text


def chart_svg(points: pd.DataFrame, mark: pd.Series, copied: bool) -> str:
    """The ward's series (one line per comparable run), its authority's and nation's
    values where the source gives them, and the threshold, as a small SVG."""
    ward = points[["year", "value", "run"]].dropna(subset=["value"])
    lines = {"authority": points[["year", "authority_value", "run"]].dropna(),
             "nation": points[["year", "nation_value", "run"]].dropna()}
    threshold = mark.get("threshold")
    ys = [ward["value"], lines["nation"]["nation_value"],
          lines["authority"]["authority_value"] if not copied else pd.Series(dtype=float),
          pd.Series([threshold], dtype=float)]
    y_all = pd.concat(ys).dropna().to_numpy(float)
    x0, x1 = float(points["year"].min()), float(points["year"].max())
    y0, y1 = float(y_all.min()), float(y_all.max())
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    sx = lambda x: PAD_X + (WIDTH - 2 * PAD_X) * ((x - x0) / (x1 - x0) if x1 > x0 else 0.5)
    sy = lambda y: PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1 - (y - y0) / (y1 - y0))
    parts = []
    if not is_missing(threshold):
        parts.append(_hline(sy(float(threshold)), THRESHOLD, "3 2"))
    # every line breaks where the ward's series breaks
    for _, run in lines["nation"].groupby("run"):
        parts.append(_polyline(run.iloc[:, :2].to_numpy(float), sx, sy, NATION, "1 2"))
    for _, run in lines["authority"].groupby("run") if not copied else ():
        parts.append(_polyline(run.iloc[:, :2].to_numpy(float), sx, sy, AUTHORITY, "4 2"))
    for _, run in ward.groupby("run"):
        parts.append(_polyline(run[["year", "value"]].to_numpy(float), sx, sy, WARD, None, 1.8))
        parts.extend(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="1.8" fill="{WARD}"/>'
                     for x, y in run[["year", "value"]].to_numpy(float))
    for year in _break_years(points):
        parts.append(f'<line x1="{sx(year):.1f}" x2="{sx(year):.1f}" y1="{PAD_TOP}" '
                     f'y2="{HEIGHT - PAD_BOTTOM}" stroke="#999" stroke-dasharray="2 2"/>')
    parts.append(_year_label(PAD_X, x0, "start"))
    parts.append(_year_label(WIDTH - PAD_X, x1, "end"))
    alt = html.escape(_alt_text(ward, mark, threshold), quote=True)
    return (f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" role="img" aria-label="{alt}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{alt}</title>{"".join(parts)}</svg>')


def _break_years(points: pd.DataFrame) -> list[float]:
    """Halfway between the last period before each break and the first after it."""
    years = points["year"].to_numpy(float)
    starts = np.flatnonzero(points["break"].to_numpy(bool))
    return [(years[i - 1] + years[i]) / 2 for i in starts if i > 0]


def _polyline(xy: np.ndarray, sx, sy, colour: str, dash: str | None, width: float = 1.2) -> str:
    if len(xy) == 1:  # a run of one period: a mark, no line
        (x, y), = xy
        return (f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2" fill="none" '
                f'stroke="{colour}" stroke-width="1"/>')
    if len(xy) < 2:
        return ""
    coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in xy)
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dashed}/>')


def _hline(y: float, colour: str, dash: str) -> str:
    return (f'<line x1="{PAD_X}" x2="{WIDTH - PAD_X}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="0.8" stroke-dasharray="{dash}"/>')


def _year_label(x: float, year: float, anchor: str) -> str:
    return (f'<text x="{x}" y="{HEIGHT - 3}" font-size="9" text-anchor="{anchor}" '
            f'fill="#333">{int(year)}</text>')


def _alt_text(ward: pd.DataFrame, mark: pd.Series, threshold) -> str:
    first, last = ward.iloc[0], ward.iloc[-1]
    text = (f"{mark.get('title') or mark['indicator']}: {first['value']:.3g} in "
            f"{int(first['year'])}, {last['value']:.3g} in {int(last['year'])}")
    if not is_missing(threshold):
        text += f"; threshold {float(threshold):.3g}"
    return text


def table_html(rows: list[TrendRow], authority: str) -> str:
    """The trends table: measure, chart, direction of travel with its basis, change a year,
    and the yearly change needed to reach the threshold."""
    if not rows:
        return ('<p class="note">No indicator has values for two or more periods for this '
                'ward yet, so there is no direction of travel to show.</p>')
    e = html.escape
    body = []
    for r in rows:
        who = f" ({e(authority)}'s figure)" if r.copied and authority else (
            " (authority figure)" if r.copied else "")
        brk = f'<br><span class="note">Series breaks at {e(r.break_text)}</span>' if r.break_text else ""
        direction = (f'<strong class="trend-{e(r.direction.replace(" ", "-"))}">{e(r.direction)}'
                     f'</strong>' if r.direction else "")
        body.append(
            f"<tr><th scope=\"row\">{e(r.title)}{who}<br><span class=\"note\">{e(r.span)}"
            f"{', ' + e(r.unit) if r.unit else ''}</span></th>"
            f"<td>{r.svg}</td>"
            f"<td>{direction + '<br>' if direction else ''}<span class=\"note\">{e(r.basis)}"
            f"</span>{brk}</td>"
            f"<td>{e(r.change_text)}</td><td>{e(r.needed_text) or '—'}</td></tr>")
    return ('<table class="trends"><thead><tr><th scope="col">Measure</th><th scope="col">Series</th>'
            '<th scope="col">Direction of travel</th><th scope="col">Change</th>'
            '<th scope="col">Needed a year to reach the threshold</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table><p class="note">{e(LEGEND)}</p>')
