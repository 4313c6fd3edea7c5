"""Income and employment deprivation in Scotland and Northern Ireland, by small area.

Each nation measures deprivation its own way, so each measure is its own indicator, and
none is comparable with England's IoD rates or with another nation's:

* **Scotland** (SIMD 2020v2, data zone 2011): ``income_rate`` and ``employment_rate``, the
  shares income and employment deprived, weighted by the file's own total and working-age
  populations. Data zones reach wards by area from their boundaries (set ``dz-2011``).
* **Northern Ireland** (NIMDM 2017, SOA 2001): the share of people in households below 60 %
  of the NI median equivalised income (a *relative low income* measure, not a benefits
  count), and the share of working-age people employment deprived. The file gives no
  populations, so SOAs are averaged by area onto wards (set ``soa-2001``), and there is no
  Northern Ireland figure aggregated from them. NI wards are smaller than SOAs: a ward takes
  the value of the SOAs it lies in, by area.

Threshold 0 %, baseline 100 %: nobody deprived (share-deprived scaling, Fanning & Raworth
2025). Each reads the published layout and the copy of the humaniverse IMD R package
(``dz11_code, Income_rate, …``; ``soa01_code, …``).

Wales has no plugin here: WIMD 2019 publishes domain *scores* (ranked and transformed, 0 to
100), not the shares income or employment deprived, so they cannot be scored as shares.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C

OGL = "Open Government Licence v3.0"
SHARE_DEPRIVED = C.share_deprived("nobody deprived")
SIMD_2020 = ("https://www.gov.scot/binaries/content/documents/govscot/publications/statistics/"
             "2020/01/scottish-index-of-multiple-deprivation-2020-indicator-data/documents/"
             "simd_2020_indicators/simd_2020_indicators/govscot%3Adocument/"
             "SIMD%2B2020v2%2B-%2Bindicators.xlsx")
NIMDM_2017 = "https://www.nisra.gov.uk/sites/nisra.gov.uk/files/publications/NIMDM17_SOAresults.xls"
SPREADSHEETS = (".xlsx", ".xls", ".ods")


def _table(path: Path, sheet: str):
    """The published workbook's data sheet, or a CSV copy as it is."""
    is_book = Path(path).suffix.lower() in SPREADSHEETS
    return C.read_table(path, sheet=sheet) if is_book else C.read_table(path)


def _percent(values: pd.Series, path, name: str) -> pd.Series:
    """Shares as per cent: published files mix proportions (0–1) and percentages."""
    present = values.dropna()
    if (present < 0).any() or (present > 100).any():
        raise InputError(f"{path}: {name} outside 0–100")
    return values * 100 if present.max() <= 1 else values


def _meta(pid, title, what, nation, release, url, geography, denominator, source_set,
          publisher, attribution, extra=None, aliases=None, unit="% of residents"):
    return {
        "id": pid, "title": title,
        "description": (f"{what} ({release}). {nation} only; not comparable with England's "
                        f"IoD or another nation's measure. {geography.upper()} put on wards "
                        f"by area (boundary set '{source_set}'), weighted by {denominator}."),
        "version": "1", "ring": "social", "dimension": "income_and_work",
        "lens": "local-social", "unit": unit, "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": {"publisher": publisher, "url": url, "licence": OGL,
                   "attribution": attribution, **({"extra": extra} if extra else {}),
                   **({"aliases": aliases} if aliases else {})},
        "geography": geography,
        "measure": {"kind": "intensive", "denominator": denominator},
        "periods": [release[-4:]],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": source_set},
    }


# -- Scotland ------------------------------------------------------------------------------
def simd_table(path: Path) -> pd.DataFrame:
    """The SIMD 2020v2 indicators: the workbook's ``Data`` sheet, or its CSV copy."""
    return _table(Path(path), "Data")


class _Scotland(IndicatorPlugin):
    rate: str
    weight: str

    def read(self, path: Path) -> pd.DataFrame:
        frame = simd_table(path)
        code = C.codes(frame[C.column(frame, path, "Data_Zone", "dz11_code", "DZ")])
        share = _percent(C.number(frame, C.column(frame, path, self.rate), path), path, self.rate)
        weight = C.number(frame, C.column(frame, path, self.weight), path)
        out = pd.DataFrame({"code": code.to_numpy(), "period": "2020", "value": share.to_numpy(),
                            "weight": weight.to_numpy()})
        return C.drop_blank_codes(out)


SIMD_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                    "Licence v3.0. Scottish Index of Multiple Deprivation 2020v2, Scottish "
                    "Government.")
SIMD_ALIASES = {"main": ["simd2020v2_scotland_dz11_indicators.csv"]}


class IncomeScotland(_Scotland):
    rate, weight = "Income_rate", "Total_population"
    metadata = _meta(
        "income_deprivation_rate_scotland", "Residents income deprived (Scotland, SIMD 2020)",
        "Share of residents income deprived (SIMD income rate)", "Scotland", "SIMD 2020",
        SIMD_2020, "dz2011", "residents (SIMD total population)", "dz-2011",
        "Scottish Government", SIMD_ATTRIBUTION, aliases=SIMD_ALIASES)


class EmploymentScotland(_Scotland):
    rate, weight = "Employment_rate", "Working_age_population"
    metadata = _meta(
        "employment_deprivation_rate_scotland",
        "Working-age residents employment deprived (Scotland, SIMD 2020)",
        "Share of working-age residents employment deprived (SIMD employment rate)",
        "Scotland", "SIMD 2020", SIMD_2020, "dz2011",
        "working-age residents (SIMD working-age population)", "dz-2011",
        "Scottish Government", SIMD_ATTRIBUTION, aliases=SIMD_ALIASES,
        unit="% of working-age residents")


class OvercrowdedScotland(_Scotland):
    rate, weight = "overcrowded_rate", "Total_population"
    metadata = {**_meta(
        "overcrowded_scotland", "People in overcrowded households (Scotland, SIMD 2020)",
        "Share of people in overcrowded households (SIMD housing domain, Census 2011)",
        "Scotland", "SIMD 2020", SIMD_2020, "dz2011", "residents (SIMD total population)",
        "dz-2011", "Scottish Government", SIMD_ATTRIBUTION, aliases=SIMD_ALIASES),
        "dimension": "housing"}


class NoCentralHeatingScotland(_Scotland):
    rate, weight = "nocentralheat_rate", "Total_population"
    metadata = {**_meta(
        "no_central_heating_scotland",
        "People in households without central heating (Scotland, SIMD 2020)",
        "Share of people in households without central heating (SIMD housing domain, "
        "Census 2011)", "Scotland", "SIMD 2020", SIMD_2020, "dz2011",
        "residents (SIMD total population)", "dz-2011", "Scottish Government",
        SIMD_ATTRIBUTION, aliases=SIMD_ALIASES), "dimension": "energy"}


# -- Northern Ireland ---------------------------------------------------------------------
class _NorthernIreland(IndicatorPlugin):
    column: str  # the start of the published column name
    sheet: str   # the workbook's sheet of the domain

    def read(self, path: Path) -> pd.DataFrame:
        frame = _table(path, self.sheet)
        code = C.codes(frame[C.column(frame, path, "SOA2001", "soa01_code", "SOA_CODE")])
        share = _percent(C.number(frame, C.column(frame, path, self.column, prefix=True), path),
                         path, self.column)
        out = pd.DataFrame({"code": code.to_numpy(), "period": "2017", "value": share.to_numpy()})
        return C.drop_blank_codes(out)


NIMDM_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                     "Licence v3.0. Northern Ireland Multiple Deprivation Measure 2017, NISRA.")
NIMDM_ALIASES = {"main": ["nimdm2017_ni_soa01_indicators.csv"]}


class LowIncomeNI(_NorthernIreland):
    column = "Proportion of the population living in households whose equivalised income"
    sheet = "Income"
    metadata = _meta(
        "low_income_rate_ni",
        "People in relative low-income households (Northern Ireland, NIMDM 2017)",
        "Share of people in households with equivalised income below 60 % of the NI median",
        "Northern Ireland", "NIMDM 2017", NIMDM_2017, "soa2001",
        "area (the file gives no populations)", "soa-2001", "NISRA", NIMDM_ATTRIBUTION,
        aliases=NIMDM_ALIASES)


class EmploymentNI(_NorthernIreland):
    column = "Proportion of the working age population who are employment deprived"
    sheet = "Employment"
    metadata = _meta(
        "employment_deprivation_rate_ni",
        "Working-age people employment deprived (Northern Ireland, NIMDM 2017)",
        "Share of working-age people employment deprived", "Northern Ireland", "NIMDM 2017",
        NIMDM_2017, "soa2001", "area (the file gives no populations)", "soa-2001", "NISRA",
        NIMDM_ATTRIBUTION, aliases=NIMDM_ALIASES, unit="% of working-age residents")
