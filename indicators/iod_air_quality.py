"""Air quality from the English Indices of Deprivation 2019: pollutant concentrations as a
ratio to their limit values, by LSOA 2011.

The IoD 2019 Living Environment domain's air quality indicator sums four components, each
a pollutant's modelled concentration (2016, Defra/UK-AIR) divided by its limit value:
nitrogen dioxide, particulates, benzene and sulphur dioxide. The components are ratios, not
concentrations: the underlying-indicator file gives no limit values, so nothing here is
converted to µg/m³. A ratio above 1 means the concentration exceeds the limit value; the
ceiling is 1. The sum of the four ratios has no ceiling of its own and is not used.

Each LSOA's ratio is weighted by its residents (IoD 2019 File 6, mid-2015), so a ward's
value is the ratio its residents are exposed to on average. England only.

Two layouts of the underlying indicators are read: MHCLG's File 8 (``LSOA code (2011)`` and
``Nitrogen dioxide component of air quality indicator`` …) and the snake-case copy of the
humaniverse IMD package (``lsoa11_code``, ``nitrogen_dioxide_component_of_air_quality_indicator``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C
from placeportrait_indicators.iod_domains import (ATTRIBUTION_2019, FILE_6_2019, GOV_UK_2019,
                                                  OGL, iod_table)

FILE_8_2019 = GOV_UK_2019 + "833992/File_8_-_IoD2019_Underlying_Indicators.xlsx"
CODES = ("LSOA code (2011)", "lsoa11_code")
POPULATION = "Total population: mid 2015"
CEILING = ("Ecological ceiling: concentrations at or below their limit values (ratio 1), the "
           "yardstick the English Indices of Deprivation 2019 use for their air quality "
           "indicator (MHCLG 2019, The English Indices of Deprivation 2019: Technical "
           "report, Living Environment domain).")


class _LimitRatio(IndicatorPlugin):
    component: str  # the component's name, as MHCLG's header spells it

    def read(self, path: Path, population: Path) -> pd.DataFrame:
        frame = iod_table(path) if Path(path).suffix.lower() == ".xlsx" else C.read_table(path)
        code = C.codes(frame[C.column(frame, path, *CODES)])
        snake = self.component.lower().replace(" ", "_")
        ratio = C.number(frame, C.column(frame, path, self.component, snake), path)
        if (ratio.dropna() < 0).any():
            raise InputError(f"{path}: a negative {self.component.lower()}")
        people = iod_table(population)
        weights = pd.Series(
            C.number(people, C.column(people, population, POPULATION, prefix=True),
                     population).to_numpy(),
            index=C.codes(people[C.column(people, population, *CODES)]).to_numpy())
        weights = weights[~weights.index.duplicated()]
        out = pd.DataFrame({"code": code.to_numpy(), "period": "2016",
                            "value": ratio.to_numpy(),
                            "weight": weights.reindex(code.to_numpy()).to_numpy()})
        return C.drop_blank_codes(out)


def _metadata(pid, pollutant, component):
    return {
        "id": pid,
        "title": f"{pollutant} against its limit value",
        "description": (
            f"The {component.lower()} of the IoD 2019 air quality indicator: modelled {pollutant.lower()} "
            "concentration in 2016 divided by its limit value (1 = at the limit). Weighted by "
            "residents (IoD 2019 File 6, mid-2015). LSOA 2011, put on wards by areal "
            "interpolation through LSOA 2011 boundaries (boundary set 'lsoa-2011'). England "
            "only. A ratio, not a concentration."),
        "version": "1",
        "ring": "ecological",
        "dimension": "air_pollution",
        "lens": "local-ecological",
        "unit": "ratio to limit value",
        "polarity": "lower_is_better",
        "threshold": {"value": 1, "baseline": 0, "citation": CEILING},
        "source": {
            "publisher": "Ministry of Housing, Communities & Local Government",
            "url": FILE_8_2019,
            "licence": OGL,
            "attribution": ATTRIBUTION_2019,
            "extra": {"population": FILE_6_2019},
            # the humaniverse IMD package's copy of File 8, and the demo's extract of it
            "aliases": {"main": ["imd2019_england_lsoa11_indicators.csv",
                                 "imd2019_england_lsoa11_air_quality_indicators.csv"]},
        },
        "geography": "lsoa2011",
        "measure": {"kind": "intensive", "denominator": "residents (mid-2015 population)"},
        "periods": ["2016"],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2011"},
    }


class NitrogenDioxideRatio(_LimitRatio):
    component = "Nitrogen dioxide component of air quality indicator"
    metadata = _metadata("no2_limit_ratio", "Nitrogen dioxide", component)


class ParticulatesRatio(_LimitRatio):
    component = "Particulates component of air quality indicator"
    metadata = _metadata("particulates_limit_ratio", "Particulate matter", component)
