"""Running one indicator plugin onto one boundary set, atomically.

The steps: resolve the sources (``--input`` file, or the cached download); record the
run; read and validate the plugin's table; plan the route onto the set
(:mod:`placeportrait.harmonise.plan`) and execute it (:mod:`placeportrait.harmonise.steps`);
give every area of the set a row (no data where there is none); score the values; write
values, scores and the run's status in one atomic unit. Any failure marks the run failed
and leaves the previous values as they were. :func:`explain` stops after planning.
"""

from __future__ import annotations

import contextlib
import json
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from placeportrait import (compressed, dimensions, fetch, harmonise, inside_ward, references,
                           scoring)
from placeportrait.errors import HarmoniseError, InputError, PlacePortraitError
from placeportrait.plugins import IndicatorPlugin

log = logging.getLogger(__name__)


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
    plan: list[str] = field(default_factory=list)  # the route taken, a line a step

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
        if key in inputs:
            extras[name] = fetch.local(inputs[key])
        elif name not in plugin.meta.optional_sources:
            extras[name] = fetch.fetch(url)
    return main, extras


def run_indicator(store, plugin: IndicatorPlugin, boundary_set: str, *,
                  inputs: dict[str, str] | None = None,
                  source_boundaries: str | list[str] | None = None,
                  lookups: list[RunLookup] | None = None, progress=None) -> RunResult:
    """Run ``plugin`` onto ``boundary_set`` and store its values in one atomic unit.

    ``source_boundaries`` names boundary sets that may hold the source's geometry and
    ``lookups`` best-fit lookup files; each is used only where the source's codes are
    found in it (see :mod:`placeportrait.harmonise.plan`).
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
        table, published = references.split_published(_read_source(plugin, main, extras, status))
        # Codes and parents suffice for most methods; geometry is read only when one needs
        # it (a crosswalk not yet cached, points, rasters): on PostGIS that read is the
        # slowest part of a code-matched or apportioned run.
        targets = store.read_area_table(boundary_set)
        target_geometry = read_once(lambda: store.read_areas(boundary_set))
        with status(f"{meta.id}: harmonising {len(table):,} rows onto {len(targets):,} areas"):
            try:
                values, plan, warnings = harmonise_table(
                    store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_boundaries or [], lookups or [], target_geometry=target_geometry)
            except PlacePortraitError:
                raise
            except Exception as exc:  # a library's error deep inside: still one clear line
                raise HarmoniseError(f"plugin {meta.id}: harmonising {main.path.name} onto "
                                     f"{boundary_set!r} failed: {type(exc).__name__}: {exc}") from exc
        reference_values = references.for_run(table, published, values, targets, meta)
        values = complete(values, targets, table["period"].unique(), meta)
        provenance = {"source": main.origin, "sha256": main.sha256, "retrieved_at": main.retrieved_at,
                      "from_cache": main.from_cache, "method": plan.method,
                      "plan": plan.describe(), "warnings": warnings,
                      "extra_sources": {k: {"source": s.origin, "sha256": s.sha256}
                                        for k, s in extras.items()}}
        store.commit_values(run_id, boundary_set, meta.id, values, source_checksum=main.sha256,
                            messages=json.dumps(provenance), indicator_meta=indicator_record(meta),
                            scores=scoring.score_new_values(store, boundary_set, meta, values),
                            references=reference_values,
                            local_dimension=_local_dimension_record(meta.dimension),
                            source_values=kept_source_values(store, table, meta, boundary_set))
    except BaseException as exc:
        message = str(exc) if isinstance(exc, PlacePortraitError) else f"{type(exc).__name__}: {exc}"
        try:
            store.fail_run(run_id, message, source_checksum=main.sha256)
        except Exception:  # the store itself failing: the run stays "running" and is
            pass           # marked interrupted by the next run; the original error matters
        raise
    with_data = values.loc[values["value"].notna(), "area_code"].nunique()
    return RunResult(run_id, meta.id, boundary_set, plan.method, len(targets), with_data,
                     sorted(values["period"].unique()), main.origin, warnings,
                     flags=_flag_counts(values), suppressed=int(table["value"].isna().sum()),
                     plan=plan.describe())


def explain(store, plugin: IndicatorPlugin, boundary_set: str, *,
            inputs: dict[str, str] | None = None, source_boundaries=None,
            lookups: list[RunLookup] | None = None) -> harmonise.Plan:
    """The plan a run would follow: the source is read and checked, nothing is written."""
    if isinstance(source_boundaries, str):
        source_boundaries = [source_boundaries]
    store.require_current()
    set_meta = store.boundary_set(boundary_set)
    main, extras = resolve_sources(plugin, inputs or {})
    table = _read_source(plugin, main, extras, lambda _: contextlib.nullcontext())
    targets = store.read_area_table(boundary_set)
    return plan_for(store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_boundaries or [], lookups or [])


def _read_source(plugin, main, extras, status) -> pd.DataFrame:
    """The plugin's validated table from its (decompressed) source files."""
    with status(f"{plugin.id}: reading {main.path.name}"):
        table = plugin.load(main.path, **{k: s.path for k, s in extras.items()})
        if "geometry" in table:
            table = _checked_geometry(table, plugin.meta, main.path)
    return table


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
    return {**{key: getattr(meta, key) for key in STORED_META},
            "series_breaks": dict(meta.series_breaks)}


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


def plan_for(store, plugin, table, targets, boundary_set, set_meta, extras,
             source_sets=(), lookups=()) -> harmonise.Plan:
    """The route ``table`` would take onto ``boundary_set`` (see :mod:`harmonise.plan`).

    Reads what the planner needs to know (the codes of loaded sets, the columns of lookup
    files), each once, and writes nothing.
    """
    meta = plugin.meta
    set_codes: dict[str, set] = {}

    def codes_of(name):
        if name not in set_codes:
            set_codes[name] = set_codes_of(store, name)
        return set_codes[name]

    facts = harmonise.Facts(
        plugin=meta.id, geography=meta.geography, kind=meta.measure_kind,
        has_weights="weight" in table, source_codes=frozenset(harmonise.distinct(table["code"])),
        example_code=str(table["code"].iloc[0]) if len(table) else "",
        boundary_set=boundary_set, target_level=set_meta["level"],
        target_codes=frozenset(harmonise.distinct(targets["code"])),
        target_parents=frozenset(harmonise.distinct(targets["parent_code"].dropna())),
        known_sets=frozenset(store.boundary_sets()["name"]), set_codes=codes_of,
        source_sets=tuple(source_sets), lookups=tuple(lookups),
        lookup_columns=lambda path: _lookup_frame(path)[1],
        declared_source_set=meta.harmonise.get("source_boundaries"),
        declared_lookup=meta.harmonise.get("lookup"),
        extra_paths={name: source.path for name, source in extras.items()})
    return harmonise.plan_route(facts)


def harmonise_table(store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_sets=(), lookups=(), *, target_geometry=None):
    """Plan the route onto ``boundary_set``, then run it; returns (values, plan, warnings)."""
    meta = plugin.meta
    plan = plan_for(store, plugin, table, targets, boundary_set, set_meta, extras,
                    source_sets, lookups)
    context = harmonise.Context(
        plugin=meta.id, kind=meta.measure_kind, min_coverage=meta.min_coverage,
        max_unmatched_share=meta.max_unmatched_share, targets=targets,
        areas=lambda name: set_areas(store, name),
        crosswalk=lambda sources, source_set: _cached_crosswalk(
            store, sources, source_set, target_geometry or (lambda: targets), boundary_set),
        target_geometry=target_geometry or (lambda: targets),
        lookup_frame=_route_frame, warnings=list(plan.warnings))
    values = harmonise.execute(plan, table, context)
    return values, plan, context.warnings


def _route_frame(route) -> pd.DataFrame:
    """A lookup step's table: a --lookup file (read once per run), or the plugin's own."""
    if route.declared:
        return _read_lookup(route.path, {"from": route.from_col, "to": route.to_col})
    return _lookup_frame(route.path)[0]


_LOOKUP_FRAMES: dict[tuple, tuple[pd.DataFrame, dict[str, set]]] = {}


def _lookup_frame(path: Path) -> tuple[pd.DataFrame, dict[str, set]]:
    """A lookup file and the set of codes in each of its columns, read once per run."""
    from placeportrait import readers

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--lookup {path}: no such file")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _LOOKUP_FRAMES:  # a national lookup serves every plugin of a run
        _forget_oldest(_LOOKUP_FRAMES)
        frame = readers.read_csv(compressed.unpacked(path))
        _LOOKUP_FRAMES[key] = frame, {c: set(frame[c].dropna().astype(str).str.strip())
                                      for c in frame.columns}
    return _LOOKUP_FRAMES[key]


#: Reads of loaded boundary sets and crosswalks that every plugin of a refresh repeats,
#: keyed by the store, the set and its load (name, checksum and load time), so a reloaded
#: set is read again. A few entries of each kind: national sets are large.
_SET_READS: dict[tuple, object] = {}
CACHED_READS = 8


def _forget_oldest(cache: dict, kind=None) -> None:
    same = [key for key in cache if kind is None or key[0] == kind]
    while len(same) >= CACHED_READS:
        cache.pop(same.pop(0))


def _set_key(store, kind: str, name: str, *extra) -> tuple:
    meta = store.boundary_set(name)
    return (kind, store.location.url, name, meta["source_checksum"], str(meta["loaded_at"]),
            *extra)


def _cached_read(key: tuple, read):
    if key not in _SET_READS:
        _forget_oldest(_SET_READS, key[0])
        _SET_READS[key] = read()
    return _SET_READS[key]


def kept_source_values(store, table: pd.DataFrame, meta, boundary_set: str) -> pd.DataFrame | None:
    """The source's rows as published, for the small areas of the boundary set in the
    store that holds their geometry (none: nothing to show them on, nothing kept)."""
    rows = inside_ward.source_level(table, meta.geography)
    if rows is None or rows.empty:
        return None
    others = [n for n in store.boundary_sets()["name"] if n != boundary_set]
    holder = inside_ward.source_set({n: set_codes_of(store, n) for n in others},
                                    rows["source_code"].unique())
    if holder is None:
        return None
    rows = rows.loc[rows["source_code"].isin(set_codes_of(store, holder))]
    return rows.assign(source_set=holder)


def set_area_table(store, name: str) -> pd.DataFrame:
    """``store.read_area_table(name)``, read once per load of the set."""
    return _cached_read(_set_key(store, "table", name), lambda: store.read_area_table(name))


def set_codes_of(store, name: str) -> frozenset:
    """The codes of a set, as a set, built once per load of the set (a refresh plans
    every plugin against every source-geometry set)."""
    return _cached_read(_set_key(store, "codes", name),
                        lambda: frozenset(set_area_table(store, name)["code"]))


def set_areas(store, name: str):
    """``store.read_areas(name)`` (with geometry), read once per load of the set."""
    return _cached_read(_set_key(store, "areas", name), lambda: store.read_areas(name))


def read_once(read):
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


#: Crosswalks being computed elsewhere (:func:`crosswalks_ahead`), by the key under which
#: :func:`_cached_crosswalk` keeps them.
_CROSSWALKS_AHEAD: dict[tuple, Future] = {}


def _set_fingerprint(store, sources, source_set) -> str:
    """``sources``' geometry fingerprint; for the loaded set ``source_set``, computed once
    per load of that set (hashing the LSOAs' geometry takes a quarter of a second)."""
    def fingerprint_of():
        return harmonise.geometry_fingerprint(sources, "code")
    return (_cached_read(_set_key(store, "fingerprint", source_set), fingerprint_of)
            if source_set else fingerprint_of())


@contextlib.contextmanager
def crosswalks_ahead(store, boundary_set: str, source_sets, submit):
    """Within the block, the crosswalk of each loaded set in ``source_sets`` onto
    ``boundary_set`` that the store does not hold yet is computed by ``submit(fn, *args)
    -> Future`` (a second process), and :func:`_cached_crosswalk` takes the answer when a
    plan needs it; yields how many were started.

    A first national refresh computes five (LSOAs 2011 and 2021, data zones, SOAs, super
    data zones), about 13 s that its plugins would otherwise spend one after the other.
    On a clean exit, those no plan took are kept in the store too, once computed (one
    still queued is dropped: the run that needs it computes it).
    """
    started = {}
    for name in source_sets:
        sources = set_areas(store, name)
        fingerprint = _set_fingerprint(store, sources, name)
        key = _set_key(store, "crosswalk", boundary_set, fingerprint)
        if key in _SET_READS or key in _CROSSWALKS_AHEAD \
                or store.has_crosswalk(fingerprint, boundary_set):
            continue
        _CROSSWALKS_AHEAD[key] = submit(harmonise.crosswalk, sources, "code",
                                        set_areas(store, boundary_set))
        started[key] = fingerprint
    try:
        yield len(started)
    except BaseException:
        for key in started:
            _CROSSWALKS_AHEAD.pop(key, None)
        raise
    for key, fingerprint in started.items():  # those no plan needed are kept for later
        crosswalk = _ahead(key)
        if crosswalk is not None:
            store.write_crosswalk(fingerprint, boundary_set, crosswalk)


def _cached_crosswalk(store, sources, source_set, target_geometry, boundary_set):
    """Source→ward area weights, computed once per (source geometry, boundary set), or
    taken from :func:`crosswalks_ahead`; ``target_geometry()`` gives the wards, read only
    when the crosswalk is computed here."""
    fingerprint = _set_fingerprint(store, sources, source_set)
    key = _set_key(store, "crosswalk", boundary_set, fingerprint)

    def read():
        crosswalk = store.read_crosswalk(fingerprint, boundary_set)
        if crosswalk is None:
            crosswalk = _ahead(key)
            if crosswalk is None:
                crosswalk = harmonise.crosswalk(sources, "code", target_geometry())
            store.write_crosswalk(fingerprint, boundary_set, crosswalk)
        return crosswalk
    return _cached_read(key, read)


def _ahead(key: tuple) -> pd.DataFrame | None:
    """The crosswalk started ahead under ``key``, if one was and it succeeded (if not,
    the caller computes it again, and meets any error itself). One still queued behind
    others is taken back and computed here, so both processes work on crosswalks."""
    future = _CROSSWALKS_AHEAD.pop(key, None)
    if future is None or future.cancel():
        return None
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - recomputed here, where an error is reported
        log.info("a crosswalk computed ahead failed; computing it again", exc_info=True)
        return None
