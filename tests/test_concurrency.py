"""Loads while the app serves, on both stores: a reader never sees a half-loaded indicator.

A writer process (spawned, so it shares nothing with the readers but the store) loads one
indicator again and again, alternating between two value sets A and B of 215 wards × 10
periods, and re-scores after each load, as ``indicators run`` and ``score`` do. Meanwhile
threads in this process read the store through the app's read-only store and ask the app
(``create_app`` on the same store, through the Flask test client) for the route, the map's
data as CSV and the set's geometry. Every read of the indicator must be all of A or all of
B (row count and a digest of the rows match one of them), and every request must answer
200. After each load the writer waits until both kinds of reader have seen it, so every
load is overlapped by reads and both sets are seen. The test is bounded by the number of
loads, not by time.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import threading
import time

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

SET = "gm-wards-2023"
IND = "gigabit_broadband"
PERIODS = [str(year) for year in range(2011, 2021)]
LATEST = PERIODS[-1]
LOADS = 3  # writer loads: B, A, B
GM_WARDS = DATA / "boundaries" / "greater_manchester_wards_dec2023_bsc.geojson"


def value_sets(codes: list[str]) -> list[pd.DataFrame]:
    """Two complete value tables for the indicator; some wards have no data, not the same
    ones in A and B."""
    rows = [(code, period, i, p) for i, code in enumerate(codes) for p, period in enumerate(PERIODS)]
    frame = pd.DataFrame(rows, columns=["area_code", "period", "i", "p"])
    a = ((frame["i"] * 7 + frame["p"] * 3) % 90 + 5).astype(float).where(frame["i"] % 50 != 0)
    b = (a.fillna(40.0) + 0.5).where(frame["i"] % 40 != 1)
    out = []
    for values in (a, b):
        out.append(pd.DataFrame({
            "area_code": frame["area_code"], "period": frame["period"], "value": values,
            "unit": "% of premises", "method": "code_match",
            "coverage": np.where(values.notna(), 1.0, np.nan), "source_rows": 1, "flags": None}))
    return out


def digest(frame: pd.DataFrame) -> tuple[int, str]:
    """Row count and a digest of (area, period, value), in any row order."""
    rows = sorted(zip(frame["area_code"], frame["period"],
                      [None if pd.isna(v) else float(v) for v in frame["value"]]))
    return len(rows), hashlib.sha1(json.dumps(rows).encode()).hexdigest()


def latest(frame: pd.DataFrame) -> dict:
    rows = frame.loc[frame["period"] == LATEST]
    return {c: (None if pd.isna(v) else float(v)) for c, v in zip(rows["area_code"], rows["value"])}


def indicator_meta() -> dict:
    """The built-in indicator's metadata as the store keeps it."""
    from placeportrait import plugins
    from placeportrait.indicator_run import indicator_record

    return indicator_record(plugins.load(IND).meta)


def load(store, frame: pd.DataFrame, meta: dict) -> None:
    """One load as `indicators run` makes it, then `score`."""
    from placeportrait.scoring import score_boundary_set

    run_id = store.start_run(plugin=IND, plugin_version=meta["version"], boundary_set=SET,
                             source="test_concurrency")
    store.commit_values(run_id, SET, IND, frame, source_checksum=None, messages="{}",
                        indicator_meta=meta)
    score_boundary_set(store, SET)


def writer(url: str, meta: dict, loads: int, ready, seen, failed) -> None:
    """The writer process: once both kinds of reader have seen A, ``loads`` loads, B then A
    then B…; after each, it waits (a bounded number of polls) until both have seen it."""
    from placeportrait.store import open_store

    store = open_store(url)
    codes = list(store.read_area_table(SET)["code"])
    sets = value_sets(codes)
    ready.set()

    def wait_until_seen(which: int, what: str) -> None:
        for _ in range(20_000):
            if failed.value or (seen[0] == which and seen[1] == which):
                return
            time.sleep(0.005)
        raise AssertionError(f"{what}: the readers never saw set {'AB'[which]}")

    wait_until_seen(0, "before the first load")
    for n in range(1, loads + 1):
        which = n % 2
        load(store, sets[which], meta)
        wait_until_seen(which, f"load {n}")
        if failed.value:
            return


@pytest.fixture
def loaded(store_url):
    """The GM wards with the indicator at value set A, scored."""
    from placeportrait import boundaries
    from placeportrait.store import open_store

    store = open_store(store_url)
    store.init()
    prepared = boundaries.prepare(boundaries.read_source(str(GM_WARDS)), name=SET, level="ward",
                                  source=str(GM_WARDS))
    store.replace_boundary_set(prepared.meta, prepared.areas)
    codes = list(store.read_area_table(SET)["code"])
    sets = value_sets(codes)
    meta = indicator_meta()
    load(store, sets[0], meta)
    if store.kind == "postgis":
        store.engine().dispose()
    return store_url, sets, meta


def test_readers_see_the_old_or_the_new_load_never_a_mix(loaded):
    from placeportrait_app import create_app
    from placeportrait_app.dashcall import CallbackClient
    from placeportrait_app.data import ReadOnlyStore

    from placeportrait.store import open_store

    url, sets, meta = loaded
    expected = {digest(s): "AB"[i] for i, s in enumerate(sets)}
    expected_map = [latest(s) for s in sets]
    assert len(expected) == 2 and expected_map[0] != expected_map[1]

    ctx = multiprocessing.get_context("spawn")
    seen = ctx.Array("i", [-1, -1], lock=False)  # the set each kind of reader saw last
    ready = ctx.Event()  # the writer has started: its imports are done
    failed = ctx.Value("b", 0, lock=False)  # a reader failed: the writer stops waiting
    stop = threading.Event()
    problems: list[str] = []
    counts = {"values": 0, "scores": 0, "http": 0}
    sights = {"values": set(), "scores": set(), "http": set()}

    def fail(message: str) -> None:
        problems.append(message)
        failed.value = 1

    def read_store():
        store = ReadOnlyStore(open_store(url))
        try:
            while not stop.is_set() and not problems:
                values = store.read_values(SET, [IND])
                got = expected.get(digest(values))
                if got is None:
                    fail(f"read_values gave neither A nor B: {len(values)} rows, "
                         f"{values['value'].notna().sum()} with data")
                    return
                scores = store.read_scores(SET)
                got_scores = expected.get(digest(scores.loc[scores["indicator"] == IND]))
                if got_scores is None:
                    fail(f"read_scores gave neither A nor B: {len(scores)} rows")
                    return
                sights["values"].add(got)
                sights["scores"].add(got_scores)
                counts["values"] += 1
                counts["scores"] += 1
                seen[0] = "AB".index(got_scores)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            fail(f"store reader: {type(exc).__name__}: {exc}")
        finally:
            if store.kind == "postgis":
                store.engine().dispose()

    app = create_app(url, ttl=0, warm=False)  # ttl=0: each request re-reads the version
    repo = app.placeportrait
    geometry_url = f"/_placeportrait/geometry/{SET}/{repo.geometry_version(SET)}.geojson"
    map_state = {"set": SET, "version": None, "indicator": IND, "la": None, "highlight": []}

    def read_app():
        client = CallbackClient(app)
        http = app.server.test_client()
        try:
            while not stop.is_set() and not problems:
                r = client.call("url.pathname", {"url.pathname": "/",
                                                 "url.search": f"?set={SET}&indicator={IND}"},
                                changed=[])
                d = client.call("download-map.data", {"dl-map-csv.n_clicks": 1},
                                {"map-state.data": map_state}, changed=["dl-map-csv.n_clicks"])
                g = http.get(geometry_url)
                if (r.status, d.status, g.status_code) != (200, 200, 200):
                    fail(f"HTTP answers {r.status}, {d.status}, {g.status_code}")
                    return
                if r.output("messages.children") is not None:
                    fail(f"the page said {r.output('messages.children')}")
                    return
                csv = pd.read_csv(io.StringIO(d.output("download-map.data")["content"]),
                                  dtype={"area_code": str})
                shown = {c: (None if pd.isna(v) else float(v))
                         for c, v in zip(csv["area_code"], csv["value"])}
                if shown not in expected_map:
                    fail("the map's data is neither A nor B")
                    return
                which = expected_map.index(shown)
                sights["http"].add("AB"[which])
                counts["http"] += 1
                seen[1] = which
        except Exception as exc:  # noqa: BLE001 - reported by the test
            fail(f"app reader: {type(exc).__name__}: {exc}")

    process = ctx.Process(target=writer, args=(url, meta, LOADS, ready, seen, failed))
    process.start()
    for _ in range(300):  # a safety net only; the readers start once the writer has
        if ready.wait(timeout=1) or not process.is_alive():
            break
    assert ready.is_set(), f"the writer ended (exit {process.exitcode}) before its first load"
    readers = [threading.Thread(target=read_store), threading.Thread(target=read_app)]
    for thread in readers:
        thread.start()
    process.join(timeout=600)  # a safety net only: the writer ends after LOADS loads
    alive = process.is_alive()
    if alive:
        process.kill()
    stop.set()
    for thread in readers:
        thread.join()
    if repo.store.kind == "postgis":
        repo.store.engine().dispose()

    assert problems == []
    assert not alive and process.exitcode == 0
    assert sights == {"values": {"A", "B"}, "scores": {"A", "B"}, "http": {"A", "B"}}
    assert min(counts.values()) >= LOADS
