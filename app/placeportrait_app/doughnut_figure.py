"""A ward's doughnut, drawn with Plotly ``barpolar``.

The green ring is the safe and just space: its inner edge the social foundation, its
outer edge the ecological ceiling. Each social dimension is a wedge on the inside that
reaches inward by its shortfall; each ecological dimension a wedge on the outside that
reaches outward by its overshoot (drawn up to 100 %, longer ones marked). A dimension with
no data is a grey hatched wedge filling its slot, never an empty one that would read as
"fine". Wedges are grouped by the City Portrait lenses: the circle is shared between the
scopes the set's indicators use (local, and global when present); within each scope the
social foundation's dimensions sit on the inner ring and the ecological ceiling's on the
outer ring, i.e. one sector per lens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeportrait import doughnut
from placeportrait.dimensions import ECOLOGICAL, SOCIAL, dimensions_in_ring
from placeportrait_app import fmt

R_HOLE = 0.22  # centre: a shortfall of 100 % reaches here
R_FOUNDATION = 1.0
R_CEILING = 1.32
OVERSHOOT_LENGTH = 0.7  # an overshoot of 100 % reaches R_CEILING + this
R_MAX = R_CEILING + OVERSHOOT_LENGTH + 0.04

RING_COLOUR = "#2e8b57"
GAP_COLOUR = "#c0392b"
NO_DATA_COLOUR = "#d4d4d4"
NO_DATA_LINE = "#8c8c8c"
SCOPE_LABELS = {"local": "Local", "global": "Global"}


def _scope(rows: pd.DataFrame) -> pd.Series:
    lens = rows["lens"].where(rows["lens"].notna(), "local-" + rows["ring"].astype(str))
    return lens.astype(str).str.split("-", n=1).str[0]


def lens_scores(rows: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Dimension scores per area and lens scope (``doughnut.score_dimensions``, mean of the
    indicators with data), for any number of areas at once."""
    cols = ["area_code", "scope", "indicator", "ring", "dimension", "status", "shortfall",
            "overshoot"]
    if rows.empty:
        return pd.DataFrame(columns=["area_code", "scope", "dimension", "shortfall", "overshoot",
                                     "indicators_with_data", "indicators", "status"])
    frame = rows.assign(scope=_scope(rows))[cols]
    return doughnut.score_dimensions(frame, by="scope", extra=extra)


def slot_titles(rows: pd.DataFrame) -> dict:
    """(scope, dimension) -> the titles of its indicators, for hover text."""
    if rows.empty:
        return {}
    meta = rows.drop_duplicates("indicator")
    meta = meta.assign(scope=_scope(meta))
    return {key: "; ".join(group["title"].astype(str))
            for key, group in meta.groupby(["scope", "dimension"])}


def slots(scored: pd.DataFrame, scopes: list[str], titles: dict | None = None,
          extra=()) -> pd.DataFrame:
    """Every wedge of the doughnut: scope × ring × dimension, with its angle, gap
    (shortfall or overshoot), status and hover text; no data where ``scored`` has none.

    ``scored``: :func:`lens_scores` rows of one area; ``extra``: council dimensions
    (``dimensions.extra_for``), drawn after Raworth's in their ring.
    """
    titles = titles or {}
    found = {(r.scope, r.dimension): r for r in scored.itertuples()} if len(scored) else {}
    span = 360.0 / len(scopes)
    out = []
    for i, scope in enumerate(scopes):
        for ring in (SOCIAL, ECOLOGICAL):
            dims = dimensions_in_ring(ring, extra)
            width = span / len(dims)
            for j, dim in enumerate(dims):
                r = found.get((scope, dim.id))
                if r is not None:
                    gap = r.shortfall if ring == SOCIAL else r.overshoot
                    row = {"gap": float(gap), "status": r.status,
                           "with_data": int(r.indicators_with_data), "indicators": int(r.indicators)}
                else:
                    row = {"gap": np.nan, "status": doughnut.NO_DATA, "with_data": 0,
                           "indicators": 0}
                row.update(scope=scope, ring=ring, dimension=dim.id, label=dim.label,
                           titles=titles.get((scope, dim.id), ""),
                           theta=i * span + (j + 0.5) * width, width=width * 0.92)
                row["hover"] = _hover(row)
                out.append(row)
    return pd.DataFrame(out)


def slots_for(rows: pd.DataFrame, scopes: list[str], extra=()) -> pd.DataFrame:
    """The wedges of one area from its tidy rows (a ward, or an authority's means)."""
    return slots(lens_scores(rows, extra), scopes or ["local"], slot_titles(rows), extra)


def _text_position(theta: float) -> str:
    """Labels sit outside the ring: above at the top, below at the bottom, else beside."""
    t = theta % 360
    if t < 5 or t > 355:
        return "top center"
    if 175 < t < 185:
        return "bottom center"
    return "middle right" if t < 180 else "middle left"


def _spread(angles: list[float], gap: float) -> list[float]:
    """Nudge sorted angles apart so consecutive labels are at least ``gap`` degrees apart."""
    out: list[float] = []
    for angle in angles:
        out.append(max(angle, out[-1] + gap) if out else angle)
    overflow = out[-1] - 360 + gap - out[0] if out else 0
    if overflow > 0 and len(out) > 1:  # wrapped round: squeeze evenly instead
        step = 360.0 / len(out)
        out = [out[0] + i * min(gap, step) for i in range(len(out))]
    return out


def _wrap(label: str, width: int = 10) -> str:
    """Break a long label at the space nearest its middle, so it fits beside the ring."""
    if len(label) <= width or " " not in label:
        return label
    middle = len(label) // 2
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return label[:cut] + "<br>" + label[cut + 1:]


def _hover(row: dict) -> str:
    measure = "shortfall" if row["ring"] == SOCIAL else "overshoot"
    if row["status"] == doughnut.NO_DATA:
        what = "no data"
    else:
        what = f"{measure} {fmt.percent(row['gap'])} ({row['status']})"
    detail = (f"<br>{row['with_data']} of {row['indicators']} indicators with data: {row['titles']}"
              if row["indicators"] else "<br>no indicator loaded")
    return f"<b>{row['label']}</b> ({row['scope']} {row['ring']} lens)<br>{what}{detail}"


def figure(dims: pd.DataFrame, scopes: list[str], *, compact: bool = False,
           title: str | None = None) -> dict:
    """The doughnut of one area as a Plotly figure dict, from its :func:`slots`."""
    scopes = scopes or ["local"]
    social = dims["ring"] == SOCIAL
    has = dims["status"] != doughnut.NO_DATA
    gap = dims["gap"].fillna(0).clip(lower=0)

    inner = R_FOUNDATION - R_HOLE
    bars = dims.loc[has & (gap > 0)]
    bar_gap = gap[bars.index]
    bar_social = social[bars.index]
    length = np.where(bar_social, inner * bar_gap.clip(upper=1), OVERSHOOT_LENGTH * bar_gap.clip(upper=1))
    base = np.where(bar_social, R_FOUNDATION - length, R_CEILING)

    missing = dims.loc[~has]
    miss_social = social[missing.index]
    miss_base = np.where(miss_social, R_HOLE, R_CEILING)
    miss_len = np.where(miss_social, inner, OVERSHOOT_LENGTH)

    fine = dims.loc[has & (gap <= 0)]

    traces = [
        {"type": "barpolar", "name": "Safe and just space (the doughnut)",
         "r": [R_CEILING - R_FOUNDATION], "base": [R_FOUNDATION], "theta": [180], "width": [360],
         "marker": {"color": RING_COLOUR, "line": {"width": 0}}, "hoverinfo": "skip"},
        {"type": "barpolar", "name": "No data",
         "r": miss_len.tolist(), "base": miss_base.tolist(), "theta": missing["theta"].tolist(),
         "width": missing["width"].tolist(), "hovertext": missing["hover"].tolist(),
         "hovertemplate": "%{hovertext}<extra></extra>",
         "marker": {"color": NO_DATA_COLOUR, "line": {"color": "#ffffff", "width": 0.5},
                    "pattern": {"shape": "/", "fgcolor": NO_DATA_LINE, "size": 6, "solidity": 0.15}}},
        {"type": "barpolar", "name": "Shortfall (inward) · overshoot (outward)",
         "r": length.tolist(), "base": base.tolist(), "theta": bars["theta"].tolist(),
         "width": bars["width"].tolist(), "hovertext": bars["hover"].tolist(),
         "hovertemplate": "%{hovertext}<extra></extra>",
         "marker": {"color": GAP_COLOUR, "line": {"color": "#ffffff", "width": 0.5}}},
        {"type": "barpolar", "name": "Achieved / within", "showlegend": False,
         "r": [R_CEILING - R_FOUNDATION] * len(fine), "base": [R_FOUNDATION] * len(fine),
         "theta": fine["theta"].tolist(), "width": fine["width"].tolist(),
         "hovertext": fine["hover"].tolist(), "hovertemplate": "%{hovertext}<extra></extra>",
         "marker": {"color": "rgba(0,0,0,0)", "line": {"width": 0}}},
    ]
    # Labels round the edge for the dimensions with data (the rest are in the tables),
    # spread so that neighbours don't overlap.
    labelled = dims.loc[has].sort_values("theta")
    label_theta = _spread(labelled["theta"].tolist(), 15.0)
    if len(labelled) and not compact:
        traces.append({
            "type": "scatterpolar", "mode": "text", "showlegend": False, "hoverinfo": "skip",
            "r": [R_MAX + 0.06] * len(labelled), "theta": label_theta,
            "text": [_wrap(lab) for lab in labelled["label"]], "cliponaxis": False,
            "textposition": [_text_position(t) for t in label_theta],
            "textfont": {"size": 9 if compact else 11, "color": "#333333"}})
    capped = bars.loc[bar_gap > 1]
    annotations = []
    if len(scopes) > 1 and not compact:
        for i, scope in enumerate(scopes):
            mid = np.radians(i * 360 / len(scopes) + 180 / len(scopes))
            annotations.append({"text": f"<b>{SCOPE_LABELS.get(scope, scope)}</b>",
                                "x": 0.5 + 0.07 * np.sin(mid), "y": 0.5 + 0.09 * np.cos(mid),
                                "xref": "paper", "yref": "paper", "showarrow": False,
                                "font": {"size": 11, "color": "#333333"}})
    if len(capped) and not compact:
        traces.append({"type": "scatterpolar", "mode": "text", "showlegend": False,
                       "r": [R_MAX - 0.08] * len(capped), "theta": capped["theta"].tolist(),
                       "text": [f"+{fmt.percent(g)}" for g in gap[capped.index]],
                       "hoverinfo": "skip", "textfont": {"size": 10, "color": GAP_COLOUR}})
    height = 300 if compact else 470
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 95 if not compact else 60, "r": 95 if not compact else 60,
                       "t": 55 if title else 30, "b": 30 if compact else 75},
            "title": {"text": title, "font": {"size": 14}, "x": 0.5} if title else None,
            "showlegend": not compact,
            "legend": {"orientation": "h", "y": -0.08, "x": 0.5, "xanchor": "center",
                       "font": {"size": 12}},
            "paper_bgcolor": "#ffffff",
            "annotations": annotations,
            "polar": {
                "bgcolor": "#ffffff",
                "barmode": "overlay",
                "radialaxis": {"range": [0, R_MAX + (0.02 if compact else 0.1)], "visible": False},
                "angularaxis": {"rotation": 90, "direction": "clockwise", "showgrid": False,
                                "showline": False, "ticks": "", "showticklabels": False},
            },
        },
    }


def caption(dims: pd.DataFrame, name: str) -> str:
    """A text alternative: what the doughnut shows, in a few sentences."""
    has = dims.loc[dims["status"] != doughnut.NO_DATA]
    short = has.loc[has["status"] == doughnut.SHORTFALL, "label"].tolist()
    over = has.loc[has["status"] == doughnut.OVERSHOOT, "label"].tolist()
    social = has.loc[has["ring"] == SOCIAL]
    eco = has.loc[has["ring"] == ECOLOGICAL]
    parts = [f"Doughnut of {name}."]
    parts.append(f"Social foundation: {len(social)} of {int((dims['ring'] == SOCIAL).sum())} "
                 f"dimension slots have data; in shortfall: {', '.join(short) or 'none'}.")
    parts.append(f"Ecological ceiling: {len(eco)} of {int((dims['ring'] == ECOLOGICAL).sum())} "
                 f"dimension slots have data; in overshoot: {', '.join(over) or 'none'}.")
    parts.append("Grey hatched wedges have no data.")
    return " ".join(parts)
