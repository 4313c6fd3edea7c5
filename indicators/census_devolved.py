"""Census shares of households deprived in Scotland (2022) and Northern Ireland (2021).

Each nation's census asks its own questions, so each table is its own indicator, labelled
with its nation and never pooled with England and Wales's Census 2021 plugins:

* ``ni_households_deprived``: households deprived in two or more of the four dimensions
  (employment, education, health and disability, housing), NISRA's ``HH_DEPRIVATION``;
* ``ni_overcrowded_households``: households with an occupancy rating *for rooms* of -1 or
  less (``OCCUPANCY_RATING_ROOMS_AGG5``; England and Wales count bedrooms);
* ``scotland_overcrowded_households``: households with an occupancy rating for bedrooms of
  -1 or less (Scotland's Census 2022, table UV415), on 2011 data zones.

The value is :math:`100 \\sum_{c \\in D} n_c / N` per area, :math:`N` the table's total
(the published "All occupied households" where the table has one, else the sum of its
categories), weighted by :math:`N` wherever areas are aggregated. Threshold 0 %, baseline
100 %: no household deprived (share-deprived scaling, Fanning & Raworth 2025). Super Data
Zones (850) and data zones reach wards by area from their boundaries (sets ``sdz-2021``
and ``dz-2011``); NI wards are often smaller than Super Data Zones, so a ward takes the
value of the zones it lies in, by area.

Layouts: NISRA's flexible table builder CSV (area code, area label, category code,
category label, count, by position, as the builder writes them), Scotland's Census
flexible table builder workbook (title rows, then a header row holding "All occupied
households", data zone codes in the second column, notes below), and the long tables of
the humaniverse demographr R package (``sdz21_code | dz11_code, total_households,
<category>, n, prop``), as copied to the project's shared data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C

OGL = "Open Government Licence v3.0"
SHARE_DEPRIVED = C.share_deprived("no household deprived")
NISRA_TABLE = "https://build.nisra.gov.uk/en/custom/table.csv?d=HOUSEHOLD&v=SDZ21&v={variable}"
SCOTLAND_BUILDER = ("https://www.scotlandscensus.gov.uk/"
                    "scotlands-census-2022-flexible-table-builder/")
NISRA_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                     "Licence v3.0. Census 2021, Northern Ireland Statistics and Research "
                     "Agency.")
NRS_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                   "Licence v3.0. Scotland's Census 2022, National Records of Scotland.")
TOTAL = "all occupied households"


def _codes_like(series: pd.Series, prefix: str) -> bool:
    text = series.dropna().astype(str).str.strip()
    return len(text) > 0 and text.str.match(rf"{prefix}\d{{6}}$").mean() > 0.9


def _builder_workbook(path: Path, prefix: str) -> pd.DataFrame:
    """Scotland's flexible table builder export as ``code, category, count`` rows, with the
    published total as category ``TOTAL``."""
    raw = pd.read_excel(path, header=None, dtype=str, engine="calamine")
    cells = raw.apply(lambda col: col.astype("string").str.strip().str.lower())
    header = next((i for i, row in cells.iterrows() if TOTAL in set(row.dropna())), None)
    if header is None:
        raise InputError(f"{path}: no header row with 'All occupied households'")
    body = raw.iloc[header + 1:]
    code_col = next((c for c in body.columns if _codes_like(body[c], prefix)), None)
    if code_col is None:
        raise InputError(f"{path}: no column of {prefix}… data zone codes below the header")
    body = body[body[code_col].astype("string").str.strip().str.match(rf"{prefix}\d{{6}}$")
                .fillna(False)]
    labels = raw.iloc[header].astype("string").str.strip()
    rows = []
    for col in body.columns:
        label = labels[col]
        if col == code_col or pd.isna(label) or not re.search(r"\d|all occupied", label.lower()):
            continue
        category = TOTAL if label.lower() == TOTAL else label.split(":")[-1].strip()
        rows.append(pd.DataFrame({"code": body[code_col].str.strip(), "category": category,
                                  "count": body[col]}))
    return pd.concat(rows, ignore_index=True)


def _builder_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """NISRA's table builder CSV: area code, area label, category code, category label,
    count, by position."""
    return pd.DataFrame({"code": frame.iloc[:, 0], "category": frame.iloc[:, 3],
                         "count": frame.iloc[:, 4]})


def _long(frame: pd.DataFrame, path, code_col: str, category_col: str) -> pd.DataFrame:
    """The demographr long table, with its published total as category ``TOTAL``."""
    out = pd.DataFrame({"code": frame[code_col], "category": frame[category_col],
                        "count": frame[C.column(frame, path, "n")]})
    total_col = C.column(frame, path, "total_households", required=False)
    if total_col is not None and code_col.startswith("dz"):  # NRS publishes the total
        totals = frame[[code_col, total_col]].drop_duplicates(code_col)
        out = pd.concat([out, pd.DataFrame({"code": totals[code_col], "category": TOTAL,
                                            "count": totals[total_col]})], ignore_index=True)
    return out


class _CensusTable(IndicatorPlugin):
    """The share of households in the deprived categories of one census table."""

    prefix: str                   # the area codes' prefix: "N21" or "S01"
    code_columns: tuple[str, ...]  # the long layout's code column
    category_column: str          # the long layout's category column
    deprived: re.Pattern          # matches the deprived categories' labels
    period: str

    def read(self, path: Path) -> pd.DataFrame:
        path = Path(path)
        if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
            cells = _builder_workbook(path, self.prefix)
        else:
            frame = C.read_table(path)
            code_col = C.column(frame, path, *self.code_columns, required=False)
            if code_col is not None:
                cells = _long(frame, path, code_col, C.column(frame, path,
                                                              self.category_column))
            elif frame.shape[1] == 5 and _codes_like(frame.iloc[:, 0], self.prefix):
                cells = _builder_csv(frame)
            else:
                raise InputError(f"{path}: neither the census table builder's layout nor a "
                                 f"long table with {self.code_columns[0]!r}")
        return self._shares(cells, path)

    def _shares(self, cells: pd.DataFrame, path) -> pd.DataFrame:
        cells = cells.assign(code=C.codes(cells["code"]),
                             category=cells["category"].astype("string").str.strip())
        cells["count"] = C.number(cells, "count", path)
        is_total = cells["category"] == TOTAL
        is_deprived = cells["category"].str.contains(self.deprived).fillna(False) & ~is_total
        if not is_deprived.any():
            raise InputError(f"{path}: no category matches {self.deprived.pattern!r}: is this "
                             f"the right census table?")
        summed = cells[~is_total].groupby("code")["count"].sum(min_count=1)
        published = cells[is_total].groupby("code")["count"].first()
        total = published.reindex(summed.index).fillna(summed)
        deprived = cells[is_deprived].groupby("code")["count"].sum(min_count=1)
        deprived = deprived.reindex(total.index)
        if (deprived > total).any():
            raise InputError(f"{path}: deprived households exceed the table's total")
        out = pd.DataFrame({"code": total.index, "period": self.period,
                            "value": (100 * deprived / total).where(total > 0).to_numpy(),
                            "weight": total.to_numpy()})
        return C.drop_blank_codes(out)


def _meta(pid, title, what, nation, census, url, geography, source_set, dimension,
          publisher, attribution, aliases):
    return {
        "id": pid, "title": title,
        "description": (f"{what} ({census}, {publisher}). {nation} only: not comparable with "
                        f"another nation's census. {geography.upper()} put on wards by area "
                        f"(boundary set '{source_set}'), weighted by households."),
        "version": "1", "ring": "social", "dimension": dimension, "lens": "local-social",
        "unit": "% of households", "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": {"publisher": publisher, "url": url, "licence": OGL,
                   "attribution": attribution, "aliases": {"main": aliases}},
        "geography": geography,
        "measure": {"kind": "intensive", "denominator": "households"},
        "periods": [census[-4:]],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": source_set},
    }


class _NorthernIreland(_CensusTable):
    prefix, code_columns, period = "N21", ("sdz21_code",), "2021"


class HouseholdsDeprivedNI(_NorthernIreland):
    category_column = "deprivation_dimensions"
    deprived = re.compile(r"deprived in [234] dimensions")
    metadata = _meta(
        "ni_households_deprived",
        "Households deprived in two or more dimensions (Northern Ireland, Census 2021)",
        "Share of households deprived in two or more of the dimensions of employment, "
        "education, health and disability, and housing", "Northern Ireland", "Census 2021",
        NISRA_TABLE.format(variable="HH_DEPRIVATION"), "sdz2021", "sdz-2021", "social_equity",
        "NISRA", NISRA_ATTRIBUTION, ["ni_census21_household_deprivation21_sdz21.csv"])


class OvercrowdedNI(_NorthernIreland):
    category_column = "occupancy_rating"
    deprived = re.compile(r"^(?:Occupancy rating - Rooms: )?-[12]")
    metadata = _meta(
        "ni_overcrowded_households",
        "Overcrowded households (Northern Ireland, Census 2021, rooms)",
        "Share of households with fewer rooms than they need (occupancy rating for rooms of "
        "-1 or less; England and Wales's measure counts bedrooms)", "Northern Ireland",
        "Census 2021", NISRA_TABLE.format(variable="OCCUPANCY_RATING_ROOMS_AGG5"), "sdz2021",
        "sdz-2021", "housing", "NISRA", NISRA_ATTRIBUTION,
        ["ni_census21_household_overcrowding21_sdz21.csv"])


class OvercrowdedScotland2022(_CensusTable):
    prefix, code_columns, period = "S01", ("dz11_code",), "2022"
    category_column = "occupancy_rating"
    deprived = re.compile(r"^-1 or less")
    metadata = _meta(
        "scotland_overcrowded_households",
        "Overcrowded households (Scotland, Census 2022)",
        "Share of households with fewer bedrooms than they need (occupancy rating for "
        "bedrooms of -1 or less, table UV415)", "Scotland", "Scotland's Census 2022",
        SCOTLAND_BUILDER, "dz2011", "dz-2011", "housing", "National Records of Scotland",
        NRS_ATTRIBUTION, ["scotland_census22_household_overcrowding22_dz11.csv"])
