"""The choropleth: classes from mapclassify, a colour-blind-safe palette, no data in grey.

The browser draws the map with MapLibre GL JS from the set's vector tiles (see
:mod:`placeportrait_app.tiles`), so the server sends only a *spec*: the shown areas'
codes, class numbers and hover text, and the class colours. ``z`` is the class number:
0 is no data (grey, hatched), 1..k the classes of the value, coloured from viridis with the
darkest class at the worse end. The selected ward(s) are outlined. Switching what the map
shows replaces only ``z``, the hover text and the colours, as a Dash ``Patch``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale

from placeportrait import vector_tiles
from placeportrait_app import fmt
from placeportrait_app.metrics import Metric

NO_DATA_COLOUR = "#bdbdbd"
NO_DATA_COLOUR_NAME = "hatched grey"
OUTLINE_COLOUR = "#ffffff"
HIGHLIGHT_COLOUR = "#e6007e"  # magenta: stands out from viridis and grey
CLASSES = 5
SCHEME = "natural breaks"
JENKS_SAMPLE = 200  # breaks found in about 50 ms (pure-Python Fisher-Jenks is O(k n²))
BLANK_STYLE = "white-bg"  # no basemap; else the URL of a MapLibre style


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
        # the sample may hold fewer distinct values than the data (a national indicator
        # that is 0 in most wards), and Fisher-Jenks refuses more classes than values
        classes_found = min(k, np.unique(sample).size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bins = np.array(mapclassify.FisherJenks(sample, k=classes_found).bins, dtype=float)
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


@dataclass
class MapLayer:
    """Everything the map, its legend and its text alternative need, for one view."""

    metric: Metric
    codes: list[str]
    names: list[str | None]  # None: the area has no name
    z: list[int]
    hover: list[list[str]]  # per area: value as shown, status, caveat (or "")
    colours: list[str]
    legend: list[dict]  # label, colour, count; the last is No data
    no_data: int
    values: pd.DataFrame  # code, name, parent_code, value, status, display, class
    scheme: str
    upper: list[float] = field(default_factory=list)  # each class's top value

    def class_of(self, values) -> list[int]:
        """The class (1..k, 0 = no data) other values take on this layer's scale; values
        beyond its range take the nearest end class."""
        values = np.asarray(values, dtype=float)
        if not self.upper:
            return [0] * len(values)
        classes = np.searchsorted(np.asarray(self.upper), values, side="left")
        classes = np.minimum(classes, len(self.upper) - 1) + 1
        return np.where(np.isnan(values), 0, classes).astype(int).tolist()


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
    # Plain lists before looping: a pandas string column costs ~10 µs per item to iterate.
    return MapLayer(
        metric=metric,
        codes=frame["code"].tolist(),
        names=spec_names(frame["name"]),
        z=frame["class"].astype(int).tolist(),
        hover=[[d, s, _hover_note(metric, d)]
               for d, s in zip(frame["display"].tolist(), frame["status"].tolist())],
        colours=colours, legend=legend, no_data=no_data, values=frame,
        scheme=classes.scheme, upper=list(classes.upper),
    )


def spec_names(names: pd.Series) -> list[str | None]:
    """Area names as the map's spec carries them: the browser adds the code it already has
    ("Altrincham (E05015239)"), which keeps a fifth of the UK spec off the wire."""
    return [n if isinstance(n, str) and n else None for n in names.tolist()]


def legend_digits(uppers: list[float]) -> int:
    """Decimals that tell the class limits apart (1 for most values, more for tiny ones)."""
    if not uppers:
        return 1
    span = max(abs(u) for u in uppers)
    return 0 if span >= 1000 else 1 if span >= 1 else 3


def _hover_note(metric: Metric, display: str) -> str:
    return "" if not metric.caveat or display == fmt.NO_DATA else metric.caveat


def line_width(wards: int) -> float:
    """Ward outlines: visible for a borough, hairlines for the nation (else they whiten it)."""
    return 0.6 if wards <= 300 else 0.3 if wards <= 2000 else 0.12


def _values(layer: MapLayer) -> dict:
    return {"z": layer.z, "hover": layer.hover, "colours": layer.colours}


def _areas(layer: MapLayer) -> dict:
    return {"codes": layer.codes, "names": layer.names,
            "line_width": line_width(len(layer.codes))}


def view_key(name: str, la: str | None) -> str:
    """What the map's view fits: a set, or one authority of it."""
    return f"{name}|{la or ''}"


def start(tiles: dict, extent: list[float] | None, view_key: str, areas: int,
          style: str = BLANK_STYLE) -> dict:
    """What the browser's map needs besides values: its tiles (``tiles.source``), view
    and outlines; :func:`spec` adds the values."""
    return {"tiles": tiles, "layer": vector_tiles.LAYER, "style": style,
            "no_data_colour": NO_DATA_COLOUR, "highlight_colour": HIGHLIGHT_COLOUR,
            "outline_colour": OUTLINE_COLOUR, "extent": extent, "view_key": view_key,
            "line_width": line_width(areas)}


def spec(layer: MapLayer, tiles: dict, selected: list[str], extent: list[float] | None,
         view_key: str, style: str = BLANK_STYLE) -> dict:
    """Everything the browser's map (``assets/placeportrait_map.js``) draws: sent whole
    when the set (its tiles) changes.

    The tiles hold only shapes and codes; each shown area's class ``z`` (0 = no data),
    hover text and the class colours come from here and are joined to the tiles by code.
    The map fits ``extent`` whenever ``view_key`` changes, and keeps the planner's pan and
    zoom otherwise.
    """
    return {**start(tiles, extent, view_key, len(layer.codes), style),
            "selected": selected, **_areas(layer), **_values(layer)}


def patch(p, layer: MapLayer, *, areas: bool, selected: list[str] | None,
          extent: list[float] | None, view_key: str | None):
    """Fill a Dash ``Patch`` of the spec with what changed: values always; the rest when asked."""
    for key, value in _values(layer).items():
        p[key] = value
    if areas:
        for key, value in _areas(layer).items():
            p[key] = value
    if selected is not None:
        p["selected"] = selected
    if view_key is not None:
        p["extent"] = extent
        p["view_key"] = view_key
    return p


def legend_title(metric: Metric) -> str:
    period = f", {metric.period}" if metric.period else ""
    direction = "higher" if metric.higher_is_worse else "lower"
    caveat = f" Values are {metric.caveat}." if metric.caveat else ""
    return f"{metric.label}{period}: darker is worse ({direction} values).{caveat}"
