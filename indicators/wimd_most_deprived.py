"""Welsh Index of Multiple Deprivation 2019: residents in Wales's most deprived 10 %.

WIMD publishes ranks and domain *scores*, and its scores are ranked and transformed (every
domain has the same 0–100 distribution), so they are not shares of people deprived. What
the ranks do say is which of Wales's 1,909 LSOAs (2011) are its most deprived tenth: the
ranks 1 to 191, as the Welsh Government's own deciles count them. Each plugin here is the
share of a ward's residents living in those LSOAs on the whole index or one domain, as
England's IoD decile shares are (``iod_domains``), weighted by the LSOA's mid-2019
population (ONS small area population estimates).

Not comparable with England's shares: each nation ranks its own neighbourhoods. The
physical environment domain (air quality, flood risk, green space) has no plugin: it
mixes what Raworth keeps apart.

Reads the published ranks workbook (sheet ``WIMD_2019_ranks``: title rows, then ``LSOA
code``, ``WIMD 2019`` and a column per domain) or the humaniverse IMD package's copy
(``lsoa11_code, IMD_rank, Income_rank, …``); and ONS's population estimates (the published
workbook's ``LSOA Code`` and ``All Ages``, or demographr's ``lsoa11_code,
total_population``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C

WIMD_2019 = ("https://www.gov.wales/sites/default/files/statistics-and-research/2022-02/"
             "welsh-index-multiple-deprivation-2019-index-and-domain-ranks-by-small-area.ods")
SAPE_2019 = ("https://www.ons.gov.uk/file?uri=%2fpeoplepopulationandcommunity%2f"
             "populationandmigration%2fpopulationestimates%2fdatasets%2f"
             "lowersuperoutputareamidyearpopulationestimates%2fmid2019sape22dt2/"
             "sape22dt2mid2019lsoasyoaestimatesunformatted.zip")
OGL = "Open Government Licence v3.0"
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0. Welsh Index of Multiple Deprivation 2019, Welsh Government; small area "
               "population estimates mid-2019, Office for National Statistics.")
SHARE_DEPRIVED = C.share_deprived("nobody living in deep deprivation")
WALES_LSOAS = 1909
MOST_DEPRIVED_RANKS = 191  # ranks 1–191: the Welsh Government's decile 1 of 1,909 LSOAs
SPREADSHEETS = (".ods", ".xlsx", ".xls")


def _workbook(path: Path, sheet_hint: str, wanted: tuple[str, ...]) -> pd.DataFrame:
    """The sheet whose name holds ``sheet_hint`` (else the first), from the row holding
    every ``wanted`` header on."""
    book = pd.ExcelFile(path, engine="calamine")
    sheets = [s for s in book.sheet_names if sheet_hint.lower() in s.lower()] or book.sheet_names
    raw = pd.read_excel(book, sheet_name=sheets[0], header=None, dtype=str)
    for i, row in raw.head(30).iterrows():
        cells = {C.squash(str(v)).lower() for v in row.dropna()}
        if all(w.lower() in cells for w in wanted):
            frame = raw.iloc[i + 1:].copy()
            frame.columns = [C.squash(str(v)) for v in row]
            return frame.reset_index(drop=True)
    raise InputError(f"{path}: no sheet with the headers {', '.join(wanted)}")


def _ranks(path: Path, column: str) -> pd.DataFrame:
    """``code, rank`` of one WIMD column (published name, e.g. ``Income``)."""
    if path.suffix.lower() in SPREADSHEETS:
        frame = _workbook(path, "ranks", ("LSOA code", "WIMD 2019"))
        rank_col = C.column(frame, path, column)
    else:
        frame = C.read_table(path)
        rank_col = C.column(frame, path, f"{COPY_NAMES.get(column, column)}_rank", column)
    code = C.codes(frame[C.column(frame, path, "LSOA code", "lsoa11_code")])
    rank = C.number(frame, rank_col, path)
    if (rank.dropna() < 1).any() or (rank.dropna() > WALES_LSOAS).any():
        raise InputError(f"{path}: {column} ranks must be 1 to {WALES_LSOAS:,}")
    return C.drop_blank_codes(pd.DataFrame({"code": code.to_numpy(), "rank": rank.to_numpy()}))


def population_by_lsoa(path: Path) -> pd.Series:
    """Residents by LSOA 2011, mid-2019."""
    if path.suffix.lower() in SPREADSHEETS:
        frame = _workbook(path, "persons", ("LSOA Code", "All Ages"))
    else:
        frame = C.read_table(path)
    code = C.codes(frame[C.column(frame, path, "LSOA Code", "lsoa11_code")])
    people = C.number(frame, C.column(frame, path, "All Ages", "total_population"), path)
    series = pd.Series(people.to_numpy(), index=code.to_numpy())
    return series[~series.index.duplicated()]


COPY_NAMES = {"WIMD 2019": "IMD", "Access to Services": "Access", "Community Safety": "Crime"}


class _MostDeprivedWales(IndicatorPlugin):
    """Residents of LSOAs ranked 1–191 on one WIMD 2019 column, population weighted."""

    column: str  # the published column name

    def read(self, path: Path, population: Path) -> pd.DataFrame:
        ranks = _ranks(Path(path), self.column)
        welsh = ranks["code"].str.startswith("W01")
        if not welsh.all():
            raise InputError(f"{path}: {int((~welsh).sum())} codes are not Welsh LSOAs "
                             f"(e.g. {ranks.loc[~welsh, 'code'].iloc[0]})")
        people = population_by_lsoa(Path(population))
        value = (ranks["rank"] <= MOST_DEPRIVED_RANKS).astype(float) * 100
        return pd.DataFrame({"code": ranks["code"], "period": "2019",
                             "value": value.where(ranks["rank"].notna()).to_numpy(),
                             "weight": people.reindex(ranks["code"]).to_numpy()})


def _metadata(pid, what, dimension, title):
    return {
        "id": pid,
        "title": title,
        "description": (
            f"Share of residents living in LSOAs ranked in Wales's most deprived 10 % (ranks "
            f"1–191 of 1,909) on {what} of the Welsh Index of Multiple Deprivation 2019, "
            "weighted by mid-2019 population (ONS small area population estimates). LSOA "
            "2011, put on wards through an LSOA 2011 best-fit lookup or by area from LSOA "
            "2011 boundaries (boundary set 'lsoa-2011'). Wales only; not comparable with "
            "England's IoD shares."),
        "version": "1",
        "ring": "social",
        "dimension": dimension,
        "lens": "local-social",
        "unit": "% of residents",
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": SHARE_DEPRIVED},
        "source": {
            "publisher": "Welsh Government (WIMD 2019); Office for National Statistics",
            "url": WIMD_2019,
            "licence": OGL,
            "attribution": ATTRIBUTION,
            "extra": {"population": SAPE_2019},
            "aliases": {"main": ["wimd2019_wales_lsoa11.csv"],
                        "population": ["population_mid2019_lsoa11.csv"]},
        },
        "geography": "lsoa2011",
        "measure": {"kind": "intensive", "denominator": "residents (mid-2019 population)"},
        "periods": ["2019"],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2011"},
    }


class WimdMostDeprived(_MostDeprivedWales):
    column = "WIMD 2019"
    metadata = _metadata("wimd_most_deprived", "the whole index", "income_and_work",
                         "Residents in Wales's 10% of neighbourhoods most deprived overall "
                         "(WIMD 2019)")


class WimdIncome(_MostDeprivedWales):
    column = "Income"
    metadata = _metadata("wimd_income_most_deprived", "the income domain", "income_and_work",
                         "Residents in Wales's 10% of neighbourhoods most income-deprived "
                         "(WIMD 2019)")


class WimdEmployment(_MostDeprivedWales):
    column = "Employment"
    metadata = _metadata("wimd_employment_most_deprived", "the employment domain",
                         "income_and_work", "Residents in Wales's 10% of neighbourhoods most "
                         "employment-deprived (WIMD 2019)")


class WimdHealth(_MostDeprivedWales):
    column = "Health"
    metadata = _metadata("wimd_health_most_deprived", "the health domain", "health",
                         "Residents in Wales's 10% of neighbourhoods most deprived in health "
                         "(WIMD 2019)")


class WimdEducation(_MostDeprivedWales):
    column = "Education"
    metadata = _metadata("wimd_education_most_deprived", "the education domain", "education",
                         "Residents in Wales's 10% of neighbourhoods most deprived in "
                         "education (WIMD 2019)")


class WimdHousing(_MostDeprivedWales):
    column = "Housing"
    metadata = _metadata("wimd_housing_most_deprived", "the housing domain", "housing",
                         "Residents in Wales's 10% of neighbourhoods most deprived in housing "
                         "(WIMD 2019)")


class WimdAccess(_MostDeprivedWales):
    column = "Access to Services"
    metadata = _metadata("wimd_access_most_deprived", "the access to services domain",
                         "networks", "Residents in Wales's 10% of neighbourhoods with the "
                         "poorest access to services (WIMD 2019)")


class WimdCommunitySafety(_MostDeprivedWales):
    column = "Community Safety"
    metadata = _metadata("wimd_community_safety_most_deprived", "the community safety domain",
                         "peace_and_justice", "Residents in Wales's 10% of neighbourhoods "
                         "least safe (WIMD 2019 community safety)")
