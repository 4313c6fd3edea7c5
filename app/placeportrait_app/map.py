"""The choropleth: classes from mapclassify, a colour-blind-safe palette, no data in grey.

One ``choroplethmap`` trace (MapLibre, no token, blank background by default) draws every
shown ward; its ``geojson`` is a URL (see :mod:`placeportrait_app.geometry`), so the figure
carries only codes, class numbers and hover text. ``z`` is the class number: 0 is no data
(grey), 1..k the classes of the value, coloured from viridis with the darkest class at the
worse end. A second trace outlines the selected ward(s). Switching what the map shows
replaces only ``z``, ``customdata`` and the colour scale, as a Dash ``Patch``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale

from placeportrait_app import fmt
from placeportrait_app.metrics import Metric

NO_DATA_COLOUR = "#bdbdbd"
NO_DATA_COLOUR_NAME = "grey"
OUTLINE_COLOUR = "#ffffff"
HIGHLIGHT_COLOUR = "#e6007e"  # magenta: stands out from viridis and grey
CLASSES = 5
SCHEME = "natural breaks"
JENKS_SAMPLE = 200  # breaks found in about 50 ms (pure-Python Fisher-Jenks is O(k n²))
BLANK_STYLE = "white-bg"
TRANSPARENT = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]]


@dataclass
class Classification:
    """Class of each value (-1 = no data) and each class's range."""

    yb: np.ndarray
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    scheme: str = SCHEME

    @property
    def k(self) -> int:
        return len(self.upper)


def classify(values, k: int = CLASSES) -> Classification:
    """Natural-breaks classes (Fisher-Jenks, mapclassify) of the values with data; NaN
    stays unclassed.

    Natural breaks put the class limits in the widest gaps between values, so near-equal
    values share a colour (quantiles would split 10.1–10.3 from 10.3–10.5 only to fill
    their classes). Above :data:`JENKS_SAMPLE` values the breaks are found on that many
    values evenly spaced through the sorted data, so the result is deterministic and a
    shared link shows the same classes. Fewer distinct values than ``k`` give one class per
    value; classes left empty are dropped.
    """
    values = np.asarray(values, dtype=float)
    has = ~np.isnan(values)
    yb = np.full(values.shape, -1, dtype=int)
    data = values[has]
    if data.size == 0:
        return Classification(yb)
    unique = np.unique(data)
    if unique.size <= k:
        classes = np.searchsorted(unique, data)
        scheme = "unique values"
    else:
        ordered = np.sort(data)
        sample = ordered[np.linspace(0, ordered.size - 1, min(ordered.size, JENKS_SAMPLE))
                         .astype(int)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bins = np.array(mapclassify.FisherJenks(sample, k=k).bins, dtype=float)
        bins[-1] = ordered[-1]
        classes = np.searchsorted(bins, data, side="left")
        used = np.unique(classes)
        classes = np.searchsorted(used, classes)
        scheme = f"{used.size} natural-breaks classes (Fisher-Jenks, mapclassify)"
    yb[has] = classes
    n = int(classes.max()) + 1
    lower = [float(data[classes == i].min()) for i in range(n)]
    upper = [float(data[classes == i].max()) for i in range(n)]
    return Classification(yb, lower, upper, scheme)


def palette(k: int, higher_is_worse: bool) -> list[str]:
    """k viridis colours ordered from the lowest class to the highest, darkest = worse."""
    if k <= 0:
        return []
    points = [0.5] if k == 1 else list(np.linspace(0, 1, k))
    colours = sample_colorscale("Viridis", points)  # dark purple .. yellow
    return colours[::-1] if higher_is_worse else colours


def colorscale(colours: list[str]) -> list:
    """A stepped scale: band 0 = no data, band i = class i, for z in [-0.5, k + 0.5]."""
    bands = [NO_DATA_COLOUR, *colours]
    n = len(bands)
    scale = []
    for i, colour in enumerate(bands):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


@dataclass
class MapLayer:
    """Everything the map, its legend and its text alternative need, for one view."""

    metric: Metric
    codes: list[str]
    names: list[str]
    z: list[int]
    customdata: list[list[str]]
    colours: list[str]
    legend: list[dict]  # label, colour, count; the last is No data
    no_data: int
    values: pd.DataFrame  # code, name, parent_code, value, status, display, class
    scheme: str

    @property
    def colorscale(self) -> list:
        return colorscale(self.colours)

    @property
    def zmax(self) -> float:
        return len(self.colours) + 0.5


def build_layer(areas: pd.DataFrame, values: pd.DataFrame, metric: Metric,
                la: str | None = None, k: int = CLASSES) -> MapLayer:
    """Classify the shown wards (all, or those of one authority) for one metric.

    ``areas`` has code, name, parent_code; ``values`` (indexed by code) value, status, display.
    """
    shown = areas if not la else areas.loc[areas["parent_code"] == la]
    frame = shown[["code", "name", "parent_code"]].join(values, on="code")
    classes = classify(frame["value"].to_numpy(), k)
    colours = palette(classes.k, metric.higher_is_worse)
    frame = frame.assign(**{"class": classes.yb + 1})
    legend = []
    digits = legend_digits(classes.upper)
    for i in range(classes.k):
        hi = fmt.number(classes.upper[i], digits)
        if i == 0:
            lo = fmt.number(classes.lower[0], digits)
            label = lo if lo == hi else f"{lo} – {hi}"
        else:  # the class starts just above the previous class's top value
            label = f"> {fmt.number(classes.upper[i - 1], digits)} – {hi}"
        legend.append({"label": label, "colour": colours[i],
                       "count": int((classes.yb == i).sum())})
    no_data = int((classes.yb < 0).sum())
    legend.append({"label": "No data", "colour": NO_DATA_COLOUR, "count": no_data,
                   "no_data": True})
    names = frame["name"].fillna(frame["code"])
    return MapLayer(
        metric=metric,
        codes=frame["code"].tolist(),
        names=[f"{n} ({c})" for n, c in zip(names, frame["code"])],
        z=frame["class"].astype(int).tolist(),
        customdata=[[d, s, _hover_note(metric, d)] for d, s in zip(frame["display"], frame["status"])],
        colours=colours, legend=legend, no_data=no_data, values=frame,
        scheme=classes.scheme,
    )


def legend_digits(uppers: list[float]) -> int:
    """Decimals that tell the class limits apart (1 for most values, more for tiny ones)."""
    if not uppers:
        return 1
    span = max(abs(u) for u in uppers)
    return 0 if span >= 1000 else 1 if span >= 1 else 3


HOVER = ("<b>%{text}</b><br>%{customdata[0]}<br>Status: %{customdata[1]}%{customdata[2]}"
         "<extra></extra>")


def _hover_note(metric: Metric, display: str) -> str:
    if not metric.caveat or display == fmt.NO_DATA:
        return ""
    return f"<br><i>{metric.caveat}</i>"


def main_trace(layer: MapLayer, geojson_url: str) -> dict:
    return {
        "type": "choroplethmap", "name": "wards", "geojson": geojson_url, "featureidkey": "id",
        "locations": layer.codes, "z": layer.z, "text": layer.names,
        "customdata": layer.customdata, "hovertemplate": HOVER,
        "colorscale": layer.colorscale, "zmin": -0.5, "zmax": layer.zmax, "showscale": False,
        "marker": {"line": {"color": OUTLINE_COLOUR, "width": line_width(len(layer.codes))}},
    }


def line_width(wards: int) -> float:
    """Ward outlines: visible for a borough, hairlines for the nation (else they whiten it)."""
    return 0.6 if wards <= 300 else 0.3 if wards <= 2000 else 0.12


def highlight_trace(geojson: dict) -> dict:
    codes = [f["id"] for f in geojson["features"]]
    return {
        "type": "choroplethmap", "name": "selected", "geojson": geojson, "featureidkey": "id",
        "locations": codes, "z": [0] * len(codes), "colorscale": TRANSPARENT, "showscale": False,
        "hoverinfo": "skip", "marker": {"line": {"color": HIGHLIGHT_COLOUR, "width": 3.5}},
    }


def figure(layer: MapLayer, geojson_url: str, highlight: dict, view: dict,
           style: str = BLANK_STYLE, uirevision: str = "") -> dict:
    """The whole map figure: sent when the set (its geometry) changes."""
    return {
        "data": [main_trace(layer, geojson_url), highlight_trace(highlight)],
        "layout": {
            "map": {"style": style, **view},
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "uirevision": uirevision, "showlegend": False, "paper_bgcolor": "#ffffff",
            "hoverlabel": {"bgcolor": "#ffffff", "font": {"size": 13}},
            "meta": {"wards": len(layer.codes)},
        },
    }


def patch(p, layer: MapLayer, *, locations: bool, highlight: dict | None,
          view: dict | None, uirevision: str | None):
    """Fill a Dash ``Patch`` with what changed: values always; the rest when asked."""
    trace = p["data"][0]
    trace["z"] = layer.z
    trace["customdata"] = layer.customdata
    trace["colorscale"] = layer.colorscale
    trace["zmax"] = layer.zmax
    if locations:
        trace["locations"] = layer.codes
        trace["text"] = layer.names
        trace["marker"]["line"]["width"] = line_width(len(layer.codes))
        p["layout"]["meta"] = {"wards": len(layer.codes)}
    if highlight is not None:
        p["data"][1] = highlight_trace(highlight)
    if view is not None:
        p["layout"]["map"]["center"] = view["center"]
        p["layout"]["map"]["zoom"] = view["zoom"]
    if uirevision is not None:
        p["layout"]["uirevision"] = uirevision
    return p


def legend_title(metric: Metric) -> str:
    period = f", {metric.period}" if metric.period else ""
    direction = "higher" if metric.higher_is_worse else "lower"
    caveat = f" Values are {metric.caveat}." if metric.caveat else ""
    return f"{metric.label}{period}: darker is worse ({direction} values).{caveat}"
