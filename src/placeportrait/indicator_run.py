"""Running one indicator plugin onto one boundary set, atomically.

The steps: resolve the sources (``--input`` file, or the cached download); record the
run; read and validate the plugin's table; choose a harmonisation method from the
plugin's geography and measure kind; harmonise; give every area of the set a row
(no data where there is none); write the values and mark the run succeeded in one
atomic unit. Any failure marks the run failed and leaves the previous values as they
were.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from placeportrait import fetch, harmonise
from placeportrait.errors import HarmoniseError, InputError, PlacePortraitError
from placeportrait.plugins import IndicatorPlugin

SUB_WARD = ("lsoa2011", "lsoa2021", "oa2011", "oa2021", "msoa2011", "msoa2021")


@dataclass
class RunResult:
    run_id: str
    indicator: str
    boundary_set: str
    method: str
    areas: int
    areas_with_data: int
    periods: list[str]
    source: str
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        share = self.areas_with_data / self.areas if self.areas else 0
        return (f"{self.indicator}: {self.areas_with_data:,} of {self.areas:,} areas have data "
                f"({share:.0%}) by {self.method}, periods {', '.join(self.periods)}; run {self.run_id[:8]}")


def resolve_sources(plugin: IndicatorPlugin, inputs: dict[str, str]) -> tuple[fetch.Source, dict]:
    """The main source and the extra sources: ``--input`` files first, else downloads."""
    pid = plugin.id
    main = fetch.local(inputs[pid]) if pid in inputs else fetch.fetch(plugin.meta.url)
    extras = {}
    for name, url in plugin.meta.extra_sources.items():
        key = f"{pid}.{name}"
        extras[name] = fetch.local(inputs[key]) if key in inputs else fetch.fetch(url)
    return main, extras


def run_indicator(store, plugin: IndicatorPlugin, boundary_set: str, *,
                  inputs: dict[str, str] | None = None, source_boundaries: str | None = None,
                  progress=None) -> RunResult:
    inputs = inputs or {}
    meta = plugin.meta
    store.require_current()
    set_meta = store.boundary_set(boundary_set)
    store.mark_interrupted_runs()
    main, extras = resolve_sources(plugin, inputs)
    run_id = store.start_run(plugin=meta.id, plugin_version=meta.version,
                             boundary_set=boundary_set, source=main.origin)
    try:
        status = progress.status if progress is not None else (lambda _: contextlib.nullcontext())
        with status(f"{meta.id}: reading {main.path.name}"):
            table = plugin.load(main.path, **{k: s.path for k, s in extras.items()})
            if "geometry" in table:
                table = _checked_geometry(table, meta, main.path)
        targets = store.read_areas(boundary_set)
        with status(f"{meta.id}: harmonising {len(table):,} rows onto {len(targets):,} areas"):
            try:
                values, method, warnings = harmonise_table(
                    store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_boundaries or meta.harmonise.get("source_boundaries"))
            except PlacePortraitError:
                raise
            except Exception as exc:  # a library's error deep inside: still one clear line
                raise HarmoniseError(f"plugin {meta.id}: harmonising {main.path.name} onto "
                                     f"{boundary_set!r} failed: {type(exc).__name__}: {exc}") from exc
        values = complete(values, targets, table["period"].unique(), meta)
        provenance = {"source": main.origin, "sha256": main.sha256, "retrieved_at": main.retrieved_at,
                      "from_cache": main.from_cache, "method": method, "warnings": warnings,
                      "extra_sources": {k: {"source": s.origin, "sha256": s.sha256}
                                        for k, s in extras.items()}}
        store.commit_values(run_id, boundary_set, meta.id, values, source_checksum=main.sha256,
                            messages=json.dumps(provenance), indicator_meta=indicator_record(meta))
    except BaseException as exc:
        message = str(exc) if isinstance(exc, PlacePortraitError) else f"{type(exc).__name__}: {exc}"
        try:
            store.fail_run(run_id, message, source_checksum=main.sha256)
        except Exception:  # the store itself failing: the run stays "running" and is
            pass           # marked interrupted by the next run; the original error matters
        raise
    with_data = values.loc[values["value"].notna(), "area_code"].nunique()
    return RunResult(run_id, meta.id, boundary_set, method, len(targets), with_data,
                     sorted(values["period"].unique()), main.origin, warnings)


STORED_META = ("id", "title", "description", "ring", "dimension", "lens", "unit", "polarity",
               "threshold", "baseline", "threshold_citation", "publisher", "url", "licence",
               "attribution", "geography", "measure_kind", "denominator", "version")


def indicator_record(meta) -> dict:
    """The plugin metadata the store keeps beside the values."""
    return {key: getattr(meta, key) for key in STORED_META}


def _checked_geometry(table, meta, path):
    """Grid and point sources: a known CRS, coordinates in the UK, valid polygons."""
    import shapely

    from placeportrait.boundaries import check_uk_bounds

    if table.crs is None:
        raise InputError(f"plugin {meta.id}: {path}: the source has no CRS; "
                         "declare it in the file (e.g. a .prj beside a shapefile)")
    table = table[table.geometry.notna() & ~table.geometry.is_empty]
    try:
        in_4326 = table.to_crs(4326)
    except Exception as exc:
        raise InputError(f"plugin {meta.id}: {path}: cannot reproject from {table.crs}: {exc}") from None
    coords = shapely.get_coordinates(in_4326.geometry.values)
    if not len(coords) or not np.isfinite(coords).all():
        raise InputError(f"plugin {meta.id}: {path}: coordinates do not fit the declared CRS "
                         f"{table.crs.to_string()}; is the CRS right?")
    check_uk_bounds(in_4326, f"plugin {meta.id}: {path}")
    invalid = ~in_4326.geometry.is_valid
    if invalid.any():
        in_4326.loc[invalid, "geometry"] = in_4326.geometry[invalid].make_valid()
    return in_4326


def complete(values: pd.DataFrame, targets, periods, meta) -> pd.DataFrame:
    """One row per area and period; an area with nothing from the source is no data."""
    grid = pd.MultiIndex.from_product([targets["code"], sorted(map(str, periods))],
                                      names=["area_code", "period"]).to_frame(index=False)
    out = grid.merge(values, on=["area_code", "period"], how="left")
    out["method"] = out["method"].fillna("none")
    out["coverage"] = out["coverage"].fillna(0.0)
    out["source_rows"] = out["source_rows"].fillna(0).astype(int)
    out["unit"] = meta.unit
    if "flags" not in out:
        out["flags"] = None
    # Too little of the area had source data: no data, not a guess.
    out.loc[out["coverage"] < meta.min_coverage, "value"] = np.nan
    return out[["area_code", "period", "value", "unit", "method", "coverage", "source_rows", "flags"]]


def _per_period(table, fn):
    frames = []
    for period, part in table.groupby("period", sort=True):
        result = fn(part)
        result["period"] = str(period)
        frames.append(result)
    out = pd.concat(frames, ignore_index=True)
    out["flags"] = np.where(out.get("apportioned", False), "apportioned from local authority", None)
    return out


def harmonise_table(store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_boundaries):
    """Choose and apply the harmonisation method; returns (values, method, warnings)."""
    meta = plugin.meta
    kind = meta.measure_kind
    common = {"code_col": "code", "min_coverage": meta.min_coverage}
    weights = "weight" if "weight" in table else None
    warnings: list[str] = []
    target_level = set_meta["level"]

    def check_unmatched(codes, known, what):
        unmatched = sorted(set(codes) - set(known))
        if not unmatched:
            return
        share = len(unmatched) / max(len(set(codes)), 1)
        examples = ", ".join(unmatched[:5])
        message = f"{len(unmatched):,} source codes match no {what} (e.g. {examples})"
        if share > meta.max_unmatched_share:
            raise InputError(f"plugin {meta.id}: {message}: {share:.0%} of codes, above the "
                             f"plugin's limit of {meta.max_unmatched_share:.0%}; wrong file or vintage?")
        warnings.append(message)

    if meta.geography == "ward" or (meta.geography == "lad" and target_level == "lad"):
        matched = set(table["code"]) & set(targets["code"])
        if not matched:
            raise InputError(f"plugin {meta.id}: no source code matches an area of {boundary_set!r} "
                             f"(source codes like {table['code'].iloc[0]}); wrong boundary vintage?")
        outside = len(set(table["code"]) - matched)
        if outside:
            warnings.append(f"{outside:,} source codes are outside boundary set {boundary_set!r}")
        values = _per_period(table, lambda t: harmonise.code_match(t, targets, **common))
        return values, "code_match", warnings

    if meta.geography == "lad":
        if targets["parent_code"].isna().all():
            raise HarmoniseError(f"boundary set {boundary_set!r} has no parent (LAD) codes to "
                                 f"apportion {meta.id} onto")
        missing = set(targets["parent_code"].dropna()) - set(table["code"])
        if missing:
            warnings.append(f"{len(missing)} local authorities of the set have no source row "
                            f"(e.g. {', '.join(sorted(missing)[:5])})")
        values = _per_period(table, lambda t: harmonise.apportion(t, targets, kind=kind, **common))
        return values, "apportion", warnings

    lookup_spec = meta.harmonise.get("lookup")
    if meta.geography in SUB_WARD and lookup_spec:
        source = extras[lookup_spec.get("source", "lookup")].path
        lookup = harmonise.lookup_table(_read_lookup(source, lookup_spec), lookup_spec["from"],
                                        lookup_spec["to"])
        check_unmatched(table["code"], lookup.index, "code of the lookup")
        values = _per_period(table, lambda t: harmonise.lookup_aggregate(
            t, lookup, targets, kind=kind, weights=weights, **common))
        return values, "lookup", warnings

    if meta.geography in SUB_WARD:
        if not source_boundaries:
            raise HarmoniseError(
                f"plugin {meta.id}: {meta.geography} values need source geometry: load it as a "
                f"boundary set and pass --source-boundaries NAME (e.g. lsoa-2011)")
        sources = store.read_areas(source_boundaries)
        check_unmatched(table["code"], sources["code"], f"area of {source_boundaries!r}")
        crosswalk = _cached_crosswalk(store, sources, targets, boundary_set)
        values = _per_period(table, lambda t: harmonise.apply_crosswalk(
            t, crosswalk, kind, weights=weights, **common))
        return values, "area_weighted", warnings

    if meta.geography == "grid":
        cells = table.drop_duplicates("code")[["code", "geometry"]].reset_index(drop=True)
        crosswalk = _cached_crosswalk(store, cells, targets, boundary_set)
        values = _per_period(pd.DataFrame(table.drop(columns="geometry")), lambda t: harmonise.apply_crosswalk(
            t, crosswalk, kind, weights=weights, method="zonal_grid", **common))
        return values, "zonal_grid", warnings

    if meta.geography in ("points", "postcode"):
        stat = "sum" if kind == "extensive" else "mean"
        values = _per_period(table, lambda t: harmonise.points_to_areas(
            t, targets, stat=stat, value_col="value", min_coverage=meta.min_coverage))
        return values, "points", warnings

    if meta.geography == "raster":
        values = _per_period(table, lambda t: harmonise.zonal_raster(
            t["raster"].iloc[0], targets, kind=kind, min_coverage=meta.min_coverage))
        return values, "zonal_raster", warnings
    raise HarmoniseError(f"plugin {meta.id}: no harmonisation method for geography {meta.geography!r}")


def _read_lookup(path, spec):
    from placeportrait import readers

    frame = readers.read_csv(path)
    readers.require_columns(frame, [spec["from"], spec["to"]], path)
    return frame


def _cached_crosswalk(store, sources, targets, boundary_set):
    """Source→ward area weights, computed once per (source geometry, boundary set)."""
    fingerprint = harmonise.geometry_fingerprint(sources, "code")
    crosswalk = store.read_crosswalk(fingerprint, boundary_set)
    if crosswalk is None:
        crosswalk = harmonise.crosswalk(sources, "code", targets)
        store.write_crosswalk(fingerprint, boundary_set, crosswalk)
    return crosswalk
