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
from pathlib import Path

import numpy as np
import pandas as pd

from placeportrait import compressed, dimensions, fetch, harmonise, scoring
from placeportrait.errors import (HarmoniseError, InputError, MissingGeographyError,
                                  PlacePortraitError)
from placeportrait.plugins import IndicatorPlugin

SUB_WARD = ("lsoa2011", "lsoa2021", "oa2011", "oa2021", "msoa2011", "msoa2021")
# A lookup column or a source boundary set is chosen for a source when at least this
# share of the source's codes is found in it.
MIN_CODE_MATCH = 0.5


@dataclass(frozen=True)
class RunLookup:
    """A best-fit lookup file given at run time (``--lookup [FROM:TO=]PATH``).

    Without ``source_col``/``target_col`` the columns are chosen per plugin: the column
    holding most of the source's codes, and the one holding most codes of the boundary set.
    """

    path: Path
    source_col: str | None = None
    target_col: str | None = None

    @classmethod
    def parse(cls, spec: str) -> "RunLookup":
        columns, sep, path = spec.rpartition("=")
        if not sep or ":" not in columns:
            return cls(Path(spec))
        source_col, _, target_col = columns.partition(":")
        if not source_col or not target_col:
            raise InputError(f"--lookup {spec!r}: expected PATH or FROM:TO=PATH")
        return cls(Path(path), source_col.strip(), target_col.strip())


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
    flags: dict[str, int] = field(default_factory=dict)  # flag -> areas carrying it
    suppressed: int = 0  # source rows whose value was suppressed or missing (no data)

    def summary(self) -> str:
        share = self.areas_with_data / self.areas if self.areas else 0
        text = (f"{self.indicator}: {self.areas_with_data:,} of {self.areas:,} areas have data "
                f"({share:.0%}) by {self.method}, {periods_text(self.periods)}; "
                f"run {self.run_id[:8]}")
        for flag, count in sorted(self.flags.items()):
            text += f"; {flag} ({count:,} areas)"
        if self.suppressed:
            text += f"; {self.suppressed:,} source rows suppressed or missing (no data)"
        return text


def periods_text(periods) -> str:
    """'period 2017', 'periods 2019, 2020', or 'periods 2005 to 2019 (15)' for many."""
    periods = sorted(str(p) for p in periods)
    if len(periods) == 1:
        return f"period {periods[0]}"
    if len(periods) <= 3:
        return f"periods {', '.join(periods)}"
    return f"periods {periods[0]} to {periods[-1]} ({len(periods)})"


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
                  inputs: dict[str, str] | None = None,
                  source_boundaries: str | list[str] | None = None,
                  lookups: list[RunLookup] | None = None, progress=None) -> RunResult:
    """Run ``plugin`` onto ``boundary_set`` and store its values in one atomic unit.

    ``source_boundaries`` names boundary sets that may hold the source's geometry and
    ``lookups`` best-fit lookup files; each is used only where the source's codes are
    found in it (see :func:`harmonise_table`).
    """
    inputs = inputs or {}
    if isinstance(source_boundaries, str):
        source_boundaries = [source_boundaries]
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
        # Codes and parents suffice for most methods; geometry is read only when one needs
        # it (a crosswalk not yet cached, points, rasters): on PostGIS that read is the
        # slowest part of a code-matched or apportioned run.
        targets = store.read_area_table(boundary_set)
        target_geometry = _once(lambda: store.read_areas(boundary_set))
        with status(f"{meta.id}: harmonising {len(table):,} rows onto {len(targets):,} areas"):
            try:
                values, method, warnings = harmonise_table(
                    store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_boundaries or [], lookups or [], target_geometry=target_geometry)
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
                            messages=json.dumps(provenance), indicator_meta=indicator_record(meta),
                            scores=scoring.score_new_values(store, boundary_set, meta, values),
                            local_dimension=_local_dimension_record(meta.dimension))
    except BaseException as exc:
        message = str(exc) if isinstance(exc, PlacePortraitError) else f"{type(exc).__name__}: {exc}"
        try:
            store.fail_run(run_id, message, source_checksum=main.sha256)
        except Exception:  # the store itself failing: the run stays "running" and is
            pass           # marked interrupted by the next run; the original error matters
        raise
    with_data = values.loc[values["value"].notna(), "area_code"].nunique()
    return RunResult(run_id, meta.id, boundary_set, method, len(targets), with_data,
                     sorted(values["period"].unique()), main.origin, warnings,
                     flags=_flag_counts(values), suppressed=int(table["value"].isna().sum()))


def _local_dimension_record(dimension_id: str) -> dict | None:
    """The council dimension an indicator belongs to, for the store; None for Raworth's."""
    if dimension_id in dimensions.BUILT_IN_IDS:
        return None
    dimension = dimensions.get_dimension(dimension_id)
    return {"id": dimension.id, "label": dimension.label, "ring": dimension.ring}


def _flag_counts(values: pd.DataFrame) -> dict[str, int]:
    """Each flag the run put on its values, with the number of areas carrying it."""
    flagged = values.loc[values["flags"].notna() & (values["flags"].astype(str) != ""),
                         ["area_code", "flags"]]
    pairs = {(code, flag.strip()) for code, flags in flagged.itertuples(index=False)
             for flag in str(flags).split(";") if flag.strip()}
    counts: dict[str, int] = {}
    for _, flag in pairs:
        counts[flag] = counts.get(flag, 0) + 1
    return counts


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
                    source_sets=(), lookups=(), *, target_geometry=None):
    """Choose and apply the harmonisation method; returns (values, method, warnings).

    The choice, by the source's geography:

    * ``ward`` (and ``lad`` onto a LAD set): code match. When no code matches but one of
      ``source_sets`` holds the source's codes (wards of another vintage), area-weighted
      from that set, flagged.
    * ``lad``: apportioned to each ward from its authority.
    * output areas, LSOAs and MSOAs: through a run-time lookup holding the source's
      codes; else the plugin's declared lookup; else area-weighted from the boundary set
      (of ``source_sets`` and the plugin's ``source_boundaries``) holding most of them.
    * grids, points and rasters: zonal statistics and points in polygons.
    """
    meta = plugin.meta
    target_geometry = target_geometry or (lambda: targets)
    known_sets = _once(lambda: set(store.boundary_sets()["name"]))
    set_codes: dict[str, set] = {}

    def codes_of(name):  # each candidate set's codes, read once per run
        if name not in set_codes:
            set_codes[name] = set(store.read_area_table(name)["code"])
        return set_codes[name]

    def best_source_set(candidates, exclude=None):
        """The loaded set among ``candidates`` holding most of the source's codes (at
        least :data:`MIN_CODE_MATCH` of them), else None."""
        wanted = set(table["code"])
        scored = [(_share(wanted, codes_of(name)), name) for name in dict.fromkeys(candidates)
                  if name in known_sets() and name != exclude]
        best = max(scored, default=(0.0, None))
        return best[1] if best[0] >= MIN_CODE_MATCH else None
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

    def area_weighted(source_set, flag=None):
        sources = store.read_areas(source_set)
        check_unmatched(table["code"], sources["code"], f"area of {source_set!r}")
        crosswalk = _cached_crosswalk(store, sources, target_geometry, boundary_set)
        values = _per_period(table, lambda t: harmonise.apply_crosswalk(
            t, crosswalk, kind, weights=weights, **common))
        if flag:
            values.loc[values["value"].notna() & values["flags"].isna(), "flags"] = flag
        return values, "area_weighted", warnings

    if meta.geography == "ward" or (meta.geography == "lad" and target_level == "lad"):
        matched = set(table["code"]) & set(targets["code"])
        if not matched:
            other = best_source_set(source_sets, exclude=boundary_set)
            if other is not None:
                return area_weighted(other, flag=f"other vintage: area-weighted from {other}")
            raise InputError(f"plugin {meta.id}: no source code matches an area of {boundary_set!r} "
                             f"(source codes like {table['code'].iloc[0]}); wrong boundary vintage? "
                             "(--source-boundaries SET names a loaded set of the source's vintage)")
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

    def through_lookup(frame, from_col, to_col, path, via=None):
        check_unmatched(table["code"], frame[from_col].astype(str).str.strip(),
                        f"{from_col} of lookup {path.name}")
        pairs = frame[[from_col, to_col]].drop_duplicates()
        method = f"lookup ({path.name}: {from_col} to {to_col})"
        unknown: set[str] = set()

        def aggregate(part, onto, **options):
            result = harmonise.lookup_aggregate(
                part, pairs, onto, kind=kind, weights=weights, lookup_source_col=from_col,
                lookup_target_col=to_col, **options)
            unknown.update(result.attrs["targets_with_unknown_total"])
            return result

        def report_unknown():
            if unknown:
                warnings.append(f"{len(unknown):,} areas are no data because the source covers "
                                f"only some of their {from_col} units (e.g. {', '.join(sorted(unknown)[:5])})")

        if via is None:
            values = _per_period(table, lambda t: aggregate(t, targets, **common))
            report_unknown()
            return values, method, warnings
        # The lookup reaches wards of another vintage: aggregate onto them, then
        # area-weight those onto the set, carrying each ward's summed weight (e.g.
        # population) as the denominator of an intensive value.
        middle = store.read_areas(via)
        crosswalk = _cached_crosswalk(store, middle, target_geometry, boundary_set)

        def two_steps(part):
            first = aggregate(part, middle, code_col="code", min_coverage=meta.min_coverage)
            carried = pd.DataFrame({"code": first["area_code"], "value": first["value"],
                                    "weight": first["denominator"]})
            return harmonise.apply_crosswalk(
                carried, crosswalk, kind, weights="weight" if kind == "intensive" else None,
                **common)

        values = _per_period(table, two_steps)
        report_unknown()
        flag = f"other vintage: through {via} by lookup, then area-weighted"
        values.loc[values["value"].notna() & values["flags"].isna(), "flags"] = flag
        return values, f"{method}, then area_weighted from {via}", warnings

    lookup_spec = meta.harmonise.get("lookup")
    if meta.geography in SUB_WARD and lookups and kind == "intensive" and weights is None:
        warnings.append("--lookup not used: an intensive value without weights (population or "
                        "denominator) cannot be aggregated by lookup; areal interpolation instead")
        lookups = ()
    if meta.geography in SUB_WARD:
        reachable = [(None, set(targets["code"]))] + [
            (name, codes_of(name)) for name in dict.fromkeys(source_sets)
            if name != boundary_set and name in known_sets()]
        chosen = _choose_lookup(lookups, table["code"], reachable, warnings)
        if chosen is not None:
            return through_lookup(*chosen)
        if lookup_spec:
            source = extras[lookup_spec.get("source", "lookup")].path
            return through_lookup(_read_lookup(source, lookup_spec), lookup_spec["from"],
                                  lookup_spec["to"], source)

    if meta.geography in SUB_WARD:
        declared = meta.harmonise.get("source_boundaries")
        candidates = [*source_sets, *([declared] if declared else [])]
        if not set(candidates) & known_sets():
            wanted = declared or "lsoa-2011"
            raise MissingGeographyError(
                f"plugin {meta.id}: {meta.geography} values need source geometry or a lookup: "
                f"load boundary set {wanted!r} (boundaries load) or pass --lookup PATH "
                f"(an ONS best-fit lookup from {meta.geography.upper()} codes to the set's wards)")
        chosen_set = best_source_set(candidates)
        if chosen_set is None and declared not in known_sets():
            raise MissingGeographyError(
                f"plugin {meta.id}: no loaded boundary set or lookup holds these "
                f"{meta.geography} codes (e.g. {table['code'].iloc[0]}): load boundary set "
                f"{declared or 'of the source geography'!r} or pass --lookup PATH")
        return area_weighted(chosen_set or declared)

    if meta.geography == "grid":
        cells = table.drop_duplicates("code")[["code", "geometry"]].reset_index(drop=True)
        crosswalk = _cached_crosswalk(store, cells, target_geometry, boundary_set)
        values = _per_period(pd.DataFrame(table.drop(columns="geometry")), lambda t: harmonise.apply_crosswalk(
            t, crosswalk, kind, weights=weights, method="zonal_grid", **common))
        return values, "zonal_grid", warnings

    if meta.geography in ("points", "postcode"):
        stat = "sum" if kind == "extensive" else "mean"
        values = _per_period(table, lambda t: harmonise.points_to_areas(
            t, target_geometry(), stat=stat, value_col="value", min_coverage=meta.min_coverage))
        return values, "points", warnings

    if meta.geography == "raster":
        values = _per_period(table, lambda t: harmonise.zonal_raster(
            t["raster"].iloc[0], target_geometry(), kind=kind, min_coverage=meta.min_coverage))
        return values, "zonal_raster", warnings
    raise HarmoniseError(f"plugin {meta.id}: no harmonisation method for geography {meta.geography!r}")


def _share(wanted: set, have: set) -> float:
    """The share of ``wanted`` codes found in ``have``."""
    return len(wanted & have) / max(len(wanted), 1)


_LOOKUP_FRAMES: dict[tuple, tuple[pd.DataFrame, dict[str, set]]] = {}


def _lookup_frame(path: Path) -> tuple[pd.DataFrame, dict[str, set]]:
    """A lookup file and the set of codes in each of its columns, read once per run."""
    from placeportrait import readers

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--lookup {path}: no such file")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOOKUP_FRAMES:  # one national lookup serves every plugin of a run
        _LOOKUP_FRAMES.clear()
        frame = readers.read_csv(compressed.unpacked(path))
        _LOOKUP_FRAMES[key] = frame, {c: set(frame[c].dropna().astype(str).str.strip())
                                      for c in frame.columns}
    return _LOOKUP_FRAMES[key]


def _choose_lookup(lookups, source_codes, reachable, warnings):
    """The first run-time lookup with a column holding the source's codes and one holding
    codes of a reachable set: ``(frame, from_col, to_col, path, via)``, where ``via`` is
    None for the boundary set itself (first of ``reachable``, pairs of name and code set) or
    the name of a set to area-weight from. None (with a warning) when none applies."""
    sources = set(source_codes)
    for spec in lookups:
        frame, column_codes = _lookup_frame(spec.path)
        for col in (spec.source_col, spec.target_col):
            if col is not None and col not in frame.columns:
                raise InputError(f"--lookup {spec.path}: no column {col!r} "
                                 f"(columns: {', '.join(frame.columns)})")
        from_cols = [spec.source_col] if spec.source_col else list(frame.columns)
        share, from_col = max(((_share(sources, column_codes[c]), c) for c in from_cols),
                              default=(0.0, None))
        if share < MIN_CODE_MATCH:
            continue
        to_cols = [spec.target_col] if spec.target_col else [c for c in frame.columns if c != from_col]
        # The target column and set: the pair where most of the column's codes are
        # codes of the set (a WD19CD column belongs to 2019 wards even though many 2019
        # codes live on in 2023); the boundary set itself wins a tie.
        best = (0.0, 0, None, None)
        for order, (via, codes) in enumerate(reachable):
            for col in to_cols:
                share = _share(column_codes[col], codes)
                best = max(best, (share, -order, col, via), key=lambda b: (b[0], b[1]))
        if best[0] > 0:
            return frame, from_col, best[2], spec.path, best[3]
    if lookups:
        warnings.append(f"no --lookup holds these source codes and codes of the set "
                        f"({', '.join(p.path.name for p in lookups)}); not used")
    return None


def _once(read):
    """``read()`` on the first call, its result on every later one."""
    cache = []

    def once():
        if not cache:
            cache.append(read())
        return cache[0]
    return once


def _read_lookup(path, spec):
    from placeportrait import readers

    frame = readers.read_csv(compressed.unpacked(path))
    readers.require_columns(frame, [spec["from"], spec["to"]], path)
    return frame


def _cached_crosswalk(store, sources, target_geometry, boundary_set):
    """Source→ward area weights, computed once per (source geometry, boundary set);
    ``target_geometry()`` gives the wards, read only when the crosswalk is computed."""
    fingerprint = harmonise.geometry_fingerprint(sources, "code")
    crosswalk = store.read_crosswalk(fingerprint, boundary_set)
    if crosswalk is None:
        crosswalk = harmonise.crosswalk(sources, "code", target_geometry())
        store.write_crosswalk(fingerprint, boundary_set, crosswalk)
    return crosswalk
