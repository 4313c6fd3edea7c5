"""Scoring a national table: 8,441 wards × 24 indicators; and the direction of travel of
every ward's series (`placeportrait.trends.attach`) on a national table shaped like a UK
refresh's: 30 one-period indicators and five series of 19, 15, 12, 4 and 2 periods."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def run(context) -> list[dict]:
    from placeportrait import dimensions as dims
    from placeportrait.doughnut import score_dimensions, score_table, summarise

    rng = np.random.default_rng(0)
    codes = [f"E05{i:06d}" for i in range(8441)]
    social = [d.id for d in dims.SOCIAL_FOUNDATION]
    eco = [d.id for d in dims.ECOLOGICAL_CEILING]
    rows = []
    for i in range(24):
        ring = "social" if i < 12 else "ecological"
        rows.append(pd.DataFrame({
            "area_code": codes, "indicator": f"ind{i}", "ring": ring,
            "dimension": social[i] if i < 12 else eco[(i - 12) % 9],
            "value": rng.random(len(codes)) * 100,
            "threshold": 0.0 if ring == "social" else 50.0,
            "baseline": 100.0 if ring == "social" else 0.0}))
    table = pd.concat(rows, ignore_index=True)
    t0 = time.perf_counter()
    scored = score_table(table)
    summarise(scored)
    score_dimensions(scored)
    scoring = time.perf_counter() - t0
    return [{"step": "scoring", "case": f"score + summarise + dimensions, {len(table):,} rows",
             "seconds": scoring}, _trends(codes, rng)]


def _trends(codes, rng) -> dict:
    from placeportrait import trends

    lengths = {**{f"one{i}": 1 for i in range(30)}, "ghg": 19, "co2": 15, "hle": 12,
               "child": 4, "fuel": 2}
    parts = []
    for indicator, n in lengths.items():
        periods = [str(2005 + j) for j in range(n)] if n > 1 else ["2021"]
        parts.append(pd.DataFrame({
            "area_code": np.repeat(codes, n), "indicator": indicator,
            "period": np.tile(periods, len(codes)), "value": rng.random(len(codes) * n),
            "threshold": 0.0, "unit": "%", "status": "shortfall"}))
    table = pd.concat(parts, ignore_index=True)
    polarity = pd.Series("lower_is_better", index=list(lengths))
    t0 = time.perf_counter()
    trends.attach(table, polarity, None)
    return {"step": "scoring", "case": f"direction of travel (trends.attach), {len(table):,} rows",
            "seconds": time.perf_counter() - t0}
