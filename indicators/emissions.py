"""Climate change: territorial emissions per person, and a 1 km emissions grid.

* ``co2_per_capita``: DESNZ (formerly BEIS) local authority CO2 emissions per person.
* ``ghg_per_capita``: DESNZ local authority greenhouse gas emissions per person (CO2, CH4
  and N2O, t CO2e).

Both read either the department's own layout (a title row above the header, thousands
separators, rows of regional totals and "Unallocated" emissions without a code) or the ONS
Explore Local Statistics tidy layout. A local authority's value is given to each of its
wards and flagged as apportioned. UK: Welsh, Scottish and Northern Irish authorities are
in the files.

* ``co2_emissions_grid``: the National Atmospheric Emissions Inventory's 1 km CO2 map (ESRI
  ASCII grid or GeoTIFF, British National Grid), averaged over each ward by zonal
  statistics, in tonnes of CO2 per km² per year.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from placeportrait import readers
from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



OGL = "Open Government Licence v3.0"
CO2_2005_19 = ("https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
               "attachment_data/file/996057/2005-19_UK_local_and_regional_CO2_emissions.xlsx")
ONS_GHG = C.ons_els_url("greenhouse-gas-emissions")
NAEI_MAPS = "https://naei.energysecurity.gov.uk/data/maps/download-gridded-emissions"
FR2025 = ('Fanning & Raworth (2025) "Doughnut of social and planetary boundaries: '
          '2000-2022", Nature; per-capita CO2 boundary of 0.95 t CO2 per person per year '
          '(their fair share of the CO2 boundary, 2017 population)')


def _excel_native(path: Path) -> tuple[pd.DataFrame, int, str]:
    """The "Subset dataset" sheet (else the first sheet with a ``Code``/``Year`` header) of
    the department's spreadsheet, with its title rows skipped."""
    book = pd.ExcelFile(path)
    sheets = [s for s in book.sheet_names if "subset" in s.lower()] + book.sheet_names
    for sheet in sheets:
        raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=str, nrows=30)
        for index, row in raw.iterrows():
            fields = [C.squash(v).lower() for v in row.dropna()]
            if ("code" in fields or "local authority code" in fields) and \
                    ("year" in fields or "calendar year" in fields):
                title = C.squash(raw.iloc[0].dropna().iloc[0]) if index else ""
                return C.read_table(path, sheet=sheet, skip_rows=index), index, title
    raise InputError(f"{path}: no sheet with a 'Code' and 'Year' header")


def read_native(path: Path, per_capita_prefix: str) -> tuple[pd.DataFrame, str]:
    """The department's own layout: ``Code`` (or ``Local Authority Code``), ``Year`` (or
    ``Calendar Year``) and a per-capita column, as CSV or spreadsheet; title rows above the
    header are skipped. Returns the table and a label (title and value column) that says
    which gas the file holds."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
        frame, skip, title = _excel_native(path)
    else:
        try:
            skip = C.header_row(path, ("code", "year"))
        except InputError:
            skip = C.header_row(path, ("local authority code", "calendar year"))
        title = ""
        if skip:
            import csv
            import io
            first = path.read_bytes()[:4000].decode("utf-8-sig", "replace")
            title = next(csv.reader(io.StringIO(first)), [""])[0]
        frame = C.read_table(path, skip_rows=skip)
    code = C.column(frame, path, "Code", "Local Authority Code")
    year = C.column(frame, path, "Year", "Calendar Year")
    value = C.column(frame, path, per_capita_prefix, prefix=True)
    out = pd.DataFrame({
        "code": C.codes(frame[code]).to_numpy(),
        "period": frame[year].astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
                  .to_numpy(),
        "value": C.number(frame, value, path, header_rows=skip + 1).to_numpy(),
    })
    population = C.column(frame, path, "Population", prefix=True, required=False)
    if population is not None:
        # The file's own mid-year population ('000s): the rate's denominator, so merged
        # authorities' rates combine as emissions over people.
        out["weight"] = (C.number(frame, population, path, header_rows=skip + 1) * 1000
                         ).to_numpy()
    # Regional and national totals, "Unallocated" emissions and blank lines have no code.
    return C.drop_blank_codes(out), f"{title} {value}"


class _PerCapita(IndicatorPlugin):
    gas: str  # "co2" or "ghg"

    def read(self, path: Path) -> pd.DataFrame:
        path = Path(path)
        head = C.read_table(path) if path.suffix.lower() != ".xlsx" else None
        if head is not None and C.is_ons_tidy(head):
            indicators = head[C.column(head, path, "indicator")].astype(str).str.lower().unique()
            is_ghg = any("greenhouse" in i for i in indicators)
            if is_ghg != (self.gas == "ghg"):
                raise InputError(f"{path}: holds {', '.join(indicators)}, not "
                                 f"{'greenhouse gas' if self.gas == 'ghg' else 'CO2'} emissions")
            return C.ons_tidy(head, path, indicator=None)
        table, label = read_native(path, "Per Capita Emissions")
        is_ghg = "co2e" in label.lower() or "greenhouse" in label.lower()
        if is_ghg != (self.gas == "ghg"):
            raise InputError(f"{path}: this is a {'greenhouse gas' if is_ghg else 'CO2'} file "
                             f"({label.strip()[:80]!r}); use the "
                             f"{'ghg' if is_ghg else 'co2'}_per_capita plugin")
        return table


class CO2PerCapita(_PerCapita):
    gas = "co2"
    metadata = {
        "id": "co2_per_capita",
        "title": "CO2 emissions per person",
        "description": (
            "Territorial CO2 emissions within the scope of influence of local authorities "
            "(the 'subset' dataset, which leaves out large industrial sites, railways, "
            "motorways and land use), tonnes per resident per year, by local authority "
            "(BEIS/DESNZ UK local authority CO2 emissions estimates). Given to each ward of "
            "the authority and flagged as apportioned. UK."),
        "version": "1",
        "ring": "ecological",
        "dimension": "climate_change",
        "lens": "global-ecological",
        "unit": "t CO2 per person per year",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0.95, "baseline": 0,
            "citation": FR2025 + ". Compared here with territorial, not consumption, "
                                 "emissions.",
        },
        "source": {
            "publisher": "Department for Business, Energy & Industrial Strategy (now DESNZ)",
            "url": CO2_2005_19,
            "licence": OGL,
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. UK local authority and regional carbon "
                            "dioxide emissions national statistics: 2005-2019, BEIS."),
        },
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "residents (mid-year population)"},
        "periods": [str(y) for y in range(2005, 2020)],
        "min_coverage": 0.5,
    }


class GHGPerCapita(_PerCapita):
    gas = "ghg"
    metadata = {
        "id": "ghg_per_capita",
        "title": "Greenhouse gas emissions per person",
        "description": (
            "Territorial greenhouse gas emissions (CO2, methane and nitrous oxide), tonnes of "
            "CO2 equivalent per resident per year, by local authority (DESNZ UK local "
            "authority greenhouse gas emissions statistics, as published by ONS Explore Local "
            "Statistics; DESNZ's own CSV layout is read too). Given to each ward of the "
            "authority and flagged as apportioned. UK."),
        "version": "1",
        "ring": "ecological",
        "dimension": "climate_change",
        "lens": "global-ecological",
        "unit": "t CO2e per person per year",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 2.5, "baseline": 0,
            "citation": ("1.5 °C-compatible per-person target for 2030 of 2.5 t CO2e "
                         "(Akenji et al. 2021, 1.5-Degree Lifestyles: Towards a Fair "
                         "Consumption Space for All, Hot or Cool Institute, Berlin; 1.4 t by "
                         "2040 and 0.7 t by 2050). A consumption-based target, compared here "
                         "with territorial emissions."),
        },
        "source": {
            "publisher": "Department for Energy Security and Net Zero via ONS Explore Local "
                         "Statistics",
            "url": ONS_GHG,
            "licence": OGL,
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. Source: Department for Energy Security "
                            "and Net Zero; Office for National Statistics."),
        },
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "residents (mid-year population)"},
        "periods": [str(y) for y in range(2005, 2024)],
        "min_coverage": 0.5,
    }


# -- NAEI 1 km grid ------------------------------------------------------------------------
def naei_geotiff(path: Path) -> tuple[Path, str]:
    """A GeoTIFF with a CRS from an NAEI map: the published zip (the total, not a sector),
    an ESRI ASCII grid (``.asc``, which carries no CRS: NAEI maps are on the British
    National Grid) or a GeoTIFF. Returns the file and the year found in its name."""
    import rasterio

    path = Path(path)
    if zipfile.is_zipfile(path):
        members = [n for n in C.zip_members(path) if n.lower().endswith((".asc", ".tif", ".tiff"))]
        totals = [n for n in members if re.search(r"tot", Path(n).name, re.I)] or members
        if not totals:
            raise InputError(f"{path}: the archive holds no .asc or .tif grid")
        folder = Path(tempfile.mkdtemp(prefix="placeportrait-naei-"))
        with zipfile.ZipFile(path) as archive:
            name = sorted(totals)[0]
            inner = folder / Path(name).name
            inner.write_bytes(archive.read(name))
            prj = [n for n in archive.namelist() if n.lower() == name.lower()[:-4] + ".prj"]
            if prj:
                inner.with_suffix(".prj").write_bytes(archive.read(prj[0]))
        path = inner
    readers.sniff(path)
    year = re.search(r"(19|20)\d{2}", path.name)
    try:
        with rasterio.open(path) as src:
            profile = src.profile.copy()
            data = src.read(1)
            crs = src.crs
            nodata = src.nodata
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path}: not a raster GDAL can read: {exc}") from None
    if crs is not None:
        return path, year[0] if year else ""
    profile.update(driver="GTiff", crs="EPSG:27700", nodata=nodata)
    out = Path(tempfile.mkdtemp(prefix="placeportrait-naei-")) / (path.stem + ".tif")
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data, 1)
    return out, year[0] if year else ""


class CO2Grid(IndicatorPlugin):
    metadata = {
        "id": "co2_emissions_grid",
        "title": "CO2 emissions per km² (NAEI 1 km map)",
        "description": (
            "Mean CO2 emissions per square kilometre over the ward, from the National "
            "Atmospheric Emissions Inventory's 1 km emission map (total of all sectors, "
            "tonnes per 1 km grid square per year), by zonal statistics weighted by the share "
            "of each cell inside the ward. UK. The NAEI publishes the maps as a zip of ESRI "
            "ASCII grids and GeoTIFFs per pollutant and year; ASCII grids carry no CRS and "
            "are read as British National Grid."),
        "version": "1",
        "ring": "ecological",
        "dimension": "climate_change",
        "lens": "local-ecological",
        "unit": "t CO2 per km² per year",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 266, "baseline": 0,
            "citation": ("Derived threshold: the per-person CO2 boundary of 0.95 t per year "
                         "(Fanning & Raworth 2025) times the UK's mean population density of "
                         "about 280 residents per km² (ONS mid-2022 population estimates and "
                         "Standard Area Measurements), i.e. the emission density at which a "
                         "place of average density is at its fair share. Councils should "
                         "override it with a local carbon budget (e.g. Tyndall Centre)."),
        },
        "source": {
            "publisher": "National Atmospheric Emissions Inventory (DESNZ)",
            "url": NAEI_MAPS,
            "licence": OGL,
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. National Atmospheric Emissions "
                            "Inventory emission maps, © Crown copyright."),
        },
        "geography": "raster",
        "measure": {"kind": "intensive", "denominator": "km²"},
        "periods": [],
        "min_coverage": 0.5,
    }

    def read(self, path: Path) -> pd.DataFrame:
        raster, year = naei_geotiff(path)
        return pd.DataFrame({"code": ["naei-1km"], "period": [year or "unknown"],
                             "value": [float("nan")], "raster": [str(raster)]})
