"""CO2 from homes' gas and electricity per person, by LSOA 2011, against the per-person
CO2 boundary.

DESNZ publishes each LSOA's metered domestic gas and electricity (kWh a year) and, in its
local authority CO2 statistics, each authority's CO2 from domestic gas and from domestic
electricity (kt). The authority's figure for a fuel is shared among its LSOAs in
proportion to their metered use:

.. math::

    E_{i} = \\sum_{f \\in \\{gas, elec\\}} k_{i,f} \\frac{C_{a,f}}{\\sum_{j \\in a} k_{j,f}},
    \\qquad v_i = \\frac{E_i}{P_i}

where :math:`k_{i,f}` is LSOA :math:`i`'s consumption of fuel :math:`f`, :math:`C_{a,f}`
its authority :math:`a`'s published CO2 from that fuel, and :math:`P_i` its mid-2019
residents (ONS small area population estimates). So the LSOAs of an authority add up to
its published domestic gas and electricity CO2, the emission factors are the department's
own for that year (about 0.188 kg CO2 per kWh of gas and 0.209 per kWh of electricity in
2019, nearly the same in every authority), and a ward's value is its LSOAs' CO2 over their
residents (population-weighted).

An LSOA missing from the gas file (DESNZ leaves out areas with too few meters to publish,
most of them off the gas grid) is no data, not zero: its homes burn oil, LPG or solid fuel
that neither file counts. An authority is calibrated on the LSOAs the files hold, so an
extract must hold whole authorities; one whose metered use implies an emission factor far
from the others' is refused.

Two plugins: ``home_energy_co2`` for England and Wales (LSOA 2011, mid-2019 residents) and
``home_energy_co2_scotland`` for Scotland (data zone 2011, whose rows the same files hold,
over the SIMD 2020 total population, NRS mid-2017: the only data-zone population here).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C
from placeportrait_indicators.devolved_deprivation import SIMD_2020, simd_table
from placeportrait_indicators.emissions import CO2_2005_19, FR2025, read_native
from placeportrait_indicators.wimd_most_deprived import SAPE_2019, population_by_lsoa

GAS_2019 = ("https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
            "attachment_data/file/946694/LSOA_Gas_csv.zip")
ELECTRICITY = ("https://www.gov.uk/government/statistics/"
               "lower-and-middle-super-output-areas-electricity-consumption")
LSOA = re.compile(r"^[EW]01\d{6}$")
DATA_ZONE = re.compile(r"^S01\d{6}$")
AREA_NAMES = {LSOA: "E01… and W01…: LSOAs 2011", DATA_ZONE: "S01…: data zones 2011"}
PERIOD = "2019"  # the zips hold every year from 2010: this year's member is read
#: How far (as a share) an authority's implied emission factor may sit from the median of
#: the file's authorities. Nationally, 2019, they sit within 1 % (gas) and 3 %
#: (electricity); an authority only partly in the file sits further off.
FACTOR_TOLERANCE = 0.05


def _consumption(path: Path, kwh_header: str, fuel: str, areas: re.Pattern
                 ) -> tuple[pd.DataFrame, str]:
    """``code, authority, kwh`` of one fuel's small-area file (the published CSV, or the zip
    of every year's, whose 2019 member is read) for one nation's ``areas``, and the year
    its name gives."""
    path = C.extract(Path(path), rf"LSOA_{fuel}_{PERIOD}")
    year = re.findall(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    if not year:
        raise InputError(f"{path}: cannot tell which year the {fuel.lower()} file is for "
                         f"(its name, e.g. LSOA_{fuel}_2019.csv, says)")
    frame = C.read_table(path)
    code = C.codes(frame[C.column(frame, path, "Lower Layer Super Output Area (LSOA) Code")])
    authority = C.codes(frame[C.column(frame, path, "Local Authority Code")])
    kwh = C.number(frame, C.column(frame, path, kwh_header), path)
    if (kwh.dropna() < 0).any():
        raise InputError(f"{path}: negative consumption in column {kwh_header!r}")
    table = pd.DataFrame({"code": code.to_numpy(), "authority": authority.to_numpy(),
                          "kwh": kwh.to_numpy()})
    # one nation's areas (an authority lies in one nation, so each is calibrated whole);
    # drops "Unallocated"
    table = table[table["code"].str.match(areas).fillna(False)]
    if table.empty:
        raise InputError(f"{path}: no rows for this plugin's areas (codes {AREA_NAMES[areas]})")
    if table["code"].duplicated().any():
        raise InputError(f"{path}: area {table.loc[table['code'].duplicated(), 'code'].iloc[0]} "
                         "appears twice")
    return table, year[-1]


def _co2_kg(use: pd.DataFrame, published_kt: pd.Series, path: Path, fuel: str) -> pd.Series:
    """Each area's share of its authority's published CO2 from one fuel, kg, by area code.
    Areas of an authority with no published row are NaN."""
    metered = use.groupby("authority")["kwh"].sum()
    factor = (published_kt * 1e6 / metered).reindex(metered.index)
    known = factor.dropna()
    if known.empty:
        raise InputError(f"{path}: none of the {fuel} file's authorities has a row in the CO2 "
                         "file for its year")
    gap = (known / known.median() - 1).abs()
    if gap.max() > FACTOR_TOLERANCE:
        worst = gap.idxmax()
        raise InputError(
            f"{path}: authority {worst}'s areas use {fuel} implying {known[worst]:.3f} kg CO2 "
            f"per kWh against a median of {known.median():.3f}: the file must hold every "
            "area of each authority it holds")
    return pd.Series((use["kwh"] * use["authority"].map(factor)).to_numpy(), index=use["code"])


def _published(path: Path, year: str, column: str) -> pd.Series:
    """One sector's kt CO2 by authority code, for one year, from the CO2 statistics."""
    table, _ = read_native(Path(path), column)
    rows = table[table["period"] == year]
    if rows.empty:
        raise InputError(f"{path}: no rows for {year}, the year of the energy files")
    return rows.set_index("code")["value"]


THRESHOLD = {
    "value": 0.95, "baseline": 0,
    "citation": FR2025 + (". The whole per-person CO2 boundary, compared here with home gas "
                          "and electricity alone: a ward above it overshoots whatever its "
                          "other emissions, so it is a lenient ceiling."),
}
ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0. DESNZ (formerly BEIS) sub-national gas and electricity consumption "
               "statistics, LSOA and data zone, 2019; UK local authority CO2 emissions "
               "2005-2019; ")
ENERGY_ALIASES = {"main": ["LSOA_GAS_2019.csv"], "electricity": ["LSOA_ELEC_2019.csv"],
                  "co2": ["2005-19_UK_local_and_regional_CO2_emissions.csv",
                          "co2_emissions_2005-19_uk_2019.csv"]}


def _metadata(pid, title, areas, nation, residents, population_url, population_aliases,
              attribution, geography, source_set):
    return {
        "id": pid,
        "title": title,
        "description": (
            "CO2 from homes' metered gas and electricity, tonnes per resident per year, by "
            f"{areas}: each local authority's published domestic gas and domestic "
            "electricity CO2 (DESNZ local authority CO2 statistics) shared among its areas "
            "in proportion to their metered use (DESNZ sub-national consumption statistics), "
            f"over {residents}. Oil, LPG and solid fuel are not counted; areas without "
            "published gas use are no data. Put on wards by areal interpolation, weighted by "
            f"residents. {nation}."),
        "version": "1",
        "ring": "ecological",
        "dimension": "climate_change",
        "lens": "global-ecological",
        "unit": "t CO2 per person per year",
        "polarity": "lower_is_better",
        "threshold": THRESHOLD,
        "source": {
            "publisher": "Department for Energy Security and Net Zero",
            "url": GAS_2019,
            "licence": "Open Government Licence v3.0",
            "attribution": ATTRIBUTION + attribution,
            "extra": {"electricity": ELECTRICITY, "co2": CO2_2005_19,
                      "population": population_url},
            # the CSVs inside the published zips, and the republished population copies
            "aliases": {**ENERGY_ALIASES, "population": population_aliases},
        },
        "geography": geography,
        "measure": {"kind": "intensive", "denominator": residents},
        "periods": [PERIOD],
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": source_set},
    }


class _HomeEnergyCO2(IndicatorPlugin):
    areas: re.Pattern  # the codes of the nation's small areas

    def people(self, path: Path) -> pd.Series:  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self, path: Path, electricity: Path, co2: Path, population: Path) -> pd.DataFrame:
        gas_use, year = _consumption(path, "Consumption (kWh)", "GAS", self.areas)
        elec_use, elec_year = _consumption(
            electricity, "Total domestic electricity consumption (kWh)", "ELEC", self.areas)
        if elec_year != year:
            raise InputError(f"{electricity}: electricity for {elec_year}, gas for {year} "
                             f"({Path(path).name}); give both for one year")
        gas = _co2_kg(gas_use, _published(co2, year, "Domestic Gas"), path, "gas")
        elec = _co2_kg(elec_use, _published(co2, year, "Domestic Electricity"),
                       electricity, "electricity")
        codes = elec.index.union(gas.index)
        people = self.people(Path(population)).reindex(codes)
        tonnes = (gas.reindex(codes) + elec.reindex(codes)) / 1000
        value = (tonnes / people).where(people > 0)
        return pd.DataFrame({"code": codes.to_numpy(), "period": year,
                             "value": value.to_numpy(), "weight": people.to_numpy()})


class HomeEnergyCO2(_HomeEnergyCO2):
    areas = LSOA
    metadata = _metadata(
        "home_energy_co2", "CO2 from home gas and electricity per person", "LSOA 2011",
        "England and Wales", "residents (mid-2019 population)", SAPE_2019,
        ["population_mid2019_lsoa11.csv"], "ONS small area population estimates mid-2019.",
        "lsoa2011", "lsoa-2011")

    def people(self, path: Path) -> pd.Series:
        return population_by_lsoa(path)


class HomeEnergyCO2Scotland(_HomeEnergyCO2):
    areas = DATA_ZONE
    metadata = _metadata(
        "home_energy_co2_scotland", "CO2 from home gas and electricity per person (Scotland)",
        "data zone 2011", "Scotland", "residents (SIMD 2020 total population, NRS mid-2017)",
        SIMD_2020, ["simd2020v2_scotland_dz11_indicators.csv"],
        "Scottish Index of Multiple Deprivation 2020v2 indicators (total population), "
        "Scottish Government.", "dz2011", "dz-2011")

    def people(self, path: Path) -> pd.Series:
        frame = simd_table(path)
        code = C.codes(frame[C.column(frame, path, "Data_Zone", "dz11_code", "DZ")])
        people = C.number(frame, C.column(frame, path, "Total_population"), path)
        return pd.Series(people.to_numpy(), index=code.to_numpy()).dropna()
