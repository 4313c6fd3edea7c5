"""Benchmark the Dash app at national scale: 8,441 UK wards.

    python bench/app.py                       # temporary GeoPackage store (built here)
    python bench/app.py --database-url URL    # an existing store (PostGIS or .gpkg)
    python bench/app.py --postgis URL         # build the same bench store in a fresh
                                              # PostGIS schema of URL, then drop it

Without --database-url the script loads ``tests/data/boundaries/uk_wards_dec2023_bsc.gpkg.zip``
(all 8,441 wards of December 2023) into a temporary store and writes six SYNTHETIC
indicators (seeded random values, 5 % of wards without data), scored by the project's own
scoring code. The values are there to exercise the app's speed only and mean nothing.

It measures what the browser receives and how long the server takes, through the Flask test
client and Dash's own callback endpoint (no browser, no network):

- the first map data, gzipped: the page, which carries the first map (codes, classes,
  hover text), the layout, and the first router and map callback responses (the map told
  that the page's map is shown, as the browser's ``request_pre`` hook does), and the size
  of the set's vector tiles archive, served tile by tile, of which the browser fetches
  only the tiles it shows (``first_render.py`` measures what a browser transfers);
- switching what the map shows (a Dash Patch): router + map callbacks, server time and bytes;
- opening a ward portrait: router + panel callbacks;
- filtering by local authority, and comparing three wards.

It prints a Markdown table with the machine (cores, memory). Benchmarks measure; tests
never assert on times.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import machine

ROOT = Path(__file__).resolve().parents[1]
UK_WARDS = ROOT / "tests" / "data" / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip"
SET = "uk-wards-2023"

SYNTHETIC = [
    # id, title, ring, dimension, lens, unit, threshold, baseline, generator
    ("syn_fuel_poverty", "Synthetic: households in fuel poverty", "social", "energy",
     "local-social", "% of households", 0.0, 100.0, lambda r, n: r.beta(4, 26, n) * 100),
    ("syn_no_qualifications", "Synthetic: adults without qualifications", "social", "education",
     "local-social", "% of adults", 0.0, 100.0, lambda r, n: r.beta(3, 14, n) * 100),
    ("syn_gigabit", "Synthetic: premises with gigabit broadband", "social", "networks",
     "local-social", "% of premises", 100.0, 0.0, lambda r, n: 100 - r.beta(2, 6, n) * 100),
    ("syn_no2", "Synthetic: annual mean NO2", "ecological", "air_pollution",
     "local-ecological", "µg/m³", 10.0, 0.0, lambda r, n: r.lognormal(2.6, 0.35, n)),
    ("syn_co2", "Synthetic: territorial CO2 per resident", "ecological", "climate_change",
     "global-ecological", "t CO2 per person", 2.3, 0.0, lambda r, n: r.lognormal(1.5, 0.4, n)),
    ("syn_tree_cover", "Synthetic: tree canopy cover", "ecological", "land_conversion",
     "local-ecological", "% of land", 10.0, 30.0, lambda r, n: r.beta(2, 10, n) * 100),
]


def run_cli(*args) -> None:
    from placeportrait.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise RuntimeError(f"placeportrait {' '.join(map(str, args))} failed ({exc.code})")


def build_store(url: str, seed: int = 20231201) -> None:
    """UK wards + six synthetic indicators, scored."""
    from placeportrait import scoring
    from placeportrait.store import open_store

    run_cli("--database-url", url, "boundaries", "load", UK_WARDS, "--set", SET, "--level", "ward")
    store = open_store(url)
    add_synthetic(store, SET, SYNTHETIC, seed)
    scoring.score_boundary_set(store, SET)
    if store.kind == "postgis":
        store.engine().dispose()


def add_synthetic(store, set_name: str, indicators, seed: int = 20231201,
                  geography: str = "ward") -> None:
    """Seeded random values of ``indicators`` (rows of ``SYNTHETIC``) for every area of
    ``set_name``, 5 % of them without data."""
    codes = store.read_area_table(set_name)["code"].to_numpy()
    rng = np.random.default_rng(seed)
    for pid, title, ring, dim, lens, unit, threshold, baseline, gen in indicators:
        value = gen(rng, len(codes))
        value[rng.random(len(codes)) < 0.05] = np.nan  # no data, never 0
        values = pd.DataFrame({"area_code": codes, "period": "2024", "value": value, "unit": unit,
                               "method": "synthetic", "coverage": np.where(np.isnan(value), np.nan, 1.0),
                               "source_rows": 1, "flags": "synthetic benchmark data"})
        run_id = store.start_run(plugin=pid, plugin_version="bench", boundary_set=set_name, source=None)
        store.commit_values(run_id, set_name, pid, values, source_checksum=None, messages="bench", indicator_meta={
            "id": pid, "title": title, "description": "synthetic benchmark indicator", "ring": ring,
            "dimension": dim, "lens": lens, "unit": unit,
            "polarity": "lower_is_better" if threshold < baseline or ring == "ecological" else "higher_is_better",
            "threshold": threshold, "baseline": baseline, "threshold_citation": "benchmark only",
            "publisher": "bench/app.py (synthetic)", "url": None, "licence": "none: synthetic",
            "attribution": "synthetic values for benchmarking", "geography": geography,
            "measure_kind": "intensive", "denominator": None, "version": "bench"})


def timed(samples: list[float]) -> str:
    ms = [1000 * s for s in samples]
    if len(ms) == 1:
        return f"{ms[0]:.0f} ms"
    return (f"median {statistics.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
            f"max {max(ms):.0f} ms (n={len(ms)})")


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MiB"


def measure(url: str, boundary_set: str | None, repeat: int) -> list[tuple[str, str]]:
    from placeportrait_app import create_app, page_map
    from placeportrait_app.dashcall import CallbackClient

    rows: list[tuple[str, str]] = []
    start = time.perf_counter()
    app = create_app(url, boundary_set)
    rows.append(("start-up (read store and tiles, warm caches)",
                 f"{1000 * (time.perf_counter() - start):.0f} ms"))
    repo = app.placeportrait
    if app.placeportrait_warming is not None:  # the background part of warming
        app.placeportrait_warming.join()
        rows.append(("  then in the background (other metrics, doughnut scores)",
                     f"{1000 * (time.perf_counter() - start):.0f} ms after start"))
    name = boundary_set or repo.default_set()
    client = CallbackClient(app)
    areas = repo.areas(name)
    rows.append(("boundary set", f"{name}: {len(areas):,} areas, store {repo.store.kind}"))

    # -- first view: the page (which carries the first map), layout, router, map callback
    # (told that the page's map is shown, as the browser's request_pre hook does); the
    # tiles and scripts: see first_render.py
    http = app.server.test_client()
    gzip_only = {"Accept-Encoding": "gzip"}
    started = time.perf_counter()
    page = http.get("/", headers=gzip_only)
    page_seconds = time.perf_counter() - started
    first = page_map(gzip.decompress(page.get_data()).decode())
    if first is None:
        raise RuntimeError("the page carries no first map")
    layout = http.get("/_dash-layout", headers=gzip_only)
    route = client.call("url.pathname", {"url.pathname": "/", "url.search": ""}, changed=[])
    state = route.output("map-state.data")
    answer = client.call("map-spec.data", {"map-state.data": state},
                         {"map-shown.data": first["shown"]})
    assert "map-spec" not in answer.response["response"], "the map callback sent the spec again"
    shown = answer.output("map-shown.data")
    tile = http.get(first["spec"]["tiles"]["tiles"][0].replace("{z}/{x}/{y}", "0/0/0"),
                    headers=gzip_only)
    assert tile.status_code == 200, tile.status_code
    total = len(page.get_data()) + len(layout.get_data()) + route.gzip_bytes + answer.gzip_bytes
    rows.append(("vector tiles (one PMTiles archive, served tile by tile)",
                 f"{kb(len(repo.tiles(name).archive))} archive, kept in the store: "
                 f"{'yes' if repo.tiles(name).kept else 'no, built at start-up'}; "
                 f"zoom-0 tile {kb(len(tile.get_data()))} gzipped"))
    rows.append(("the page, with its first map (codes, classes, hover text)",
                 f"{kb(len(page.get_data()))} gzipped, server {1000 * page_seconds:.0f} ms"))
    rows.append(("first map data (page + layout + router + map answer; tiles and scripts: "
                 "first_render)", f"{kb(total)} gzipped"))

    # -- indicator switches
    metrics = list(repo.metrics(name))
    cold, warm, sizes, lists_cold, lists_warm = [], [], [], [], []
    for round_ in range(repeat):
        for metric_id in metrics[1:] + metrics[:1]:
            r = client.call("url.pathname",
                            {"url.pathname": "/", "url.search": f"?set={name}&indicator={state['indicator']}",
                             "set.value": name, "indicator.value": metric_id, "la.value": None},
                            {"map-state.data": state}, changed=["indicator.value"])
            new_state = r.output("map-state.data")
            m = client.call("map-spec.data", {"map-state.data": new_state}, {"map-shown.data": shown})
            w = client.call("ward-list.children", {"map-shown.data": m.output("map-shown.data")},
                            {"map-state.data": new_state})
            elapsed = r.seconds + m.seconds
            (lists_cold if round_ == 0 else lists_warm).append(w.seconds)
            assert m.status == 200 and new_state["indicator"] == metric_id, (m.status, new_state)
            (cold if round_ == 0 else warm).append(elapsed)
            sizes.append(m.gzip_bytes)
            state, shown = new_state, m.output("map-shown.data")
    rows.append(("**switch indicator**, first time each (router + map Patch, server)", timed(cold)))
    if warm:
        rows.append(("switch indicator, again (cached layer)", timed(warm)))
    rows.append(("  the table of wards (text alternative; its own request, after the map's)",
                 f"first {timed(lists_cold)}; again {timed(lists_warm or lists_cold)}"))
    rows.append(("switch indicator: bytes sent (Patch, gzipped)",
                 f"median {kb(int(statistics.median(sizes)))}, max {kb(max(sizes))}"))

    # -- local authority filter
    parents = sorted(areas["parent_code"].dropna().unique())
    rng = np.random.default_rng(7)
    la_times = []
    for parent in rng.choice(parents, size=min(10, len(parents)), replace=False):
        r = client.call("url.pathname",
                        {"url.pathname": "/", "url.search": f"?set={name}&indicator={state['indicator']}",
                         "set.value": name, "indicator.value": state["indicator"], "la.value": str(parent)},
                        {"map-state.data": state}, changed=["la.value"])
        s2 = r.output("map-state.data")
        m = client.call("map-spec.data", {"map-state.data": s2}, {"map-shown.data": shown})
        la_times.append(r.seconds + m.seconds)
    rows.append(("filter by local authority (router + map Patch)", timed(la_times)))

    # -- ward portraits (no per-ward cache: each ward is new)
    portrait = []
    panel_sizes = []
    for code in rng.choice(areas["code"].to_numpy(), size=20, replace=False):
        r = client.call("url.pathname", {"url.pathname": f"/ward/{code}", "url.search": f"?set={name}"},
                        changed=["url.pathname"])
        p = client.call("panel-title.children", {"panel-state.data": r.output("panel-state.data")})
        portrait.append(r.seconds + p.seconds)
        panel_sizes.append(p.gzip_bytes)
        assert p.status == 200 and "Ward portrait" in str(p.output("panel-title.children"))
    rows.append(("**ward portrait** (router + panel: doughnut + tables, server)", timed(portrait)))
    rows.append(("ward portrait: bytes sent (gzipped)", kb(int(statistics.median(panel_sizes)))))

    # -- nothing cached: a fresh app that has not warmed up (e.g. just after a new load)
    cold_app = create_app(url, boundary_set, warm=False)
    cold_client = CallbackClient(cold_app)
    r = cold_client.call("url.pathname", {"url.pathname": "/", "url.search": f"?set={name}"}, changed=[])
    s0 = r.output("map-state.data")
    first = cold_client.call("map-spec.data", {"map-state.data": s0}, {"map-shown.data": None})
    rows.append(("first map with nothing cached (reads the store and its tiles)",
                 timed([r.seconds + first.seconds])))
    shown0, uncached = first.output("map-shown.data"), []
    for metric_id in metrics[1:]:
        r = cold_client.call("url.pathname",
                             {"url.pathname": "/", "url.search": f"?set={name}&indicator={s0['indicator']}",
                              "set.value": name, "indicator.value": metric_id},
                             {"map-state.data": s0}, changed=["indicator.value"])
        s1 = r.output("map-state.data")
        m = cold_client.call("map-spec.data", {"map-state.data": s1}, {"map-shown.data": shown0})
        uncached.append(r.seconds + m.seconds)
        s0, shown0 = s1, m.output("map-shown.data")
    rows.append(("switch indicator with its layer not cached yet", timed(uncached)))

    compare_t = []
    for _ in range(5):
        codes = ",".join(rng.choice(areas["code"].to_numpy(), size=3, replace=False))
        r = client.call("url.pathname", {"url.pathname": "/compare", "url.search": f"?set={name}&wards={codes}"},
                        changed=["url.pathname"])
        p = client.call("panel-title.children", {"panel-state.data": r.output("panel-state.data")})
        compare_t.append(r.seconds + p.seconds)
    rows.append(("compare 3 wards with their authorities", timed(compare_t)))
    return rows


def run(context) -> list[dict]:
    """For ``bench/run.py``: the national GeoPackage bench store, measured."""
    import shutil

    os.environ.setdefault("PLACEPORTRAIT_HOME", tempfile.mkdtemp(prefix="pp-bench-home-"))
    folder = tempfile.mkdtemp(prefix="pp-bench-")
    url = str(Path(folder) / "bench.gpkg")
    try:
        build_store(url)
        return [{"step": "app", "case": label, "value": value}
                for label, value in measure(url, SET, 3)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _drop_schema(admin, schema: str) -> None:
    import sqlalchemy as sa

    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))  # a name the bench made


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="measure an existing store instead")
    parser.add_argument("--boundary-set", help="with --database-url: the set to measure")
    parser.add_argument("--postgis", help="build the bench store in a new schema of this PostGIS URL")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of indicator switches")
    args = parser.parse_args(argv)

    os.environ.setdefault("PLACEPORTRAIT_HOME", tempfile.mkdtemp(prefix="pp-bench-home-"))
    cleanup = contextlib.ExitStack()  # what the bench made, removed when it ends
    if args.database_url:
        url, boundary_set, what = args.database_url, args.boundary_set, "existing store"
    elif args.postgis:
        import sqlalchemy as sa

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.postgis)
        with admin.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in args.postgis else "?"
        url = f"{args.postgis}{sep}options=-csearch_path%3D{schema},public"
        cleanup.callback(_drop_schema, admin, schema)

        t0 = time.perf_counter()
        build_store(url)
        boundary_set, what = SET, f"PostGIS bench store, built in {time.perf_counter() - t0:.0f} s"
    else:
        folder = tempfile.mkdtemp(prefix="pp-bench-")
        url = str(Path(folder) / "bench.gpkg")
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)

        t0 = time.perf_counter()
        build_store(url)
        boundary_set, what = SET, f"GeoPackage bench store, built in {time.perf_counter() - t0:.0f} s"
    with cleanup:
        rows = measure(url, boundary_set, args.repeat)
    info = machine()
    print(f"\n## placeportrait app benchmark ({what})\n")
    print(f"Machine: {info['cores']} cores, {info['memory']} memory, {info['cpu']}; "
          f"Python {info['python']}; {info['platform']}\n")
    print("| measure | result |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
