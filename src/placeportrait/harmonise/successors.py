"""Local-authority rows on older codes, carried to the authorities that succeeded them.

Sources by local authority are published on the codes of their year. When authorities
merge (Buckinghamshire 2020, Northamptonshire 2021, Cumbria, North Yorkshire and Somerset
2023, ...), a file on the older codes has no row for the new authority, and its wards
would get no data. The ONS code history, as a chain of codes 2016 → 2024
(``data/lookups/lad16_to_lad24_uk.csv``), says which older codes each authority of a
boundary set succeeded:

* :func:`succession` decides, from the source's codes and the set's authorities, which
  source code becomes which authority and which predecessors each one needs;
* :func:`carry` acts on a table: a renamed authority keeps its row; a merged authority
  gets the sum of its predecessors' counts, or the mean of their rates weighted by the
  source's own weights (population, households), and no data where the source has no
  weights or lacks a predecessor's row.

The step runner (:func:`placeportrait.harmonise.steps.run_successor`) and the authority
reference values (:mod:`placeportrait.references`) both use :func:`carry`, so a merged
authority's wards and its "whole authority" figure agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from placeportrait.harmonise._common import EXTENSIVE

CHAIN_FILE = Path(__file__).resolve().parents[1] / "data" / "lookups" / "lad16_to_lad24_uk.csv"
CHAIN_NAME = "ONS code history, LAD 2016 to 2024"


@functools.cache
def chain() -> pd.DataFrame:
    """The code chain: one row per 2016 authority, ``ltlaYY_code``/``ltlaYY_name`` pairs
    from 2016 to 2024, oldest first."""
    return pd.read_csv(CHAIN_FILE, dtype=str).fillna("")


@dataclass(frozen=True)
class Succession:
    """``successor[old]`` is the set's authority an older source code became;
    ``predecessors[new]`` the source-vintage codes the new authority is made of."""

    successor: dict[str, str] = field(default_factory=dict)
    predecessors: dict[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.successor)


def _rows(wanted: set[str]):
    """(older codes oldest first, successor) for each chain row that reaches an authority
    of ``wanted`` under a new code. A 2016 authority the chain sends to two successors is
    a boundary transfer (Fife and Perth and Kinross, 2018): only its row to the successor
    of the same name is kept."""
    ch = chain()
    codes = [c for c in ch.columns if c.endswith("_code")]
    names = [c.replace("_code", "_name") for c in codes]
    found = []
    for row_codes, row_names in zip(ch[codes].to_numpy(), ch[names].to_numpy()):
        reached = [k for k, code in enumerate(row_codes) if code in wanted]
        if not reached:
            continue
        new = row_codes[reached[-1]]
        first = list(row_codes).index(new)
        if first:
            found.append((row_codes[0], row_names[0] == row_names[first],
                          list(dict.fromkeys(row_codes[:first])), new))
    split = pd.Series([origin for origin, *_ in found]).value_counts()
    for origin, same_name, before, new in found:
        if split[origin] == 1 or same_name:
            yield before, new


def succession(source_codes, wanted) -> Succession:
    """Which of ``source_codes`` became which authority of ``wanted``.

    For each chain row reaching an authority under a new code, the source's latest code
    on that row is the predecessor (so a source on 2019 codes uses Somerset West and
    Taunton, one on 2018 codes its two districts). A row with no source code still
    counts as a predecessor, by its last code, so :func:`carry` reports it missing.
    """
    source_codes, wanted = set(source_codes), set(wanted)
    successor: dict[str, str] = {}
    needed: dict[str, set[str]] = {}
    for before, new in _rows(wanted):
        present = [code for code in before if code in source_codes]
        needed.setdefault(new, set()).add(present[-1] if present else before[-1])
        if present:
            successor[present[-1]] = new
    reached = set(successor.values())
    return Succession(successor, {new: frozenset(olds) for new, olds in needed.items()
                                  if new in reached})


def carry(table: pd.DataFrame, plan: Succession, kind: str) -> tuple[pd.DataFrame, list[str]]:
    """``table`` (``code, period, value[, weight]``) with rows on older codes replaced by
    one row per successor authority and period (its ``predecessors`` named).

    With predecessors :math:`j` of authority :math:`A`, values :math:`v_j` and the
    source's weights :math:`d_j`:

    renamed (one predecessor)
        :math:`v_A = v_j`, weight :math:`d_j`
    merged, counts
        :math:`v_A = \\sum_j v_j`
    merged, rates
        :math:`v_A = \\sum_j d_j v_j / \\sum_j d_j`, weight :math:`\\sum_j d_j`

    An authority the source already publishes (for that period) keeps its own row. A
    merged authority is no data when a predecessor's row or value is missing, or when a
    rate has no weights to combine with; each such case is one line of the returned notes.
    """
    if not plan:
        return table, []
    moved = table["code"].isin(plan.successor.keys())
    own, old = table[~moved], table[moved].assign(successor=table["code"].map(plan.successor))
    published = set(zip(own["code"], own["period"].astype(str)))
    has_weight = "weight" in table
    rows, notes = [], []
    for (new, period), part in old.groupby(["successor", "period"], sort=True):
        if (new, str(period)) in published:
            continue
        need = plan.predecessors[new]
        part = part.drop_duplicates("code")
        lacking = sorted(need - set(part.loc[part["value"].notna(), "code"]))
        row = {"code": new, "period": period, "predecessors": ", ".join(sorted(need))}
        if lacking:
            notes.append(f"{new} ({period}): no data, the source has no value for its "
                         f"predecessor {', '.join(lacking)}")
        elif len(need) == 1:
            rows.append(row | {"value": part["value"].iloc[0],
                               "weight": part["weight"].iloc[0] if has_weight else np.nan})
        elif kind == EXTENSIVE:
            rows.append(row | {"value": part["value"].sum(), "weight": np.nan})
        elif has_weight and part["weight"].notna().all() and (part["weight"] > 0).all():
            weight = part["weight"].sum()
            rows.append(row | {"value": (part["value"] * part["weight"]).sum() / weight,
                               "weight": weight})
        else:
            notes.append(f"{new} ({period}): no data, merged from {', '.join(sorted(need))} "
                         f"and the source has no weights to combine their rates")
    carried = pd.DataFrame(rows, columns=["code", "period", "value", "weight", "predecessors"])
    if not has_weight:
        carried = carried.drop(columns="weight")
    return pd.concat([own, carried], ignore_index=True), notes


def describe(plan: Succession) -> str:
    """One line for a plan: how many authorities are reached, from which codes."""
    merged = sum(len(olds) > 1 for olds in plan.predecessors.values())
    return (f"{len(plan.predecessors)} authorities of the set are on older codes in the source "
            f"({merged} merged from several), carried to their successors through the "
            f"{CHAIN_NAME}")
