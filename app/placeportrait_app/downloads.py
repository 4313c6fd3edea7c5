"""The data on screen as files: the map's wards (CSV, GeoJSON) and the panel's table (CSV).

Every row keeps its provenance: source, URL, method, coverage, licence, attribution, run
and dates. A value with no data is an empty cell, never 0.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd

from placeportrait import spreadsheet_safe
from placeportrait_app.data import TABLE_COLUMNS

PROVENANCE = ["threshold", "baseline", "threshold_source", "method", "coverage", "flags",
              "source", "source_url", "source_file", "licence", "attribution", "run_id",
              "loaded_at", "scored_at"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", str(text).lower()).strip("-")[:80] or "data"


def map_frame(repo, name: str, layer) -> pd.DataFrame:
    """One row per ward on the map: the shown value with its class and provenance."""
    metric = layer.metric
    frame = layer.values.rename(columns={"code": "area_code", "name": "area_name",
                                         "display": "shown_as"}).copy()
    frame.insert(3, "boundary_set", name)
    frame.insert(4, "measure", metric.id)
    frame.insert(5, "measure_label", metric.label)
    frame["unit"] = metric.unit
    frame["class"] = frame["class"].where(frame["class"] > 0)  # 0 = no data: no class
    table = repo.table(name)
    if metric.kind == "indicator":
        rows = table.loc[table["indicator"] == metric.id].set_index("area_code")
        frame["period"] = frame["area_code"].map(rows["period"])
        for column in PROVENANCE:
            frame[column] = frame["area_code"].map(rows[column])
    else:
        used = table.loc[table["indicator"].isin(metric.indicators)].drop_duplicates("indicator")
        frame["computed_from"] = "; ".join(f"{r.indicator} ({r.period})" for r in used.itertuples())
        for column in ("source", "licence", "attribution"):
            frame[column] = "; ".join(dict.fromkeys(used[column].dropna().astype(str)))
    frame["value"] = frame["value"].astype(float)
    return frame.reset_index(drop=True)


def map_csv(repo, name: str, layer) -> dict:
    frame = map_frame(repo, name, layer)
    return {"content": spreadsheet_safe.to_csv(frame), "filename": f"{_slug(name)}_{_slug(layer.metric.id)}.csv",
            "type": "text/csv"}


def map_geojson(repo, name: str, layer) -> dict:
    """The same rows with each ward's stored (unsimplified) boundary, EPSG:4326."""
    frame = map_frame(repo, name, layer)
    geoms = repo.full_geometry(name, frame["area_code"])[["code", "geometry"]]
    merged = gpd.GeoDataFrame(frame.merge(geoms, left_on="area_code", right_on="code", how="left")
                              .drop(columns="code"), geometry="geometry", crs=4326)
    text = merged.to_json(na="null", drop_id=True)
    collection = json.loads(text)
    collection["name"] = f"{name}: {layer.metric.label}"
    return {"content": json.dumps(collection, separators=(",", ":")),
            "filename": f"{_slug(name)}_{_slug(layer.metric.id)}.geojson",
            "type": "application/geo+json"}


def panel_csv(repo, name: str, state: dict) -> dict | None:
    """The ward's (or the compared wards') tidy rows: every column of the CLI export."""
    table = repo.table(name)
    if state.get("view") == "ward" and state.get("ward"):
        codes, stem = [state["ward"]], state["ward"]
    elif state.get("view") == "compare" and state.get("wards"):
        codes, stem = list(state["wards"]), "compare_" + "_".join(state["wards"])
    else:
        return None
    rows = table.loc[table["area_code"].isin(codes), TABLE_COLUMNS]
    rows = rows.assign(_o=rows["area_code"].map({c: i for i, c in enumerate(codes)}))
    rows = rows.sort_values(["_o", "indicator"]).drop(columns="_o")
    rows.insert(0, "boundary_set", name)
    return {"content": spreadsheet_safe.to_csv(rows), "filename": f"{_slug(name)}_{_slug(stem)}.csv",
            "type": "text/csv"}
