"""What matters most in a ward: the short answer the app's portrait and the report open with.

From a ward's scored rows (each indicator's latest period, with the authority and nation
values of :mod:`placeportrait.references` beside them), :func:`decide` picks

* the largest gaps among *genuine ward-level* measures: the indicators whose value is the
  ward's own (not an authority value given to each ward), in shortfall or overshoot,
  largest first by the gap as a share of the threshold's scale (the shortfall or
  overshoot that :func:`placeportrait.doughnut.score_table` computes), at most
  :data:`LIMIT`; each with its authority's and nation's value where the source gives one;
* the indicators known only at authority level (apportioned values with data), which say
  nothing about how the ward differs from its neighbours.

:func:`sentences` words the decision; both the app and the reports call it, with their own
number formatter, so they say the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from placeportrait.doughnut import APPORTIONED_FLAG, NO_DATA, OVERSHOOT, SHORTFALL

LIMIT = 3


@dataclass(frozen=True)
class Gap:
    indicator: str
    title: str
    status: str  # shortfall or overshoot
    gap: float  # shortfall or overshoot as a share
    value: float
    unit: str
    authority_value: float
    nation: str
    nation_value: float
    similar_median: float = math.nan
    similar_count: int = 0


@dataclass
class WhatMatters:
    gaps: list[Gap] = field(default_factory=list)
    authority_only: list[str] = field(default_factory=list)  # titles
    ward_level_with_data: int = 0


def _number(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _count(x) -> int:
    x = _number(x)
    return 0 if math.isnan(x) else int(x)


def _copied(rows: pd.DataFrame) -> pd.Series:
    if "flags" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["flags"].astype("string").fillna("").str.contains(APPORTIONED_FLAG)


def decide(rows: pd.DataFrame, limit: int = LIMIT) -> WhatMatters:
    """See the module docstring. ``rows``: one ward's latest scored rows."""
    if rows.empty:
        return WhatMatters()
    has = rows["status"].ne(NO_DATA)
    copied = _copied(rows)
    own = rows[has & ~copied]
    gap = pd.concat([own["shortfall"].where(own["status"] == SHORTFALL),
                     own["overshoot"].where(own["status"] == OVERSHOOT)], axis=1).max(axis=1)
    ranked = own.assign(_gap=gap).dropna(subset=["_gap"])
    ranked = ranked[ranked["_gap"] > 0].sort_values(["_gap", "title"], ascending=[False, True])
    gaps = [Gap(r["indicator"], str(r["title"]), r["status"], float(r["_gap"]),
                _number(r["value"]), str(r.get("unit") or ""), _number(r.get("authority_value")),
                str(r.get("nation") or ""), _number(r.get("nation_value")),
                _number(r.get("similar_median")), _count(r.get("similar_count")))
            for _, r in ranked.head(limit).iterrows()]
    authority_only = sorted(str(t) for t in rows.loc[has & copied, "title"])
    return WhatMatters(gaps, authority_only, int(len(own)))


def _against(gap: Gap, authority: str, fmt) -> str:
    """``against 15.3 % for Trafford and 18.1 % for England`` (what the sources give)."""
    parts = []
    if not math.isnan(gap.authority_value):
        parts.append(f"{fmt(gap.authority_value, gap.unit)} for {authority} as a whole")
    if gap.nation and not math.isnan(gap.nation_value):
        parts.append(f"{fmt(gap.nation_value, gap.unit)} for {gap.nation}")
    if gap.similar_count and not math.isnan(gap.similar_median):
        parts.append(f"a median of {fmt(gap.similar_median, gap.unit)} in "
                     f"{gap.similar_count} similar wards")
    if not parts:
        return "no authority or national figure from the source"
    return "against " + _join(parts)


def sentences(name: str, authority: str, found: WhatMatters, fmt) -> dict:
    """The decision in words: ``lead`` (one sentence), ``items`` (one per gap) and
    ``authority_only`` (one sentence, or empty). ``fmt(value, unit)`` formats a value
    with its unit, as the caller shows values elsewhere."""
    if not found.gaps:
        n = found.ward_level_with_data
        lead = (f"None of the {n} {'measure' if n == 1 else 'measures'} of {name} itself "
                "falls short of the social foundation or overshoots the ecological ceiling."
                if found.ward_level_with_data else
                f"No measure of {name} itself has data yet: every value shown is an authority "
                "figure or missing.")
    else:
        lead = (f"What matters most in {name}, among measures of the ward itself "
                f"(largest gap first):")
    items = []
    for g in found.gaps:
        what = "short of the foundation" if g.status == SHORTFALL else "over the ceiling"
        items.append(f"{g.title}: {fmt(g.value, g.unit)}, {_share(g.gap)} {what}; "
                     f"{_against(g, authority, fmt)}.")
    only = ""
    if found.authority_only:
        only = (f"Known only for {authority} as a whole (each ward is given the authority's "
                f"value, so these say nothing about {name} itself): "
                f"{_join(found.authority_only)}.")
    return {"lead": lead, "items": items, "authority_only": only}


def _share(gap: float) -> str:
    pct = 100 * gap
    return f"{pct:,.0f}%" if pct >= 10 else f"{pct:.1f}%"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
