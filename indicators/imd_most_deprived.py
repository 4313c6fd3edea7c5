"""Residents in England's most deprived 10 % of neighbourhoods (IoD 2019).

The worked example of ``indicators/README.md``: a Python plugin with an extra source.
"""

from pathlib import Path

import pandas as pd

from placeportrait import readers
from placeportrait.plugins import IndicatorPlugin

DECILE_PREFIX = "Index of Multiple Deprivation (IMD) Decile"
POPULATION_PREFIX = "Total population: mid 2015"
CODE = "LSOA code (2011)"


def _column(frame, prefix, path):
    matches = [c for c in frame.columns if c.startswith(prefix)]
    if not matches:
        readers.require_columns(frame, [prefix], path)
    return matches[0]


def _read(path: Path, sheet) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xls"):
        return readers.read_excel(path, sheet=sheet)
    return readers.read_csv(path)


class MostDeprivedDecile(IndicatorPlugin):
    metadata = {
        "id": "imd_most_deprived",
        "title": "Residents in England's most deprived 10% of neighbourhoods",
        "description": (
            "Share of residents living in LSOAs in decile 1 of the Index of Multiple "
            "Deprivation 2019, weighted by mid-2015 population (IoD 2019 File 6). England only."
        ),
        "version": "1",
        "ring": "social",
        "dimension": "income_and_work",
        "lens": "local-social",
        "unit": "% of residents",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0,
            "baseline": 100,
            "citation": "Social foundation: nobody living in deep deprivation (Raworth 2017; "
                        "DEAL 2020, Creating City Portraits); share-deprived scaling as in "
                        "Fanning & Raworth (2025).",
        },
        "source": {
            "publisher": "Ministry of Housing, Communities & Local Government",
            "url": "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
                   "attachment_data/file/833970/File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx",
            "licence": "Open Government Licence v3.0",
            "attribution": "Contains public sector information licensed under the Open Government "
                           "Licence v3.0. English Indices of Deprivation 2019, MHCLG.",
            "extra": {
                "population": "https://assets.publishing.service.gov.uk/government/uploads/system/"
                              "uploads/attachment_data/file/833995/"
                              "File_6_-_IoD2019_Population_Denominators.xlsx",
            },
        },
        "geography": "lsoa2011",
        "measure": {"kind": "intensive", "denominator": "residents (mid-2015 population)"},
        "periods": ["2019"],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2011"},
    }

    def read(self, path: Path, population: Path) -> pd.DataFrame:
        deciles = _read(path, "IMD2019")
        decile_col = _column(deciles, DECILE_PREFIX, path)
        readers.require_columns(deciles, [CODE], path)
        people = _read(population, "Population Denominators")
        pop_col = _column(people, POPULATION_PREFIX, population)
        readers.require_columns(people, [CODE], population)
        decile = readers.to_number(deciles[decile_col], column=decile_col, path=path)
        table = pd.DataFrame({"code": deciles[CODE].str.strip(), "decile": decile})
        weights = pd.DataFrame({
            "code": people[CODE].str.strip(),
            "weight": readers.to_number(people[pop_col], column=pop_col, path=population),
        })
        table = table.merge(weights, on="code", how="left")
        return pd.DataFrame({
            "code": table["code"],
            "period": "2019",
            # 100 % of an LSOA's residents are in the most deprived decile, or none are.
            "value": (table["decile"] == 1).astype(float).where(table["decile"].notna()) * 100,
            "weight": table["weight"],
        })
