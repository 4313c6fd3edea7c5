"""Scoring a boundary set's stored values: the doughnut engine applied to the store.

Thresholds come from each indicator's metadata (with its citation), overridden by a
council's YAML file where given; every score records the threshold it used.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait import doughnut, thresholds
from placeportrait.errors import InputError


def score_boundary_set(store, boundary_set: str, overrides: str | Path | None = None) -> pd.DataFrame:
    """Score every stored value of ``boundary_set`` and replace its scores atomically.

    Returns the scored table (one row per area, indicator and period).
    """
    values = store.read_values(boundary_set)
    if values.empty:
        raise InputError(f"boundary set {boundary_set!r} has no indicator values: run "
                         "`placeportrait indicators run` first")
    meta = store.read_indicators().set_index("id")
    defaults = {
        pid: thresholds.Threshold(row.threshold, row.baseline, row.threshold_citation)
        for pid, row in meta.iterrows()
    }
    frame = values.merge(meta[["ring", "dimension"]], left_on="indicator", right_index=True,
                         how="left")
    frame = thresholds.apply_thresholds(frame, defaults, overrides)
    scored = doughnut.score_table(frame[["area_code", "indicator", "period", "ring", "dimension",
                                         "value", "threshold", "baseline", "threshold_source"]])
    store.replace_scores(boundary_set, scored)
    return scored
