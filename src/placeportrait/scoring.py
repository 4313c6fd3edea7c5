"""Scoring a boundary set's stored values: the doughnut engine applied to the store.

Thresholds come from each indicator's metadata (with its citation), overridden by a
council's YAML file where given; every score records the threshold it used.

Scores never go stale: ``placeportrait score`` re-scores a whole set, and every indicator
run re-scores the values it replaces in the same atomic write (:func:`score_new_values`),
keeping a council override that the set's scores already use.
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
    scored = doughnut.score_table(frame[SCORED_COLUMNS])
    store.replace_scores(boundary_set, scored)
    return scored


SCORED_COLUMNS = ["area_code", "indicator", "period", "ring", "dimension", "value",
                  "threshold", "baseline", "threshold_source"]
OVERRIDE_MARK = "; override: "  # how apply_thresholds labels an overridden threshold


def score_new_values(store, boundary_set: str, meta, values: pd.DataFrame) -> pd.DataFrame:
    """Scores for one run's ``values``, to be written with them (``commit_values``).

    The threshold is the plugin's (``meta``), unless the set's current scores of this
    indicator use a council override (``score --thresholds``): that override stays in force
    until the set is scored again, so a run never silently drops a council's threshold.
    """
    default = thresholds.Threshold(meta.threshold, meta.baseline, meta.threshold_citation)
    chosen = _override_in_force(store, boundary_set, meta.id) or default
    frame = values[["area_code", "period", "value"]].assign(
        indicator=meta.id, ring=meta.ring, dimension=meta.dimension,
        threshold=float("nan") if chosen.threshold is None else float(chosen.threshold),
        baseline=float(chosen.baseline if chosen.baseline is not None else 0.0),
        threshold_source=chosen.citation)
    return doughnut.score_table(frame[SCORED_COLUMNS])


def _override_in_force(store, boundary_set: str, indicator: str) -> thresholds.Threshold | None:
    current = store.score_thresholds(boundary_set, indicator)
    if current is None or OVERRIDE_MARK not in str(current[2]):
        return None
    return thresholds.Threshold(*current)
