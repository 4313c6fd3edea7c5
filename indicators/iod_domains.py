"""English Indices of Deprivation: the domains, and the income and employment rates.

Two families of indicator, both put on wards through LSOA geometry:

* **Share of residents in England's most deprived 10 % of neighbourhoods on one domain**
  (IoD 2019, LSOA 2011): value 100 for an LSOA in decile 1 of the domain and 0 otherwise,
  weighted by the LSOA's mid-2015 population. Reads File 2 (domain deciles; File 7 works
  too), with File 6 (population denominators) as the extra source ``population``; when
  the main file already holds the population (File 7), that column is used.
* **Income and employment deprivation rates** (IoD File 7): the share of residents who are
  income deprived, and of working-age residents who are employment deprived, weighted by
  the domain's own denominator from the same file. One plugin per release: IoD 2019 is on
  LSOA 2011, IoD 2025 on LSOA 2021.

All of them cover England only: Welsh, Scottish and Northern Irish wards get no data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C
from placeportrait_indicators import census2021



GOV_UK_2019 = "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/"
FILE_2_2019 = GOV_UK_2019 + "833973/File_2_-_IoD2019_Domains_of_Deprivation.xlsx"
FILE_6_2019 = GOV_UK_2019 + "833995/File_6_-_IoD2019_Population_Denominators.xlsx"
FILE_7_2019 = GOV_UK_2019 + "845345/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
FILE_7_2025 = ("https://assets.publishing.service.gov.uk/media/691ded56d140bbbaa59a2a7d/"
               "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv")
OGL = "Open Government Licence v3.0"
ATTRIBUTION_2019 = ("Contains public sector information licensed under the Open Government "
                    "Licence v3.0. English Indices of Deprivation 2019, MHCLG.")
ATTRIBUTION_2025 = ("Contains public sector information licensed under the Open Government "
                    "Licence v3.0. English Indices of Deprivation 2025, MHCLG.")
SHARE_DEPRIVED = C.share_deprived("nobody living in deep deprivation")
#: The LSOA code column of the humaniverse IMD package's copy of IoD 2025 (shared data).
REPUBLISHED_CODE = "lsoa21_code"
REPUBLISHED_FILE = "imd2025_england_lsoa21.csv"
EXCEL_SHEETS = ("IoD2019 Domains", "IoD2019 Scores", "IoD2025 Domains", "IoD2025 Scores",
                "Population Denominators", "IMD2019", "IMD2025")


def iod_table(path: Path) -> pd.DataFrame:
    """One IoD file (CSV or the published spreadsheet, whose first sheet is notes)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xls", ".xlsm"):
        return C.read_table(path)
    sheets = pd.ExcelFile(path).sheet_names
    for sheet in [s for s in EXCEL_SHEETS if s in sheets] + sheets:
        frame = C.read_table(path, sheet=sheet)
        if any(str(c).startswith("LSOA code") for c in frame.columns):
            return frame
    raise InputError(f"{path}: no sheet has an 'LSOA code' column")


def lsoa_codes(frame: pd.DataFrame, path, vintage: str) -> pd.Series:
    """The LSOA codes, after checking the file is on the LSOA vintage the plugin declares
    (IoD 2019 is on LSOA 2011, IoD 2025 on LSOA 2021: their codes mostly coincide, so a
    mixed-up file would otherwise pass unnoticed)."""
    col = C.column(frame, path, "LSOA code (", prefix=True)
    if f"({vintage})" not in col:
        other = "IoD 2025 (LSOA 2021)" if vintage == "2011" else "IoD 2019 (LSOA 2011)"
        raise InputError(f"{path}: column {col!r} is not LSOA {vintage}: this looks like "
                         f"{other}; use the plugin for that release")
    return C.codes(frame[col])


def _population(frame, path, population_path, prefix) -> pd.Series:
    """Population from the main file (File 7) if it has it, else from File 6."""
    col = C.column(frame, path, prefix, prefix=True, required=False)
    if col is not None:
        return pd.Series(C.number(frame, col, path).to_numpy(), index=lsoa_codes(frame, path, "2011"))
    people = iod_table(population_path)
    col = C.column(people, population_path, prefix, prefix=True)
    return pd.Series(C.number(people, col, population_path).to_numpy(),
                     index=lsoa_codes(people, population_path, "2011"))


class _MostDeprivedDomain(IndicatorPlugin):
    """Residents in LSOAs in decile 1 of one IoD 2019 domain, population weighted."""

    domain: str  # the domain's name as it starts its decile column

    def read(self, path: Path, population: Path) -> pd.DataFrame:
        frame = iod_table(path)
        codes = lsoa_codes(frame, path, "2011")
        decile = C.number(frame, C.column(frame, path, f"{self.domain} Decile", prefix=True), path)
        if (decile.dropna() % 1 != 0).any() or not decile.dropna().between(1, 10).all():
            raise InputError(f"{path}: {self.domain} deciles must be whole numbers 1–10")
        weights = _population(frame, path, population, "Total population: mid")
        weights = weights[~weights.index.duplicated()]
        out = pd.DataFrame({
            "code": codes.to_numpy(),
            "period": "2019",
            # 100 % of an LSOA's residents are in the most deprived decile, or none are.
            "value": ((decile == 1).astype(float) * 100).where(decile.notna()).to_numpy(),
            "weight": weights.reindex(codes.to_numpy()).to_numpy(),
        })
        return C.drop_blank_codes(out)


def _domain_metadata(pid, domain, dimension, title, what):
    return {
        "id": pid,
        "title": title,
        "description": (
            f"Share of residents living in LSOAs in decile 1 (England's most deprived 10 %) of "
            f"the IoD 2019 {domain} domain, {what}. Weighted by mid-2015 population (IoD 2019 "
            "File 6). LSOA 2011, put on wards by areal interpolation through LSOA 2011 "
            "boundaries (boundary set 'lsoa-2011'). England only."),
        "version": "1",
        "ring": "social",
        "dimension": dimension,
        "lens": "local-social",
        "unit": "% of residents",
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": {
            "publisher": "Ministry of Housing, Communities & Local Government",
            "url": FILE_2_2019,
            "licence": OGL,
            "attribution": ATTRIBUTION_2019,
            "extra": {"population": FILE_6_2019},
        },
        "geography": "lsoa2011",
        "measure": {"kind": "intensive", "denominator": "residents (mid-2015 population)"},
        "periods": ["2019"],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2011"},
    }


class IncomeMostDeprived(_MostDeprivedDomain):
    domain = "Income"
    metadata = _domain_metadata(
        "iod_income_most_deprived", "Income", "income_and_work",
        "Residents in England's most income-deprived 10% of neighbourhoods",
        "which measures people on low incomes (out of work or on low earnings)")


class EmploymentMostDeprived(_MostDeprivedDomain):
    domain = "Employment"
    metadata = _domain_metadata(
        "iod_employment_most_deprived", "Employment", "income_and_work",
        "Residents in England's most employment-deprived 10% of neighbourhoods",
        "which measures working-age people involuntarily out of work")


class EducationMostDeprived(_MostDeprivedDomain):
    domain = "Education, Skills and Training"
    metadata = _domain_metadata(
        "iod_education_most_deprived", "Education, Skills and Training", "education",
        "Residents in England's 10% of neighbourhoods most deprived in education and skills",
        "which measures attainment and skills of children and adults")


class HealthMostDeprived(_MostDeprivedDomain):
    domain = "Health Deprivation and Disability"
    metadata = _domain_metadata(
        "iod_health_most_deprived", "Health Deprivation and Disability", "health",
        "Residents in England's 10% of neighbourhoods most deprived in health",
        "which measures premature death and impaired quality of life through ill health")


class CrimeMostDeprived(_MostDeprivedDomain):
    domain = "Crime"
    metadata = _domain_metadata(
        "iod_crime_most_deprived", "Crime", "peace_and_justice",
        "Residents in England's 10% of neighbourhoods most deprived on crime",
        "which measures the risk of personal and material victimisation")


class HousingBarriersMostDeprived(_MostDeprivedDomain):
    domain = "Barriers to Housing and Services"
    metadata = _domain_metadata(
        "iod_housing_barriers_most_deprived", "Barriers to Housing and Services", "housing",
        "Residents in England's 10% of neighbourhoods most deprived in access to housing "
        "and services",
        "which measures overcrowding, homelessness, housing affordability and distance to "
        "services")


class LivingEnvironmentMostDeprived(_MostDeprivedDomain):
    domain = "Living Environment"
    metadata = _domain_metadata(
        "iod_living_environment_most_deprived", "Living Environment", "housing",
        "Residents in England's 10% of neighbourhoods most deprived in living environment",
        "which measures housing in poor condition, houses without central heating, air "
        "quality and road traffic accidents")


# -- File 7 rates -------------------------------------------------------------------------
class _Rate(IndicatorPlugin):
    """A domain score that is a rate (share of the domain's denominator), in per cent."""

    score: str        # e.g. "Income Score (rate)"
    denominator: str  # start of the File 7 denominator column
    vintage: str      # LSOA vintage of the release
    period: str

    def read(self, path: Path, population: Path | None = None) -> pd.DataFrame:
        frame = iod_table(path)
        if C.column(frame, path, REPUBLISHED_CODE, required=False):
            return self._republished(frame, path, population)
        codes = lsoa_codes(frame, path, self.vintage)
        score = self._score(frame, path, self.score)
        weight = C.number(frame, C.column(frame, path, self.denominator, prefix=True), path)
        return self._table(codes, score, weight)

    def _republished(self, frame, path, population) -> pd.DataFrame:
        """The humaniverse IMD package's copy: its rates are rounded to three decimals and
        it has no denominators, so the weights are a Census 2021 total by LSOA 2021."""
        if self.vintage != "2021":
            raise InputError(f"{path}: {REPUBLISHED_CODE!r} is LSOA 2021: this looks like IoD "
                             "2025; use the plugin for that release")
        if population is None:
            raise InputError(f"{path}: this copy has no denominators; give Census 2021 table "
                             f"{self.weights[0].upper()} as the source 'population'")
        codes = C.codes(frame[C.column(frame, path, REPUBLISHED_CODE)])
        score = self._score(frame, path, self.republished_score)
        weight = census2021.table_total(population, *self.weights)
        return self._table(codes, score, weight.reindex(codes.to_numpy()))

    @staticmethod
    def _score(frame, path, name) -> pd.Series:
        score = C.number(frame, C.column(frame, path, name), path)
        if not score.dropna().between(0, 1).all():
            raise InputError(f"{path}: {name!r} must be a proportion between 0 and 1")
        return score

    def _table(self, codes, score, weight) -> pd.DataFrame:
        out = pd.DataFrame({"code": codes.to_numpy(), "period": self.period,
                            "value": (score * 100).to_numpy(),
                            "weight": pd.Series(weight).to_numpy(dtype=float)})
        return C.drop_blank_codes(out)


def _rate_metadata(pid, title, what, denominator, release, vintage, url, weights=None):
    """``weights``: the Census 2021 table (and its total's words) that weights the
    republished copy of this release, which has no denominators."""
    republished = ""
    source = {"publisher": "Ministry of Housing, Communities & Local Government", "url": url,
              "licence": OGL,
              "attribution": ATTRIBUTION_2019 if release == "2019" else ATTRIBUTION_2025}
    if weights:
        table, words = weights
        republished = (
            f" Also reads the humaniverse IMD package's copy ({REPUBLISHED_FILE}), whose rates "
            f"are rounded to 0.1 percentage points and which has no denominators: weighted "
            f"then by {words} (Census 2021 {table.upper()}), the nearest published count.")
        source["extra"] = {"population": census2021.NOMIS.format(table=table)}
        source["optional"] = ["population"]
        source["aliases"] = {"main": [REPUBLISHED_FILE],
                             "population": [f"census2021-{table}-lsoa.csv",
                                            *census2021.ALIASES[table]]}
    return {
        "id": pid,
        "title": title,
        "description": (
            f"{what} (IoD {release} File 7 domain score, a rate), weighted by the domain's own "
            f"denominator ({denominator}) from the same file.{republished} LSOA {vintage}, "
            f"put on wards by areal interpolation through LSOA {vintage} boundaries (boundary "
            f"set 'lsoa-{vintage}'). England only."),
        "version": "1",
        "ring": "social",
        "dimension": "income_and_work",
        "lens": "local-social",
        "unit": "% of residents" if "working" not in denominator else "% of working-age residents",
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": source,
        "geography": f"lsoa{vintage}",
        "measure": {"kind": "intensive", "denominator": denominator},
        "periods": [release],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": f"lsoa-{vintage}"},
    }


class IncomeRate2019(_Rate):
    score, denominator, vintage, period = ("Income Score (rate)", "Total population: mid",
                                           "2011", "2019")
    metadata = _rate_metadata(
        "income_deprivation_rate", "Residents who are income deprived (IoD 2019)",
        "Share of residents in income deprivation: out of work or on low earnings and "
        "claiming means-tested benefits", "total population, mid-2015", "2019", "2011",
        FILE_7_2019)


class EmploymentRate2019(_Rate):
    score, denominator, vintage, period = ("Employment Score (rate)", "Working age population",
                                           "2011", "2019")
    metadata = _rate_metadata(
        "employment_deprivation_rate", "Working-age residents who are employment deprived "
        "(IoD 2019)",
        "Share of working-age residents involuntarily excluded from work (unemployed, or "
        "unable to work through sickness, disability or caring)",
        "working-age population, mid-2015", "2019", "2011", FILE_7_2019)


class IncomeRate2025(_Rate):
    score, denominator, vintage, period = ("Income Score (rate)", "Total population: mid",
                                           "2021", "2025")
    republished_score = "Income_score"
    weights = (census2021.BadHealth.table, census2021.BadHealth.total)
    metadata = _rate_metadata(
        "income_deprivation_rate_2025", "Residents who are income deprived (IoD 2025)",
        "Share of residents in income deprivation", "total population, mid-2022", "2025",
        "2021", FILE_7_2025, weights=(weights[0], "usual residents"))


class EmploymentRate2025(_Rate):
    score, denominator, vintage, period = ("Employment Score (rate)", "Working age population",
                                           "2021", "2025")
    republished_score = "Employment_score"
    weights = (census2021.NoQualifications.table, census2021.NoQualifications.total)
    metadata = _rate_metadata(
        "employment_deprivation_rate_2025", "Working-age residents who are employment "
        "deprived (IoD 2025)",
        "Share of working-age residents involuntarily excluded from work",
        "working-age population, mid-2022", "2025", "2021", FILE_7_2025,
        weights=(weights[0], "usual residents aged 16 and over"))
