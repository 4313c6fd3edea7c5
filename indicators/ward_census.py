"""Ward-level indicators from the 2021 Census and local elections.

Each plugin reads one of two layouts, both published by Trafford Data Lab for Trafford:

* the **census table** layout (``area_code, area_name, geography, period, indicator,
  <category>, measure, unit, value``): counts by category from ONS Census 2021 (via Nomis)
  on the wards in force at the census, from which the share is computed;
* the **ward profile** layout (``area_code, area_name, indicator, period, measure, unit,
  value``): the share already computed, on today's wards (census values from best-fit
  output areas).

Both are ward geographies and match ward codes exactly. Trafford's wards changed in May
2023 (E05000819–E05000839 became E05015239–E05015259), so the census tables match the
December 2019 ward set and the ward profiles the December 2023 set; run against the other
set, every code is reported as unmatched. A deployment elsewhere downloads the same Census
2021 tables (TS037, TS067, TS011) for its own wards from Nomis, or its council's ward
profile, in either layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



WARD_DATA = "https://raw.githubusercontent.com/traffordDataLab/ward_data/356cc1c/"
OGL = "Open Government Licence v3.0"
SHARE_DEPRIVED = ("Share-deprived scaling (baseline 100 %, threshold 0 %) as in Fanning & Raworth "
                  "(2025); social foundation: nobody deprived (Raworth 2017; DEAL 2020, Creating "
                  "City Portraits).")
CENSUS_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                      "Licence v3.0. Source: Office for National Statistics, Census 2021 (via "
                      "Nomis); Trafford Data Lab.")


class _WardShare(IndicatorPlugin):
    """A share per ward from a census table (counts by category) or a ward profile (%)."""

    category_column: str | None = None   # the census table's category column
    deprived: frozenset = frozenset()     # categories counted as deprived
    profile_indicator: str = ""           # start of the ward profile's indicator text
    census_period = "2021"

    def transform(self, share: pd.Series) -> pd.Series:
        return share

    def read(self, path: Path) -> pd.DataFrame:
        frame = C.read_table(path)
        code = C.column(frame, path, "area_code")
        value = C.column(frame, path, "value")
        category = (C.column(frame, path, self.category_column, required=False)
                    if self.category_column else None)
        if category is not None:
            return self._from_census(frame, path, code, category, value)
        indicator = C.column(frame, path, "indicator")
        text = frame[indicator].astype("string").str.strip().str.lower()
        if not text.str.startswith(self.profile_indicator.lower()).fillna(False).all():
            found = ", ".join(sorted(frame[indicator].astype(str).unique())[:3])
            raise InputError(f"{path}: expected the ward profile of "
                             f"{self.profile_indicator!r}, found {found!r}")
        # Some profiles hold a Count row as well as a Percentage row per ward (and older
        # ones spell it "Percentaage"): keep the percentages.
        measure = C.column(frame, path, "measure")
        percent = frame[measure].astype("string").str.strip().str.lower().str.startswith("percent")
        if not percent.fillna(False).any():
            raise InputError(f"{path}: the ward profile has no Percentage rows")
        frame = frame[percent.fillna(False).to_numpy()]
        share = C.number(frame, value, path)
        if not share.dropna().between(0, 100).all():
            raise InputError(f"{path}: percentages outside 0–100")
        out = pd.DataFrame({"code": C.codes(frame[code]).to_numpy(),
                            "period": frame[C.column(frame, path, "period")].astype(str)
                            .str.strip().to_numpy(),
                            "value": self.transform(share).to_numpy()})
        return C.drop_blank_codes(out)

    def _from_census(self, frame, path, code, category, value) -> pd.DataFrame:
        counts = C.number(frame, value, path)
        measure = C.column(frame, path, "measure")
        if not (frame[measure].astype("string").str.lower() == "count").all():
            raise InputError(f"{path}: the census table must hold counts")
        table = pd.DataFrame({"code": C.codes(frame[code]).to_numpy(),
                              "category": frame[category].astype("string").str.strip().to_numpy(),
                              "count": counts.to_numpy()})
        missing = set(self.deprived) - set(table["category"])
        if missing:
            raise InputError(f"{path}: no {', '.join(sorted(missing))!s} rows in "
                             f"{category!r}; wrong table?")
        table["deprived"] = table["category"].isin(self.deprived)
        # A suppressed count leaves the ward's share unknown, not smaller.
        total = table.groupby("code")["count"].sum(min_count=1)
        known = table.groupby("code")["count"].apply(lambda c: c.notna().all())
        hit = table[table["deprived"]].groupby("code")["count"].sum(min_count=1)
        share = (hit / total * 100).where(known & (total > 0))
        out = pd.DataFrame({"code": share.index.to_numpy(), "period": self.census_period,
                            "value": self.transform(share).to_numpy(),
                            "weight": total.reindex(share.index).fillna(0).to_numpy()})
        return C.drop_blank_codes(out)


def _metadata(pid, title, description, dimension, unit, citation, url, attribution=None,
              denominator="residents"):
    return {
        "id": pid,
        "title": title,
        "description": description + " Ward level; the demo's files cover Trafford only.",
        "version": "1",
        "ring": "social",
        "dimension": dimension,
        "lens": "local-social",
        "unit": unit,
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100, "citation": citation},
        "source": {"publisher": "Office for National Statistics (Census 2021) via Trafford "
                                "Data Lab",
                   "url": url, "licence": OGL, "attribution": attribution or CENSUS_ATTRIBUTION},
        "geography": "ward",
        "measure": {"kind": "intensive", "denominator": denominator},
        "periods": ["2021"],
        "min_coverage": 0.5,
    }


class BadHealth(_WardShare):
    category_column = "general_health"
    deprived = frozenset({"Bad health", "Very bad health"})
    profile_indicator = "People reporting their general health as bad or very bad"
    metadata = _metadata(
        "bad_health", "Residents in bad or very bad health",
        "Share of usual residents who describe their general health as bad or very bad "
        "(Census 2021, table TS037).",
        "health", "% of residents",
        "Social foundation: nobody in bad health (Raworth 2017, health dimension). "
        + SHARE_DEPRIVED,
        WARD_DATA + "health/data/general_health_bad_or_very_bad.csv",
        denominator="usual residents")


class NoQualifications(_WardShare):
    category_column = "highest_qualification"
    deprived = frozenset({"No qualifications"})
    profile_indicator = "Residents with no qualifications"
    metadata = _metadata(
        "no_qualifications", "Residents aged 16 and over with no qualifications",
        "Share of usual residents aged 16 and over with no formal qualifications (Census "
        "2021, table TS067).",
        "education", "% of residents aged 16+",
        "Social foundation: everyone with at least a basic education (Raworth 2017, "
        "education dimension). " + SHARE_DEPRIVED,
        WARD_DATA + "education/data/residents_no_qualifications.csv",
        denominator="usual residents aged 16 and over")


class HousingDeprived(_WardShare):
    profile_indicator = "Household is deprived in housing"
    metadata = _metadata(
        "housing_deprived_households", "Households deprived in the housing dimension",
        "Share of households deprived in housing: overcrowded, in a shared dwelling, or "
        "without central heating (Census 2021 household deprivation, table TS011, housing "
        "dimension).",
        "housing", "% of households",
        "Social foundation: adequate housing for everyone (Raworth 2017, housing dimension). "
        + SHARE_DEPRIVED,
        WARD_DATA + "deprivation/data/household_housing_deprived.csv",
        denominator="households")


class ElectionNonTurnout(_WardShare):
    profile_indicator = "Local election turnout"

    def transform(self, share: pd.Series) -> pd.Series:
        return 100 - share

    metadata = {
        **_metadata(
            "election_non_turnout", "Registered electors who did not vote in the local election",
            "Share of the ward's registered electors who did not vote at the latest borough "
            "council election (100 minus the turnout the council publishes).",
            "political_voice", "% of electors",
            "Social foundation: everyone using their political voice (Raworth 2017, political "
            "voice dimension); non-voting read as a shortfall of voice. " + SHARE_DEPRIVED,
            WARD_DATA + "governance/data/local_election_turnout.csv",
            attribution=("Contains public sector information licensed under the Open "
                         "Government Licence v3.0. Source: Trafford Council election results; "
                         "Trafford Data Lab."),
            denominator="registered electors"),
        "periods": ["2023"],
    }
    metadata["source"] = {**metadata["source"], "publisher": "Trafford Council via Trafford "
                                                             "Data Lab"}
