"""Benchmark: a full refresh of a UK ward set, as ``placeportrait indicators run --all`` does it.

    python bench/refresh.py [--database-url postgresql+psycopg://…]   # prints a Markdown table

For each UK ward set (December 2023, 8,441 wards; December 2019, 8,887 wards) and each store
(a fresh GeoPackage in a temporary folder; with a database URL also a fresh schema of that
PostGIS database, dropped afterwards), in a fresh process of its own:

1. create the store and load the ward set plus the source geometry the plugins need;
2. run every discovered plugin through ``indicator_run.run_indicator``, the function the
   ``indicators run --all`` command calls, timing each one; a plugin that fails (or, as the
   command says, is "not run" for want of source geometry) is reported with its one-line
   reason and the others still run;
3. score the set (``scoring.score_boundary_set``, as ``placeportrait score``).

It reports the whole refresh's wall time and peak memory (max RSS of its process), and per
indicator its seconds, coverage (wards with a value / wards), status and the time spent in
store calls.

The setup follows ``tests/test_builtin_national.py``: its inputs (the national local-authority
files of ``tests/data``; Trafford extracts for the ward, grid and point sources), Trafford's
LSOAs 2011 and 2021 as source geometry, and, where ``run_indicator`` takes run-time lookups,
the ward set of the other vintage as source geometry plus an LSOA 2011 -> ward 2019 lookup.
The benchmark may read the real national files of ``PLACEPORTRAIT_BENCH_DATA`` (default
``/work/shared/data``); where they are there it uses the **national** versions: the England
and Wales LSOA 2011 -> ward 2019 lookup, the other vintage's full UK ward set (so the 2023
set reaches 2019 wards through a national ward-to-ward crosswalk), and all-England IoD 2019
Files 1, 2 and 6 and BEIS fuel poverty. Without them it runs the test's Trafford setup.
There is no national output-area geometry or lookup, so the output-area plugins are not run.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing as mp
import os
import queue as queue_module
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests"))  # the national test's inputs, one table for both
from test_builtin_support import (DEMO, LSOA_2011, LSOA_2021, TRAFFORD_LOOKUP,  # noqa: E402
                                  builtin_inputs)
SHARED = Path(os.environ.get("PLACEPORTRAIT_BENCH_DATA", "/work/shared/data"))
NATIONAL = {  # real national files (not in the repo): name -> path under SHARED
    "lookup": "lookups/LSOA11_to_WD19_to_LAD19_Lookup_in_England_and_Wales.csv",
    "iod_file1": "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
    "iod_file2": "deprivation/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
    "iod_file6": "deprivation/File_6_-_IoD2019_Population_Denominators.csv.gz",
    "fuel_poverty": "environment/fuel_poverty.csv",
}
IOD_DOMAINS = ("income", "employment", "education", "health", "crime", "housing_barriers",
               "living_environment")

# name, ward file, census tables on the ward codes of 2019-2023 (else the 2023 ward profiles)
SETS = [("uk-wards-2023", DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip", False),
        ("uk-wards-2019", DATA / "boundaries" / "uk_wards_dec2019.gpkg.zip", True)]


def inputs(census_tables: bool) -> dict[str, str]:
    """``--input`` files for every built-in plugin, as in tests/test_builtin_national.py."""
    return {key: str(path) for key, path in builtin_inputs(census_tables).items()}


def national_files() -> dict[str, Path] | None:
    files = {name: SHARED / rel for name, rel in NATIONAL.items()}
    return files if all(p.is_file() for p in files.values()) else None


def national_inputs(files: dict[str, Path], folder: Path) -> dict[str, str]:
    """The all-England LSOA sources, the IoD files unzipped into ``folder``."""
    plain = {}
    for name in ("iod_file1", "iod_file2", "iod_file6"):
        plain[name] = folder / files[name].name.removesuffix(".gz")
        with gzip.open(files[name], "rb") as src, open(plain[name], "wb") as dst:
            shutil.copyfileobj(src, dst)
    given = {"fuel_poverty": files["fuel_poverty"], "imd_most_deprived": plain["iod_file1"],
             "imd_most_deprived.population": plain["iod_file6"]}
    for domain in IOD_DOMAINS:
        given[f"iod_{domain}_most_deprived"] = plain["iod_file2"]
        given[f"iod_{domain}_most_deprived.population"] = plain["iod_file6"]
    return {key: str(path) for key, path in given.items()}


def plan(boundary_set: str, census_tables: bool, folder: Path) -> dict:
    """What to load and how to run: boundary sets, inputs, run options and a description."""
    other_name, other_file = next((n, f) for n, f, _ in SETS if n != boundary_set)
    loads = [(LSOA_2011, "lsoa-2011", "lsoa", {"code_field": "area_code", "name_field": "area_name"}),
             (LSOA_2021, "lsoa-2021", "lsoa", {"code_field": "area_code", "name_field": "area_name"})]
    given = inputs(census_tables)
    files = national_files()
    if files is None:  # the test's own setup: Trafford's wards of the other vintage
        trafford = (("trafford-wards-2019", other_file, "ward", {"lad": ("LAD19CD", "E08000009")})
                    if other_name == "uk-wards-2019" else
                    ("trafford-wards-2023", DEMO / "trafford_wards_dec2023_bsc.geojson", "ward", {}))
        name = trafford[0]
        loads.append((trafford[1], name, trafford[2], trafford[3]))
        return {"loads": loads, "inputs": given,
                "options": {"source_boundaries": [name], "lookups": [str(TRAFFORD_LOOKUP)]},
                "setup": f"test setup (Trafford extracts; lookup {TRAFFORD_LOOKUP.name}; {name})"}
    given.update(national_inputs(files, folder))
    loads.append((other_file, other_name, "ward", {}))
    return {"loads": loads, "inputs": given,
            "options": {"source_boundaries": [other_name], "lookups": [str(files["lookup"])]},
            "setup": f"national LSOA sources (IoD 2019, fuel poverty) through {files['lookup'].name}; "
                     f"{other_name} loaded as source geometry"}


def _load_set(store, source, name, level, lad=None, **fields) -> int:
    """Load one boundary set as the tests do; ``lad=(column, code)`` keeps one authority."""
    from placeportrait import boundaries

    gdf = boundaries.read_source(str(source))
    if lad is not None:
        gdf = gdf[gdf[lad[0]] == lad[1]].reset_index(drop=True)
    prepared = boundaries.prepare(gdf, name=name, level=level, source=str(source), **fields)
    store.replace_boundary_set(prepared.meta, prepared.areas)
    return len(prepared.areas)


def one_line(exc: BaseException) -> str:
    from placeportrait.errors import PlacePortraitError

    text = str(exc) if isinstance(exc, PlacePortraitError) else f"{type(exc).__name__}: {exc}"
    return (text.strip().splitlines() or [type(exc).__name__])[0]


STORE_CALLS = ("require_current", "boundary_set", "mark_interrupted_runs", "start_run", "read_areas",
               "read_crosswalk", "write_crosswalk", "commit_values", "fail_run", "read_values",
               "read_indicators", "replace_scores")


def time_store_calls(store) -> dict[str, float]:
    """Seconds spent in the store's methods, accumulated per method (the instance's own
    bound methods are wrapped; nothing else changes)."""
    spent: dict[str, float] = {}

    def wrap(name, method):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
        return timed

    for name in STORE_CALLS:
        setattr(store, name, wrap(name, getattr(store, name)))
    return spent


def store_share(spent: dict[str, float]) -> dict[str, float]:
    """Snapshot and reset the accumulated store time."""
    snap = dict(spent)
    spent.clear()
    return snap


def refresh(url: str, boundary_set: str, ward_file: Path, census_tables: bool) -> dict:
    """One full refresh into the (empty) store at ``url``; every figure in a dict."""
    from placeportrait import errors, indicator_run, plugins, scoring
    from placeportrait.store import open_store

    not_run = getattr(errors, "MissingGeographyError", ())
    out: dict = {"indicators": []}
    with tempfile.TemporaryDirectory(prefix="pp-bench-inputs-") as folder:
        setup = plan(boundary_set, census_tables, Path(folder))  # unzipping is not timed
        options = dict(setup["options"])
        if "lookups" in options:
            options["lookups"] = [indicator_run.RunLookup.parse(spec) for spec in options["lookups"]]
        out["setup"] = setup["setup"]
        start = time.perf_counter()
        store = open_store(url)
        store.init()
        out["kind"] = store.kind
        t0 = time.perf_counter()
        out["wards"] = _load_set(store, ward_file, boundary_set, "ward")
        for path, name, level, fields in setup["loads"]:
            _load_set(store, path, name, level, **fields)
        out["load"] = time.perf_counter() - t0
        out["loaded"] = [name for _, name, _, _ in setup["loads"]]

        registry = plugins.discover()
        spent = time_store_calls(store)
        t_all = time.perf_counter()
        for message in registry.errors:
            out["indicators"].append({"id": "(plugin that did not load)", "seconds": 0.0,
                                      "status": f"failed: {message.splitlines()[0]}", "store": {}})
        for plugin in registry.plugins.values():
            t0 = time.perf_counter()
            try:
                result = indicator_run.run_indicator(store, plugin, boundary_set,
                                                     inputs=setup["inputs"], **options)
            except Exception as exc:  # noqa: BLE001 - reported; the other plugins still run
                status = "not run" if not_run and isinstance(exc, not_run) else "failed"
                out["indicators"].append({"id": plugin.id, "seconds": time.perf_counter() - t0,
                                          "status": f"{status}: {one_line(exc)}",
                                          "store": store_share(spent)})
                continue
            out["indicators"].append({"id": plugin.id, "seconds": time.perf_counter() - t0,
                                      "status": "ok", "with_data": result.areas_with_data,
                                      "areas": result.areas, "method": result.method,
                                      "store": store_share(spent)})
        out["indicators_seconds"] = time.perf_counter() - t_all
        t0 = time.perf_counter()
        scored = scoring.score_boundary_set(store, boundary_set)
        out["scoring"] = time.perf_counter() - t0
        out["scoring_store"] = store_share(spent)
        out["scored_rows"] = len(scored)
        out["total"] = time.perf_counter() - start
    if store.kind == "postgis":
        store.engine().dispose()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _refresh_in_child(url, boundary_set, ward_file, census_tables, queue) -> None:
    try:
        queue.put(refresh(url, boundary_set, ward_file, census_tables))
    except BaseException as exc:  # noqa: BLE001 - reported as a failed refresh
        queue.put({"error": one_line(exc)})


def refresh_in_fresh_process(url, boundary_set, ward_file, census_tables) -> dict:
    """Run :func:`refresh` in a new interpreter, so its peak memory is its own."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_refresh_in_child, args=(url, boundary_set, ward_file, census_tables, queue))
    proc.start()
    while True:
        try:
            outcome = queue.get(timeout=5)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                outcome = {"error": f"the refresh process died (exit code {proc.exitcode})"}
                break
    proc.join()
    return outcome


class _PostgisSchema:
    """A fresh schema of the database at ``base``, dropped on exit (as in tests/conftest.py)."""

    def __init__(self, base: str):
        self.base, self.name = base, f"bench_refresh_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        import sqlalchemy as sa

        self.admin = sa.create_engine(self.base)
        with self.admin.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{self.name},public"

    def __exit__(self, *exc) -> None:
        import sqlalchemy as sa

        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def _load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def store_note(spent: dict[str, float]) -> str:
    """'in store calls 1.2 s (commit_values 0.8, read_areas 0.3)': the largest calls first."""
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:3]
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in top if seconds >= 0.01)
    return f"in store calls {sum(spent.values()):.2f} s" + (f" ({parts})" if parts else "")


def rows_of(boundary_set: str, kind: str, r: dict) -> list[dict]:
    """Rows for bench/run.py: the whole refresh first, then its parts and each indicator."""
    label = f"{boundary_set}, {kind}"
    if "error" in r:
        return [{"step": "refresh", "case": f"{label}: whole refresh", "value": "FAILED",
                 "note": r["error"]}]
    peak = round(r["peak_mb"])
    all_store: dict[str, float] = {}
    for i in r["indicators"]:
        for name, seconds in i.get("store", {}).items():
            all_store[name] = all_store.get(name, 0.0) + seconds
    ok = [i for i in r["indicators"] if i["status"] == "ok"]
    failed = [i for i in r["indicators"] if i["status"].startswith("failed")]
    not_run = [i for i in r["indicators"] if i["status"].startswith("not run")]
    rows = [
        {"step": "refresh", "case": f"**{label}: whole refresh** ({len(r['indicators'])} indicators "
         "+ scoring)", "seconds": r["total"], "peak_mb": peak,
         "note": f"{len(ok)} ok; {len(failed)} failed ({', '.join(i['id'] for i in failed) or 'none'}); "
                 f"{len(not_run)} not run ({', '.join(i['id'] for i in not_run) or 'none'}); "
                 f"peak {peak} MB in its own process; load average {r['load_before']} before; "
                 f"{r['setup']}"},
        {"step": "refresh", "case": f"{label}: create store, load {r['wards']:,} wards + "
         f"{', '.join(r['loaded'])}", "seconds": r["load"], "peak_mb": peak},
        {"step": "refresh", "case": f"{label}: every indicator (`indicators run --all`)",
         "seconds": r["indicators_seconds"], "peak_mb": peak, "note": store_note(all_store)},
        {"step": "refresh", "case": f"{label}: scoring", "seconds": r["scoring"], "peak_mb": peak,
         "note": f"{r['scored_rows']:,} values scored; {store_note(r['scoring_store'])}"},
    ]
    for i in r["indicators"]:
        if i["status"] == "ok":
            share = i["with_data"] / i["areas"] if i["areas"] else 0
            note = (f"ok: {i['with_data']:,} / {i['areas']:,} wards have a value ({share:.1%}), "
                    f"by {i['method']}; {store_note(i['store'])}")
        else:
            note = i["status"].replace("|", "/")
        rows.append({"step": "refresh", "case": f"{label}: {i['id']}", "seconds": i["seconds"],
                     "peak_mb": peak, "note": note})
    return rows


def run(context) -> list[dict]:
    """For ``bench/run.py`` (step ``refresh``)."""
    if "PLACEPORTRAIT_HOME" in os.environ:
        return _run(context)
    with tempfile.TemporaryDirectory(prefix="pp-bench-home-") as home:
        os.environ["PLACEPORTRAIT_HOME"] = home  # inherited by the refresh processes
        try:
            return _run(context)
        finally:
            del os.environ["PLACEPORTRAIT_HOME"]


def _run(context) -> list[dict]:
    rows = []
    for boundary_set, ward_file, census_tables in SETS:
        if context.get("sets") and boundary_set not in context["sets"]:
            continue
        with tempfile.TemporaryDirectory(prefix="pp-bench-refresh-") as folder:
            before = _load_average()
            r = refresh_in_fresh_process(str(Path(folder) / "refresh.gpkg"), boundary_set,
                                         ward_file, census_tables)
            rows += rows_of(boundary_set, "geopackage", {**r, "load_before": before})
        if context.get("database_url"):
            with _PostgisSchema(context["database_url"]) as url:
                before = _load_average()
                r = refresh_in_fresh_process(url, boundary_set, ward_file, census_tables)
            rows += rows_of(boundary_set, "postgis", {**r, "load_before": before})
    return rows


def main() -> None:
    from bench.machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PLACEPORTRAIT_BENCH_DATABASE_URL"),
                        help="also refresh into a fresh schema of this PostGIS database")
    parser.add_argument("--set", action="append", choices=[name for name, _, _ in SETS],
                        help="refresh only this ward set (repeatable; default: both)")
    args = parser.parse_args()
    rows = run({"database_url": args.database_url, "sets": args.set})
    info = machine()
    print(f"## Full refresh\n\n{info['cores']} cores ({info['cpu']}), {info['memory']} memory, "
          f"Python {info['python']}, {info['when']}\n")
    print("| case | seconds | peak MB | note |\n|---|---:|---:|---|")
    for r in rows:
        seconds = f"{r['seconds']:.2f}" if "seconds" in r else r.get("value", "")
        print(f"| {r['case']} | {seconds} | {r.get('peak_mb', '')} | {r.get('note', '')} |")


if __name__ == "__main__":
    main()
