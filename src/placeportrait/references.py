"""Reference values: an indicator's value for each local authority and each nation.

A ward's value means little alone. Beside it a planner wants its authority's and its
nation's values, and those must be the real figures: what the source says for the whole
authority or nation, not the mean of whichever wards happen to be loaded.

For each period of a run:

* **Nation** (England, Wales, Scotland, Northern Ireland). Where the source publishes a
  row for the nation (``E92000001`` …), that row is used. Otherwise the source's own
  rows are aggregated, with the weights the wards get:

  .. math:: \\bar v_N = \\frac{\\sum_{i \\in N} w_i v_i}{\\sum_{i \\in N} w_i}

  for rates (:math:`w_i` the source's population or denominator), and
  :math:`\\sum_{i \\in N} v_i` for counts. A nation is aggregated only if the source holds
  at least :data:`WHOLE_NATION_SHARE` of the nation's areas of that geography
  (:data:`AREAS_PER_NATION`), so an extract never passes for the nation; rates need
  weights, and counts need every area (a suppressed area would make the sum too small).
* **Authority** (the parent of the set's wards). For a source published by local
  authority, the authority's own row. Otherwise the authority's wards' harmonised
  values, weighted by the source weight each ward received (its ``denominator``):
  for a best-fit lookup that is exactly the source aggregated over the authority; by
  area it is the source's rows shared out by area. Every ward of the authority must
  have data, so the set must hold whole authorities (ONS ward sets do).

Where there is no value the row is kept with the value missing and the method saying why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from placeportrait.doughnut import NATIONS as NATION_NAMES
from placeportrait.harmonise.successors import carry, succession

#: GSS codes of the nations, by the first letter of their areas' codes (their names are
#: :data:`placeportrait.doughnut.NATIONS`).
NATION_GSS = {"E": "E92000001", "W": "W92000004", "S": "S92000003", "N": "N92000002"}
NATION_CODES = {code: NATION_NAMES[letter] for letter, code in NATION_GSS.items()}

#: How many areas each nation has in the small-area geographies sources are published on
#: (ONS, NRS and NISRA counts), to tell a whole-nation source from an extract.
AREAS_PER_NATION = {
    "lsoa2011": {"E": 32_844, "W": 1_909},
    "lsoa2021": {"E": 33_755, "W": 1_917},
    "msoa2011": {"E": 6_791, "W": 410},
    "msoa2021": {"E": 6_856, "W": 408},
    "oa2021": {"E": 178_605, "W": 10_275},
    "dz2011": {"S": 6_976},
    "dz2022": {"S": 7_392},
    "soa2001": {"N": 890},
    "sdz2021": {"N": 850},
}
AREA_WORDS = {"lsoa2011": "LSOAs (2011)", "lsoa2021": "LSOAs (2021)", "msoa2011": "MSOAs (2011)",
              "msoa2021": "MSOAs (2021)", "oa2021": "output areas (2021)",
              "dz2011": "data zones (2011)", "dz2022": "data zones (2022)",
              "soa2001": "super output areas", "sdz2021": "super data zones (2021)"}

#: A source is taken as covering a nation when it holds at least this share of the
#: nation's areas (rows with a suppressed value count: they are in the source).
WHOLE_NATION_SHARE = 0.95

#: Wards of each nation in ONS's December ward boundaries, by vintage (counted in the UK
#: files of tests/data/boundaries), so a ward's rank in its nation is only given where a
#: set holds the whole nation.
WARDS_PER_NATION = {
    "2019": {"E": 7_219, "W": 852, "S": 354, "N": 462},
    "2023": {"E": 6_862, "W": 762, "S": 355, "N": 462},
}

#: Geographies whose values are about area, not people: their authorities are averaged
#: by area when the source has no weights.
AREAL = ("grid", "raster")

COLUMNS = ["period", "level", "code", "name", "value", "method"]


def nation_letter(codes: pd.Series) -> pd.Series:
    """E, W, S or N from a GSS code; Northern Irish SOA 2001 codes start ``95``. Each
    distinct code is read once (a national table repeats each ward's code per value)."""
    index, uniques = pd.factorize(codes)
    text = pd.Series(uniques, dtype="string").str.strip().str.upper()
    letter = text.str[:1].where(text.str[:1].isin(list(NATION_GSS)))
    letter = letter.mask(text.str.startswith("95"), "N")
    found = pd.array(letter.to_numpy(object)[index], dtype="string")
    return pd.Series(found, index=codes.index).where(index >= 0)


def whole_nations(codes: pd.Series, level: str | None, vintage: str | None) -> dict[str, str]:
    """For each nation of a ward set, why a rank among the set's wards of that nation is,
    or is not, a rank among all of the nation's wards: ``""`` when the set holds at least
    :data:`WHOLE_NATION_SHARE` of them, else the reason in words."""
    letters = nation_letter(pd.Series(codes)).dropna()
    held = letters.value_counts()
    known = WARDS_PER_NATION.get(str(vintage or "")) if str(level or "").lower() == "ward" else None
    out = {}
    for letter, count in held.items():
        name = NATION_NAMES[letter]
        if known is None or letter not in known:
            out[letter] = (f"not ranked in {name}: the number of its wards in this "
                           "boundary set's vintage is not known")
        elif count >= WHOLE_NATION_SHARE * known[letter]:
            out[letter] = ""
        else:
            out[letter] = (f"not ranked in {name}: the set holds {count:,} of its "
                           f"{known[letter]:,} wards")
    return out


def nation_rank_notes(scores: pd.DataFrame, set_codes: pd.Series, level, vintage) -> pd.Series:
    """Per row of ``scores`` (with ``area_code`` and ``nation_ranked_areas`` from
    :func:`placeportrait.doughnut.compare`): ``""`` where the rank among the set's wards of
    the row's nation is a rank among the whole nation, because the set holds the nation's
    wards (:func:`whole_nations`) and the indicator has data for at least
    :data:`WHOLE_NATION_SHARE` of them; else why not."""
    letters = nation_letter(scores["area_code"])
    notes = letters.map(whole_nations(set_codes, level, vintage)).fillna("")
    known = WARDS_PER_NATION.get(str(vintage or ""), {})
    total = letters.map(known)
    ranked = pd.to_numeric(scores["nation_ranked_areas"], errors="coerce")
    thin = (notes == "") & total.notna() & (ranked < WHOLE_NATION_SHARE * total)
    names = letters.map(NATION_NAMES)
    notes[thin] = ("not ranked in " + names[thin] + ": "
                   + ranked[thin].map("{:,.0f}".format) + " of its "
                   + total[thin].map("{:,.0f}".format) + " wards have data")
    return notes


def split_published(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose code is a nation's, taken out of the table the wards are made from."""
    published = table["code"].astype("string").isin(list(NATION_CODES)).fillna(False)
    return table[~published.to_numpy()].reset_index(drop=True), table[published.to_numpy()]


def nation_values(table: pd.DataFrame, published: pd.DataFrame, *, geography: str,
                  kind: str, denominator: str | None, nations) -> pd.DataFrame:
    """One row per period and nation of ``nations`` (letters); see the module docstring."""
    letters = nation_letter(table["code"])
    rows = []
    for period in sorted(set(table["period"].astype(str).unique())
                         | set(published["period"].astype(str).unique())):
        part = table[(table["period"].astype(str) == period).to_numpy()]
        part_letters = letters[part.index]
        for letter in nations:
            code, name = NATION_GSS[letter], NATION_NAMES[letter]
            own = published[(published["code"] == code).to_numpy()
                             & (published["period"].astype(str) == period).to_numpy()]
            if len(own):
                value, method = float(own["value"].iloc[0]), "published by the source"
            else:
                value, method = _aggregate(part[(part_letters == letter).fillna(False).to_numpy()],
                                           geography, letter, kind, denominator, name)
            rows.append((period, "nation", code, name, value, method))
    return pd.DataFrame(rows, columns=COLUMNS)


def _aggregate(rows, geography, letter, kind, denominator, name) -> tuple[float, str]:
    expected = AREAS_PER_NATION.get(geography, {}).get(letter)
    words = AREA_WORDS.get(geography, f"{geography} areas")
    if expected is None:
        return np.nan, (f"no data: the source publishes no {name} figure, and its "
                        f"{geography} areas cannot be checked for covering all of {name}")
    present = rows["code"].nunique()
    if present < WHOLE_NATION_SHARE * expected:
        return np.nan, (f"no data: the source holds {present:,} of {name}'s {expected:,} "
                        f"{words}, not the whole nation")
    value = rows["value"].astype(float)
    has = value.notna()
    if kind == "extensive":
        if not has.all():
            return np.nan, (f"no data: {int((~has).sum()):,} {words} are suppressed, so "
                            "their sum would be too small")
        return float(value.sum()), f"sum of the source's {present:,} {words}"
    if "weight" not in rows:
        return np.nan, ("no data: the source gives no weights (population or denominator) "
                        "to aggregate its rates")
    weight = rows["weight"].astype(float)
    use = has & weight.notna()
    total = weight[use].sum()
    if total <= 0:
        return np.nan, "no data: no area has both a value and a weight"
    return (float((value[use] * weight[use]).sum() / total),
            f"weighted mean of the source's {int(use.sum()):,} {words} with data"
            f" (weights: {denominator or 'the source weights'})")


def authority_values(harmonised: pd.DataFrame, targets: pd.DataFrame, table: pd.DataFrame, *,
                     geography: str, kind: str, denominator: str | None) -> pd.DataFrame:
    """One row per period and parent of ``targets``; see the module docstring."""
    parents = targets[["code", "parent_code"]].dropna()
    if harmonised.empty or parents.empty:
        return pd.DataFrame(columns=COLUMNS)
    periods = pd.DataFrame({"period": sorted(set(harmonised["period"].astype(str)))})
    grid = parents.merge(periods, how="cross")
    if geography == "lad":
        chain = succession(table["code"], set(parents["parent_code"]))
        return _published_authorities(carry(table, chain, kind)[0], grid)
    ward = grid.merge(harmonised.assign(period=harmonised["period"].astype(str)),
                      left_on=["code", "period"], right_on=["area_code", "period"], how="left")
    if "area_m2" in targets:
        ward = ward.merge(targets[["code", "area_m2"]], on="code", how="left")
    return _from_wards(ward, geography, kind, denominator)


def _published_authorities(table: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    rows = grid[["parent_code", "period"]].drop_duplicates()
    own = table.assign(period=table["period"].astype(str)).drop_duplicates(["code", "period"])
    if "predecessors" not in own:
        own = own.assign(predecessors=np.nan)
    out = rows.merge(own[["code", "period", "value", "predecessors"]],
                     left_on=["parent_code", "period"], right_on=["code", "period"], how="left",
                     indicator=True)
    found = out["_merge"] == "both"
    carried = out["predecessors"].notna()
    method = np.where(~found, "no data: the source has no row for this authority",
                      np.where(out["value"].isna(),
                               "no data: the source's row for the authority is suppressed",
                               np.where(carried, "from the source's rows for its predecessor "
                                        "authorities " + out["predecessors"].astype(object).fillna("")
                                        + " (ONS code history)",
                                        "published by the source for the authority")))
    return pd.DataFrame({"period": out["period"], "level": "authority",
                         "code": out["parent_code"], "name": None,
                         "value": out["value"].astype(float), "method": method})[COLUMNS]


def _from_wards(ward: pd.DataFrame, geography, kind, denominator) -> pd.DataFrame:
    """Each authority's value from its wards (vectorised over authorities and periods)."""
    value = ward["value"].astype(float)
    den = ward["denominator"].astype(float) if "denominator" in ward else pd.Series(np.nan, index=ward.index)
    area = ward["area_m2"].astype(float) if "area_m2" in ward else pd.Series(np.nan, index=ward.index)
    parts = pd.DataFrame({"parent_code": ward["parent_code"], "period": ward["period"],
                          "n": 1, "missing": value.isna(), "v": value, "vd": value * den,
                          "d": den, "den_missing": den.isna(), "va": value * area, "a": area,
                          "area_missing": area.isna()})
    g = parts.groupby(["parent_code", "period"], sort=True).agg(
        n=("n", "sum"), missing=("missing", "sum"), v=("v", "sum"), vd=("vd", "sum"),
        d=("d", "sum"), den_missing=("den_missing", "sum"), va=("va", "sum"), a=("a", "sum"),
        area_missing=("area_missing", "sum")).reset_index()
    words = denominator or "the source weights"
    if kind == "extensive":
        value_out = g["v"]
        method = "sum of the source over the authority's " + g["n"].astype(str) + " wards"
    else:
        weighted = (g["den_missing"] == 0) & (g["d"] > 0)
        by_area = ~weighted & (geography in AREAL) & (g["area_missing"] == 0) & (g["a"] > 0)
        value_out = pd.Series(np.where(weighted, g["vd"] / g["d"].where(g["d"] > 0),
                                       np.where(by_area, g["va"] / g["a"].where(g["a"] > 0),
                                                np.nan)), index=g.index)
        method = pd.Series(np.where(
            weighted, "the source aggregated over the authority's " + g["n"].astype(str)
            + f" wards, weighted by {words}",
            np.where(by_area, "area-weighted mean of the authority's " + g["n"].astype(str)
                     + " wards", "no data: the source gives no weights (population or "
                     "denominator) to aggregate its rates")), index=g.index)
    incomplete = g["missing"] > 0
    value_out = value_out.where(~incomplete)
    method = pd.Series(np.where(
        incomplete, "no data: " + g["missing"].astype(str) + " of the authority's "
        + g["n"].astype(str) + " wards have no data", method), index=g.index)
    return pd.DataFrame({"period": g["period"], "level": "authority", "code": g["parent_code"],
                         "name": None, "value": value_out.astype(float), "method": method})[COLUMNS]


def for_run(table: pd.DataFrame, published: pd.DataFrame, harmonised: pd.DataFrame,
            targets: pd.DataFrame, meta) -> pd.DataFrame:
    """The authority and nation values of one run: every parent of the set's areas and
    every nation they are in."""
    nations = sorted(set(nation_letter(targets["code"]).dropna()))
    kind, denominator = meta.measure_kind, meta.denominator
    authority = authority_values(harmonised, targets, table, geography=meta.geography,
                                 kind=kind, denominator=denominator)
    nation = nation_values(table, published, geography=meta.geography, kind=kind,
                           denominator=denominator, nations=nations)
    periods = set(harmonised["period"].astype(str)) if len(harmonised) else set()
    nation = nation[nation["period"].isin(periods)]
    return pd.concat([authority, nation], ignore_index=True)


def attach(table: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """``table`` (``indicator, period, parent_code, nation`` per row) with the stored
    reference values beside each row: ``authority_value, authority_method,
    nation_value, nation_method``. A row with no stored reference gets no data."""
    out = table.copy()
    refs = references.assign(period=references["period"].astype(str))
    for level, key, prefix in (("authority", "parent_code", "authority"),
                               ("nation", "nation_code", "nation")):
        part = refs.loc[refs["level"] == level, ["indicator", "period", "code", "value", "method"]]
        part = part.rename(columns={"code": key, "value": f"{prefix}_value",
                                    "method": f"{prefix}_method"})
        if key == "nation_code":
            out[key] = nation_letter(out["area_code"]).map(NATION_GSS)
        out = out.drop(columns=[f"{prefix}_value", f"{prefix}_method"], errors="ignore")
        out = out.merge(part, on=["indicator", "period", key], how="left")
    out["authority_method"] = out["authority_method"].fillna("no data: not computed for this run")
    out["nation_method"] = out["nation_method"].fillna("no data: not computed for this run")
    return out.drop(columns="nation_code")
