"""Social indicators published by local authority, given to each ward of the authority.

* ``child_poverty``: children in relative low-income families (DWP), UK;
* ``healthy_life_expectancy``: healthy life expectancy at birth (ONS), UK, upper-tier
  authorities in England (so wards in two-tier districts get no data);
* ``epc_below_c``: homes with an energy performance certificate rated D to G (MHCLG EPC
  register), England and Wales.

The engine passes each authority's value to its wards and flags it as apportioned: these
say nothing about how a ward differs from its neighbours.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



OGL = "Open Government Licence v3.0"
ONS_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                   "Licence v3.0. Source: {}; Office for National Statistics.")
SHARE_DEPRIVED = ("Share-deprived scaling (baseline 100 %, threshold 0 %) as in Fanning & Raworth "
                  "(2025); social foundation: nobody deprived (Raworth 2017; DEAL 2020, Creating "
                  "City Portraits).")
EPC_TRAFFORD = ("https://raw.githubusercontent.com/traffordDataLab/climate_emergency/7f38ab9/"
                "data/domestic_epcs_energy_efficiency.csv")


class ChildPoverty(IndicatorPlugin):
    metadata = {
        "id": "child_poverty",
        "title": "Children in relative poverty",
        "description": (
            "Share of children aged 0 to 15 living in relative low-income families (below 60 % "
            "of median household income before housing costs), by local authority (DWP "
            "Children in low income families: local area statistics, via ONS Explore Local "
            "Statistics). Given to each ward and flagged as apportioned. UK."),
        "version": "1",
        "ring": "social",
        "dimension": "income_and_work",
        "lens": "local-social",
        "unit": "% of children",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("Social foundation: no child in poverty (Raworth 2017, income and work "
                         "dimension; Fanning & Raworth 2025 use the share in societal "
                         "poverty). " + SHARE_DEPRIVED),
        },
        "source": {"publisher": "Department for Work and Pensions via ONS Explore Local Statistics",
                   "url": C.ons_els_url("children-in-relative-poverty"), "licence": OGL,
                   "attribution": ONS_ATTRIBUTION.format("Department for Work and Pensions")},
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "children aged 0-15"},
        "periods": ["2021/22", "2022/23", "2023/24", "2024/25"],
        "min_coverage": 0.5,
    }
    indicator = "Children in relative poverty before housing costs"

    def read(self, path: Path) -> pd.DataFrame:
        frame = C.read_table(path)
        if not C.is_ons_tidy(frame):
            raise InputError(f"{path}: not an ONS Explore Local Statistics file "
                             f"(columns {', '.join(map(str, frame.columns[:6]))}…)")
        return C.ons_tidy(frame, path, indicator=self.indicator)


class HealthyLifeExpectancy(IndicatorPlugin):
    metadata = {
        "id": "healthy_life_expectancy",
        "title": "Healthy life expectancy at birth",
        "description": (
            "Years a newborn can expect to live in very good or good health: the mean of the "
            "male and female estimates (ONS Health state life expectancies, three-year "
            "periods), by upper-tier local authority. Given to each ward and flagged as "
            "apportioned. UK; English two-tier districts have no estimate of their own, so "
            "their wards get no data."),
        "version": "1",
        "ring": "social",
        "dimension": "health",
        "lens": "local-social",
        "unit": "years",
        "polarity": "higher_is_better",
        "threshold": {
            "value": 65, "baseline": 0,
            "citation": ("O'Neill, Fanning, Lamb & Steinberger (2018), A good life for all "
                         "within planetary boundaries, Nature Sustainability 1, 88-95: social "
                         "threshold of 65 years of healthy life expectancy."),
        },
        "source": {"publisher": "Office for National Statistics",
                   "url": C.ons_els_url("healthy-life-expectancy"), "licence": OGL,
                   "attribution": ONS_ATTRIBUTION.format("Health state life expectancies, UK")},
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "residents"},
        "periods": [f"{y}-{y + 2}" for y in range(2011, 2023)],
        "min_coverage": 0.5,
    }

    def read(self, path: Path) -> pd.DataFrame:
        frame = C.read_table(path)
        if not C.is_ons_tidy(frame):
            raise InputError(f"{path}: not an ONS Explore Local Statistics file")
        male = C.ons_tidy(frame, path, indicator="Male healthy life expectancy")
        female = C.ons_tidy(frame, path, indicator="Female healthy life expectancy")
        both = male.merge(female, on=["code", "period"], how="outer", suffixes=("_m", "_f"))
        # Persons = the mean of the sexes; with one of them missing, no data.
        both["value"] = (both["value_m"] + both["value_f"]) / 2
        return both[["code", "period", "value"]]


class EPCBelowC(IndicatorPlugin):
    metadata = {
        "id": "epc_below_c",
        "title": "Homes rated below EPC band C",
        "description": (
            "Share of domestic energy performance certificates lodged over ten years (2016 Q2 "
            "to 2026 Q1) with an energy efficiency rating of D, E, F or G, by local authority "
            "(MHCLG Energy Performance of Buildings Certificates, table D1, tidied by Trafford "
            "Data Lab). Certificates, not dwellings: a home is counted each time it is sold, "
            "let or built. Given to each ward and flagged as apportioned. England and Wales."),
        "version": "1",
        "ring": "social",
        "dimension": "housing",
        "lens": "local-social",
        "unit": "% of certificates",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("HM Government (2017) The Clean Growth Strategy: as many homes as "
                         "possible upgraded to EPC band C by 2035. " + SHARE_DEPRIVED),
        },
        "source": {"publisher": "Ministry of Housing, Communities & Local Government via "
                                "Trafford Data Lab",
                   "url": EPC_TRAFFORD, "licence": OGL,
                   "attribution": ("Contains public sector information licensed under the Open "
                                   "Government Licence v3.0. Source: MHCLG Energy Performance "
                                   "of Buildings Certificates; Trafford Data Lab.")},
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "certificates lodged"},
        "periods": ["2016/Q2 to 2026/Q1"],
        "min_coverage": 0.5,
    }

    BANDS = ("A", "B", "C", "D", "E", "F", "G")

    def read(self, path: Path) -> pd.DataFrame:
        frame = C.read_table(path)
        code = C.column(frame, path, "area_code")
        band = C.column(frame, path, "efficiency")
        table = pd.DataFrame({
            "code": C.codes(frame[code]).to_numpy(),
            "period": frame[C.column(frame, path, "period")].astype(str).str.strip().to_numpy(),
            "band": frame[band].astype("string").str.strip().str.upper().to_numpy(),
            "count": C.number(frame, C.column(frame, path, "value"), path).to_numpy(),
        })
        unknown = set(table["band"].dropna()) - set(self.BANDS)
        if unknown:
            raise InputError(f"{path}: unknown EPC bands {', '.join(sorted(unknown))}")
        # A suppressed count stays unknown (min_count), so the share is no data, not smaller.
        wide = table.groupby(["code", "period", "band"])["count"].sum(min_count=1).unstack("band")
        missing = [b for b in self.BANDS if b not in wide.columns]
        if missing:
            raise InputError(f"{path}: no rows for EPC bands {', '.join(missing)}")
        total = wide[list(self.BANDS)].sum(axis=1, min_count=len(self.BANDS))
        below = wide[["D", "E", "F", "G"]].sum(axis=1, min_count=4)
        share = (below / total * 100).where(total > 0)
        out = share.rename("value").reset_index()
        out["weight"] = total.fillna(0).to_numpy()
        return out[["code", "period", "value", "weight"]]
