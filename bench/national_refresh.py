"""Benchmark: `placeportrait refresh` of the December 2023 UK wards from the national files.

    python bench/national_refresh.py [--database-url postgresql+psycopg://…]

For each store (a fresh GeoPackage; with a database URL also that PostGIS database, whose
tables are emptied first), as a user runs it, in a process of its own:

1. ``boundaries load`` the 8,441 wards of December 2023;
2. ``refresh --data-dir`` on the national data folder (``PLACEPORTRAIT_BENCH_DATA``, default
   ``/work/shared/data``): the first refresh also loads the source geometry it finds (LSOAs
   2011 and 2021, data zones, SOAs, super data zones) and computes the area crosswalks;
3. the same refresh again: what a council's later refreshes cost.

Prints one Markdown row per store and step: wall seconds, indicators ok / not run /
failed, and the ratio of the warm refresh to loading the ward set (a peer in the same run,
so the figures compare across machines).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("PLACEPORTRAIT_BENCH_DATA", "/work/shared/data"))
WARDS = SHARED / "boundaries" / "uk_wards_dec2023_bsc.gpkg"
CLI = [sys.executable, "-m", "placeportrait.cli"]


def timed(args: list[str], env: dict) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True)
    if done.returncode:  # say what failed, below the table's rows
        failed = [line for line in done.stdout.splitlines() if line.startswith("failed ")]
        print("\n".join(failed + done.stderr.splitlines()[-3:]), file=sys.stderr)
    return time.perf_counter() - start, done.stdout, done.returncode


def counts(out: str) -> str:
    lines = out.splitlines()
    ok = sum(line.startswith("ok ") for line in lines)
    not_run = sum(line.startswith("not run ") for line in lines)
    failed = sum(line.startswith("failed ") for line in lines)
    return f"{ok} ok, {not_run} not run, {failed} failed"


def bench_store(url: str, label: str, home: Path) -> list[str]:
    env = {**os.environ, "PLACEPORTRAIT_HOME": str(home), "PLACEPORTRAIT_DATABASE_URL": url}
    rows = []
    load, _, code = timed(["boundaries", "load", str(WARDS), "--set", "uk-wards-2023",
                           "--level", "ward"], env)
    assert code == 0, "loading the wards failed"
    rows.append(f"| {label} | load 8,441 wards | {load:.1f} | | 1.0 |")
    refresh = ["refresh", "--boundary-set", "uk-wards-2023", "--data-dir", str(SHARED)]
    for step in ("first refresh (loads source geometry)", "refresh again"):
        seconds, out, code = timed(refresh, env)
        rows.append(f"| {label} | {step} | {seconds:.1f} | {counts(out)} (exit {code}) | "
                    f"{seconds / load:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print("| store | step | seconds | indicators | × ward load |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for row in bench_store(str(Path(tmp) / "national.gpkg"), "GeoPackage", Path(tmp)):
            print(row, flush=True)
        if args.database_url:
            import sqlalchemy as sa

            engine = sa.create_engine(args.database_url)
            with engine.begin() as conn:  # a fresh schema: the bench's own database only
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; "
                                     "CREATE EXTENSION IF NOT EXISTS postgis"))
            subprocess.run([*CLI, "--database-url", args.database_url, "db", "init"], check=True,
                           capture_output=True)
            for row in bench_store(args.database_url, "PostGIS", Path(tmp)):
                print(row, flush=True)


if __name__ == "__main__":
    main()
