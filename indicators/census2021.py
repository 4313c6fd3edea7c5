"""Census 2021 (England and Wales) shares of people or households deprived, by LSOA 2021.

Each plugin is one Census 2021 topic summary table and the categories counted as deprived:
the value is :math:`100 \\sum_{c \\in D} n_c / n_{total}` per LSOA, weighted by the table's
total (residents or households) wherever LSOAs are aggregated onto wards, authorities or
nations. Threshold 0 %, baseline 100 %: nobody deprived, as Fanning & Raworth (2025) scale
shares of people deprived.

Three layouts are read:

* **nomis bulk** (``census2021-ts037-lsoa.csv`` in ``census2021-ts037.zip``, the published
  download): ``date, geography, geography code, <table>: <category>, …``;
* **wide cell codes** (``lsoa21_code, ts0370001, ts0370002, …``): output-area counts summed
  to LSOAs, as in the project's shared data;
* **long** (``lsoa21_code, <category column>, count | n``): one row per LSOA and category,
  as the humaniverse R packages publish TS011 and TS052.

LSOAs reach wards through an LSOA 2021 → ward best-fit lookup where the run has one
(``--lookup``), otherwise by area from the LSOA 2021 boundaries (boundary set
``lsoa-2021``). England and Wales only: Scotland's and Northern Ireland's censuses are
separate tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C

NOMIS = "https://www.nomisweb.co.uk/output/census/2021/census2021-{table}.zip"
OGL = "Open Government Licence v3.0"
ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government "
               "Licence v3.0. Census 2021.")
SHARE_DEPRIVED = C.share_deprived("nobody deprived")
CODE_COLUMNS = ("geography code", "lsoa21_code", "lsoa21cd", "LSOA21CD")
#: The names of the copies in the project's shared data (see its README).
ALIASES = {
    "ts037": ["census21_ts037_general_health_lsoa21_from_oa.csv"],
    "ts067": ["census21_ts067_highest_qualification_lsoa21_from_oa.csv"],
    "ts046": ["census21_ts046_central_heating_lsoa21_from_oa.csv"],
    "ts011": ["census21_ts011_household_deprivation_lsoa21.csv"],
    "ts052": ["census21_ts052_occupancy_rating_lsoa21.csv"],
}


class _CensusShare(IndicatorPlugin):
    """The share of a table's total in the deprived categories, by LSOA 2021."""

    table: str                    # e.g. "ts037"
    total: tuple[str, str]        # (cell code, nomis header) of the table's total
    deprived: tuple[tuple[str, str], ...]  # (cell code, nomis header) counted as deprived
    long_column: str | None = None         # the category column of the long layout
    long_deprived: frozenset = frozenset()  # its categories counted as deprived

    def read(self, path: Path) -> pd.DataFrame:
        path = C.extract(path, rf"{self.table}-lsoa", suffixes=(".csv",))
        frame = C.read_table(path)
        code = C.codes(frame[C.column(frame, path, *CODE_COLUMNS)])
        if self.long_column and C.column(frame, path, self.long_column, required=False):
            return self._long(frame, path, code)
        total = table_cell(frame, path, self.table, self.total)
        deprived = sum(table_cell(frame, path, self.table, cell) for cell in self.deprived)
        return self._share(path, code, deprived, total)

    def _long(self, frame, path, code) -> pd.DataFrame:
        category = frame[C.column(frame, path, self.long_column)].astype("string").str.strip()
        count = C.number(frame, C.column(frame, path, "count", "n"), path)
        parts = pd.DataFrame({"code": code.to_numpy(), "count": count.to_numpy(),
                              "deprived": category.isin(self.long_deprived).to_numpy()})
        if not parts["deprived"].any():
            raise InputError(f"{path}: no {self.long_column} is one of "
                             f"{', '.join(sorted(self.long_deprived))}")
        by = parts.groupby("code", sort=True)
        total = by["count"].sum(min_count=1)
        deprived = parts[parts["deprived"]].groupby("code")["count"].sum(min_count=1)
        return self._share(path, pd.Series(total.index), deprived.reindex(total.index).to_numpy(),
                           total.to_numpy())

    def _share(self, path, code, deprived, total) -> pd.DataFrame:
        deprived, total = pd.Series(deprived, dtype=float), pd.Series(total, dtype=float)
        if (deprived.to_numpy() > total.to_numpy()).any():
            raise InputError(f"{path}: deprived counts exceed the table's total")
        value = (100 * deprived / total).where(total > 0)
        out = pd.DataFrame({"code": pd.Series(code).to_numpy(), "period": "2021",
                            "value": value.to_numpy(), "weight": total.to_numpy()})
        return C.drop_blank_codes(out)


def table_cell(frame: pd.DataFrame, path, table: str, cell: tuple[str, str]) -> pd.Series:
    """One cell of a Census 2021 table, by its cell code or its nomis header."""
    cell_code, header = cell
    col = C.column(frame, path, cell_code, header, required=False)
    if col is None:
        raise InputError(f"{path}: no column {cell_code!r} or {header!r}: is this Census "
                         f"2021 table {table.upper()} by LSOA?")
    return C.number(frame, col, path)


def table_total(path: Path, table: str, total: tuple[str, str]) -> pd.Series:
    """A table's total (usual residents, households, ...) by LSOA 2021 code, from the
    nomis bulk download or the wide cell-code layout: the weights other LSOA 2021 sources
    borrow when they publish rates without their denominators."""
    path = C.extract(path, rf"{table}-lsoa", suffixes=(".csv",))
    frame = C.read_table(path)
    code = C.codes(frame[C.column(frame, path, *CODE_COLUMNS)])
    totals = pd.Series(table_cell(frame, path, table, total).to_numpy(), index=code.to_numpy())
    return totals[~totals.index.duplicated()]


def _metadata(pid, table, title, what, dimension, unit, denominator):
    return {
        "id": pid,
        "title": title,
        "description": (f"{what} (Census 2021, table {table.upper()}), by LSOA 2021, weighted "
                        f"by {denominator}. Put on wards through an LSOA 2021 best-fit lookup "
                        "(--lookup) or by area from LSOA 2021 boundaries (boundary set "
                        "'lsoa-2021'). England and Wales."),
        "version": "1",
        "ring": "social",
        "dimension": dimension,
        "lens": "local-social",
        "unit": unit,
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": {"publisher": "Office for National Statistics (Census 2021, via nomis)",
                   "url": NOMIS.format(table=table), "licence": OGL, "attribution": ATTRIBUTION,
                   "aliases": {"main": [f"census2021-{table}-lsoa.csv", *ALIASES[table]]}},
        "geography": "lsoa2021",
        "measure": {"kind": "intensive", "denominator": denominator},
        "periods": ["2021"],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2021"},
    }


class BadHealth(_CensusShare):
    table = "ts037"
    total = ("ts0370001", "General health: Total: All usual residents")
    deprived = (("ts0370005", "General health: Bad health"),
                ("ts0370006", "General health: Very bad health"))
    metadata = _metadata("census21_bad_health", table,
                         "Residents in bad or very bad health (Census 2021)",
                         "Share of usual residents whose general health is bad or very bad",
                         "health", "% of residents", "usual residents")


class NoQualifications(_CensusShare):
    table = "ts067"
    total = ("ts0670001", "Highest level of qualification: Total: All usual residents aged 16 "
                          "years and over")
    deprived = (("ts0670002", "Highest level of qualification: No qualifications"),)
    metadata = _metadata("census21_no_qualifications", table,
                         "Residents aged 16+ with no qualifications (Census 2021)",
                         "Share of usual residents aged 16 and over with no qualifications",
                         "education", "% of residents aged 16+", "usual residents aged 16+")


class NoCentralHeating(_CensusShare):
    table = "ts046"
    total = ("ts0460001", "Type of central heating in household: Total: All households")
    deprived = (("ts0460002", "Type of central heating in household: No central heating"),)
    metadata = _metadata("census21_no_central_heating", table,
                         "Households without central heating (Census 2021)",
                         "Share of households with no central heating", "energy",
                         "% of households", "households")


class HouseholdsDeprived(_CensusShare):
    table = "ts011"
    total = ("ts0110001", "Household deprivation: Total: All households")
    deprived = (("ts0110004", "Household deprivation: Household is deprived in two dimensions"),
                ("ts0110005", "Household deprivation: Household is deprived in three dimensions"),
                ("ts0110006", "Household deprivation: Household is deprived in four dimensions"))
    long_column = "households_number_deprivation_dimensions"
    long_deprived = frozenset({"2", "3", "4"})
    metadata = _metadata("census21_households_deprived", table,
                         "Households deprived in two or more dimensions (Census 2021)",
                         "Share of households deprived in two or more of the four dimensions "
                         "of employment, education, health and disability, and housing",
                         "social_equity", "% of households", "households")


class Overcrowding(_CensusShare):
    table = "ts052"
    total = ("ts0520001", "Occupancy rating for bedrooms: Total: All households")
    deprived = (("ts0520005", "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -1"),
                ("ts0520006", "Occupancy rating for bedrooms: Occupancy rating of bedrooms: -2 "
                              "or less"))
    long_column = "occupancy_rating"
    long_deprived = frozenset({"-1 (overcrowded)", "-2 or less (overcrowded)"})
    metadata = _metadata("census21_overcrowded_households", table,
                         "Overcrowded households (Census 2021)",
                         "Share of households with fewer bedrooms than they need (occupancy "
                         "rating for bedrooms of -1 or less)", "housing", "% of households",
                         "households")
