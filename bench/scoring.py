"""Scoring a national table: 8,441 wards × 24 indicators."""

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
    return [{"step": "scoring", "case": f"score + summarise + dimensions, {len(table):,} rows",
             "seconds": time.perf_counter() - t0}]
