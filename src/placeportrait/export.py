"""Exporting scores tidy: one row per area, indicator and period."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd

from placeportrait import (doughnut, qgis_layers, references, regular_files, similar_wards,
                           spreadsheet_safe, trends)
from placeportrait.errors import InputError

FORMATS = ("csv", "geojson", "gpkg")
COLUMNS = ["area_code", "area_name", "parent_code", "indicator", "title", "ring", "dimension",
           "lens", "period", "value", "unit", "threshold", "baseline", "threshold_source",
           "ratio", "shortfall", "overshoot", "status", "authority_value", "authority_method",
           "nation", "nation_value", "nation_method", "similar_median", "similar_count", "set_mean", "rank", "ranked_areas",
           "nation_rank", "nation_ranked_areas", "nation_rank_note", "percentile", "method",
           "coverage", "source_rows", "flags", "source", "source_url", "source_file", "licence", "attribution", "run_id", "scored_at",
           *trends.MARK_COLUMNS]


def tidy_scores(store, boundary_set: str, columns=COLUMNS) -> pd.DataFrame:
    """Values, scores, area names and provenance joined into one tidy table.

    ``columns``: :data:`COLUMNS`, optionally with ``geography`` (the source's geography,
    from the indicator's metadata).
    """
    scores = store.read_scores(boundary_set)
    if scores.empty:
        raise InputError(f"boundary set {boundary_set!r} has no scores: run "
                         f"`placeportrait score --boundary-set {boundary_set}` first")
    values = store.read_values(boundary_set)
    areas = store.read_area_table(boundary_set).rename(columns={"code": "area_code", "name": "area_name"})
    # Each ward beside its authority's and nation's values from the source, the mean of
    # the set's wards (labelled so) and its rank in the set.
    scores = doughnut.compare(scores, areas[["area_code", "parent_code"]])
    set_meta = store.boundary_set(boundary_set)
    note = references.nation_rank_notes(scores, areas["area_code"], set_meta.get("level"),
                                        set_meta.get("vintage"))
    scores["nation_rank"] = scores["nation_rank"].where(note == "")
    scores["nation_ranked_areas"] = scores["nation_ranked_areas"].where(note == "").astype("Int64")
    scores["nation_rank_note"] = note
    scores = references.attach(scores, store.read_references(boundary_set)).drop(columns="parent_code")
    # beside them, the median of the ward's similar wards (similar_wards.nearest)
    scores = similar_wards.medians(scores, values, store.read_similar_wards(boundary_set))
    meta = store.read_indicators().rename(columns={"id": "indicator", "publisher": "source",
                                                   "url": "source_url"})
    values = values.merge(run_files(store), on="run_id", how="left")
    out = (scores.drop(columns=["boundary_set"])
           .merge(values[["area_code", "indicator", "period", "unit", "method", "coverage",
                          "source_rows", "flags", "run_id", "source_file"]],
                  on=["area_code", "indicator", "period"], how="left")
           .merge(areas[["area_code", "area_name", "parent_code"]], on="area_code", how="left")
           .merge(meta[["indicator", "title", "lens", "source", "source_url", "licence",
                        "attribution", "geography"]], on="indicator", how="left"))
    # each series' direction of travel on the row of the period it describes
    out = trends.attach(out, meta.set_index("indicator")["polarity"], store.read_series_breaks())
    return out[list(columns)].sort_values(["area_code", "indicator", "period"]).reset_index(drop=True)


def run_files(store) -> pd.DataFrame:
    """``run_id, source_file``: the name of the file each run read (its main source; the
    download address may name another layout of the same data, such as a republished
    copy). The name only: a folder on the analyst's machine means nothing to a reader."""
    runs = store.runs()[["run_id", "source"]]
    names = runs["source"].map(lambda s: Path(s).name if isinstance(s, str) and s else None)
    return pd.DataFrame({"run_id": runs["run_id"], "source_file": names})


def export_scores(store, boundary_set: str, fmt: str, out: Path, period: str = "all") -> int:
    """Write the tidy table as CSV, GeoJSON or GeoPackage (the latter two with geometry),
    for the periods chosen (:func:`placeportrait.trends.select_period`).

    The file is written beside ``out`` and renamed into place, so a failed export
    never leaves half a file. Returns the number of rows written.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    out = regular_files.check_output(out)
    table = trends.select_period(tidy_scores(store, boundary_set), period)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part{out.suffix}")
    try:
        if fmt == "csv":
            spreadsheet_safe.to_csv(table, tmp)
        else:
            areas = store.read_areas(boundary_set)
            geoms = areas[["code", "geometry"]].rename(columns={"code": "area_code"})
            frame = gpd.GeoDataFrame(table.merge(geoms, on="area_code", how="left"),
                                     geometry="geometry", crs=geoms.crs)
            frame.to_file(tmp, driver="GeoJSON" if fmt == "geojson" else "GPKG",
                          **({"layer": "scores"} if fmt == "gpkg" else {}))
            if fmt == "gpkg":
                _add_summary_layer(tmp, store.read_scores(boundary_set), areas, boundary_set)
        tmp.replace(out)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from None
    return len(table)


def _add_summary_layer(path: Path, scores: pd.DataFrame, areas: gpd.GeoDataFrame,
                       boundary_set: str) -> None:
    """One row per area with its doughnut summary, styled for QGIS (``layer_styles``)."""
    layer = qgis_layers.VIEW_PREFIX + boundary_set
    summary = qgis_layers.summary_layer(scores, areas[["code", "name", "parent_code", "geometry"]])
    gpd.GeoDataFrame(summary, geometry="geometry", crs=areas.crs).to_file(
        path, driver="GPKG", layer=layer)
    conn = sqlite3.connect(path)
    try:
        with conn:
            qgis_layers.write_styles(conn, [layer])
    finally:
        conn.close()
