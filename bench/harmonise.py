"""Harmonisation at national scale: placeportrait against the tools a user would use."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geopandas as gpd

from placeportrait import harmonise


def timed(fn, repeat=1):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(context) -> list[dict]:
    from bench.national import lsoa_like, uk_wards

    wards = uk_wards()
    sources = lsoa_like(wards)
    rows = []
    first, cw = timed(lambda: harmonise.crosswalk(sources, "code", wards))
    values = sources[["code", "value"]]
    rows.append({"step": "harmonise", "case": f"first crosswalk: {len(sources):,} LSOA-sized → "
                 f"{len(wards):,} wards", "seconds": first})

    def tobler_once():
        from tobler.area_weighted import area_interpolate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return area_interpolate(sources.to_crs(27700), wards.to_crs(27700),
                                    intensive_variables=["value"])

    t_tobler, _ = timed(tobler_once)
    rows.append({"step": "harmonise", "case": "tobler.area_interpolate (one variable)",
                 "seconds": t_tobler})

    def overlay_once():
        pieces = gpd.overlay(sources.to_crs(27700), wards.to_crs(27700), how="intersection",
                             keep_geom_type=True)
        pieces["a"] = pieces.area
        pieces["va"] = pieces["value"] * pieces["a"]
        g = pieces.groupby("code_2")[["va", "a"]].sum()
        return g["va"] / g["a"]

    t_overlay, _ = timed(overlay_once)
    rows.append({"step": "harmonise", "case": "geopandas overlay + groupby", "seconds": t_overlay})

    peers = {"tobler": t_tobler, "overlay": t_overlay}
    if context.get("database_url"):
        postgis_rows = _postgis(context["database_url"], sources, wards)
        rows.extend(postgis_rows)
        peers["PostGIS SQL"] = postgis_rows[0]["seconds"]

    t_apply, _ = timed(lambda: harmonise.apply_crosswalk(values, cw, "intensive", code_col="code"),
                       repeat=5)
    prepared = harmonise.prepare_crosswalk(cw)
    t_prepared, _ = timed(lambda: harmonise.apply_crosswalk(values, prepared, "intensive",
                                                            code_col="code"), repeat=5)
    rows.append({"step": "harmonise", "case": "each further indicator (cached crosswalk)",
                 "seconds": t_apply, "peer": "tobler", "ratio": t_tobler / t_apply})
    rows.append({"step": "harmonise", "case": "each further indicator (prepared matrix)",
                 "seconds": t_prepared, "peer": "tobler", "ratio": t_tobler / t_prepared})
    rows[0].update({"peer": "tobler", "ratio": t_tobler / first,
                    "note": "; ".join(f"{t / first:.1f}× faster than {name}" for name, t in peers.items())})
    rows.extend(_grid(wards))
    rows.extend(_national_lookup())
    return rows


def _grid(wards):
    """A 1 km grid over Great Britain onto the wards: the zonal_grid route."""
    from bench.national import gb_grid_1km

    grid = gb_grid_1km(wards).to_crs(4326)
    first, cw = timed(lambda: harmonise.crosswalk(grid, "code", wards))
    prepared = harmonise.prepare_crosswalk(cw)
    values = grid[["code", "value"]]
    t_apply, _ = timed(lambda: harmonise.apply_crosswalk(values, prepared, "intensive",
                                                         code_col="code"), repeat=5)
    return [{"step": "harmonise", "case": f"first crosswalk: 1 km grid over GB, {len(grid):,} "
             f"cells → {len(wards):,} wards", "seconds": first},
            {"step": "harmonise", "case": "each further 1 km grid indicator (prepared matrix)",
             "seconds": t_apply}]


def _national_lookup():
    """IoD 2019 (32,844 LSOAs) through the national LSOA 2011 → ward 2019 lookup (34,753
    rows) onto the 8,887 wards of 2019, against pandas merge + groupby. Real files from
    ``PLACEPORTRAIT_SHARED_DATA`` (default ../shared/data); skipped when absent."""
    import os

    import pandas as pd

    from bench.national import ROOT, UK_2019

    shared = Path(os.environ.get("PLACEPORTRAIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    lookup_path = shared / "lookups" / "LSOA11_to_WD19_to_LAD19_Lookup_in_England_and_Wales.csv"
    iod = shared / "deprivation" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
    pop = shared / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv.gz"
    if not all(p.exists() for p in (lookup_path, iod, pop)):
        return [{"step": "harmonise", "case": "national LSOA → ward lookup", "seconds": None,
                 "note": f"skipped: no national files under {shared}"}]
    lookup = pd.read_csv(lookup_path, usecols=["LSOA11CD", "WD19CD"])
    deciles = pd.read_csv(iod, usecols=[0, 5])
    people = pd.read_csv(pop, usecols=[0, 4], thousands=",")
    values = pd.DataFrame({"code": deciles.iloc[:, 0],
                           "value": (deciles.iloc[:, 1] == 1) * 100.0}).merge(
        people.set_axis(["code", "weight"], axis=1), on="code")
    wards = gpd.read_file(UK_2019, ignore_geometry=True)["WD19CD"].rename("code")
    t_lookup, _ = timed(lambda: harmonise.lookup_aggregate(
        values, lookup, wards.to_frame(), kind="intensive", weights="weight", code_col="code",
        lookup_source_col="LSOA11CD", lookup_target_col="WD19CD"), repeat=5)

    def pandas_once():
        m = values.merge(lookup, left_on="code", right_on="LSOA11CD")
        m["vw"] = m["value"] * m["weight"]
        g = m.groupby("WD19CD")[["vw", "weight"]].sum()
        return g["vw"] / g["weight"]

    t_pandas, _ = timed(pandas_once, repeat=5)
    return [{"step": "harmonise", "case": f"national lookup: {len(values):,} LSOAs → "
             f"{len(wards):,} wards 2019 (with coverage)", "seconds": t_lookup,
             "peer": "pandas merge + groupby", "ratio": t_pandas / t_lookup,
             "note": f"pandas merge + groupby (no coverage, no guards): {t_pandas:.4f} s"}]


def _postgis(url, sources, wards):
    """The same crosswalk job as one SQL statement on PostGIS (GIST-indexed join)."""
    import sqlalchemy as sa

    from placeportrait.store import open_store

    store = open_store(url)
    store.init()
    engine = store.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_src, bench_tgt"))
    sources.to_crs(27700).rename_geometry("geom").to_postgis("bench_src", engine)
    wards.to_crs(27700).rename_geometry("geom").to_postgis("bench_tgt", engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX ON bench_src USING gist (geom); "
                             "CREATE INDEX ON bench_tgt USING gist (geom); ANALYZE bench_src; ANALYZE bench_tgt"))
    sql = sa.text("""
        SELECT t.code, SUM(s.value * ST_Area(ST_Intersection(s.geom, t.geom)))
                       / NULLIF(SUM(ST_Area(ST_Intersection(s.geom, t.geom))), 0)
        FROM bench_src s JOIN bench_tgt t ON ST_Intersects(s.geom, t.geom)
        GROUP BY t.code""")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sql).all()
    seconds = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_src, bench_tgt"))
    return [{"step": "harmonise", "case": "PostGIS SQL: ST_Intersection join + GROUP BY",
             "seconds": seconds}]
