"""Households in fuel poverty (Low Income Low Energy Efficiency), DESNZ, by LSOA 2011.

The sub-regional fuel poverty statistics give, for every LSOA in England, the number of
households and the number in fuel poverty under the LILEE measure (a household on a low
income living in a home below energy efficiency band C). The value is
:math:`100 \\times` fuel-poor households / households, weighted by households wherever LSOAs
are aggregated.

Two layouts are read:

* the published workbook (``sub-regional-fuel-poverty-2022-tables.xlsx``, 2020 data):
  sheet ``Table 3``, a title row naming the year, the header on row 3, notes below;
* the CSV export of the same table (``LSOA_Fuel_Poverty_2019.csv``, 2019 data): Windows
  encoding, numbers padded with spaces, footnote markers in the headers (``Number of
  households1``) and note rows after the data. It has no title row, so the year is read
  from the file name.

DESNZ warns that LSOA estimates "should not be used to identify trends over time within an
LSOA": the releases are separate periods, not a trend, and ``series_breaks`` says so, so no
trend line or direction joins them. England only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from placeportrait import readers
from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C

URL = ("https://assets.publishing.service.gov.uk/media/63f4b2b0e90e0740d3cd6f0d/"
       "sub-regional-fuel-poverty-2022-tables.xlsx")
LSOA = re.compile(r"^[EW]01\d{6}$")


class FuelPovertyLilee(IndicatorPlugin):
    metadata = {
        "id": "fuel_poverty_lilee",
        "title": "Households in fuel poverty (LILEE)",
        "description": (
            "Share of households in fuel poverty under the Low Income Low Energy Efficiency "
            "measure: on a low income and in a home rated below EPC band C. DESNZ "
            "sub-regional fuel poverty statistics by LSOA 2011, weighted by households. Put "
            "on wards by areal interpolation through LSOA 2011 boundaries (boundary set "
            "'lsoa-2011'). England only; releases are not a trend within an LSOA."),
        "version": "1",
        "ring": "social",
        "dimension": "energy",
        "lens": "local-social",
        "unit": "% of households",
        "polarity": "lower_is_better",
        "threshold": {"value": 0, "baseline": 100,
                      "citation": C.share_deprived("no household without affordable warmth")},
        "source": {
            "publisher": "Department for Energy Security and Net Zero",
            "url": URL,
            "licence": "Open Government Licence v3.0",
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. DESNZ sub-regional fuel poverty "
                            "statistics."),
            # the 2021 release (2019 data) as a CSV of its LSOA table; `refresh` loads
            # every release it finds, one period each
            "aliases": {"main": ["LSOA_Fuel_Poverty_2019.csv"]},
        },
        "geography": "lsoa2011",
        "measure": {"kind": "intensive", "denominator": "households"},
        "periods": ["2019", "2020"],
        "series_breaks": {"*": (
            "DESNZ: LSOA estimates \"should not be used to identify trends over time within "
            "an LSOA\" (small samples); each release stands alone")},
        "min_coverage": 0.5,
        "harmonise": {"source_boundaries": "lsoa-2011"},
    }

    def read(self, path: Path) -> pd.DataFrame:
        path = Path(path)
        if path.suffix.lower() in (".xlsx", ".xls"):
            frame, period = self._workbook(path)
        else:
            skip = C.header_row(path, ("LSOA Code", "Number of households"), encoding="cp1252")
            frame = C.read_table(path, skip_rows=skip)
            period = self._year(path.name, path)
        code = C.codes(frame[C.column(frame, path, "LSOA Code")])
        data = code.str.match(LSOA).fillna(False).to_numpy()  # drops the note rows
        frame, code = frame[data], code[data]
        households = C.number(frame, C.column(frame, path, "Number of households",
                                              "Number of households1"), path)
        poor = C.number(frame, C.column(frame, path, "Number of households in fuel poverty",
                                        prefix=True), path)
        if (poor > households).any():
            raise InputError(f"{path}: more households in fuel poverty than households")
        return pd.DataFrame({"code": code.to_numpy(), "period": period,
                             "value": (100 * poor / households).where(households > 0).to_numpy(),
                             "weight": households.to_numpy()})

    def _workbook(self, path: Path) -> tuple[pd.DataFrame, str]:
        if "Table 3" not in pd.ExcelFile(path, engine="calamine").sheet_names:
            raise InputError(f"{path}: no sheet 'Table 3' (the LSOA table)")
        title = readers.read_excel(path, sheet="Table 3").columns[0]
        frame = C.read_table(path, sheet="Table 3", skip_rows=2)
        return frame, self._year(str(title), path)

    @staticmethod
    def _year(text: str, path) -> str:
        years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", text)
        if not years:
            raise InputError(f"{path}: cannot tell which year the fuel poverty estimates are "
                             "for (the workbook's Table 3 title, or the CSV's file name, names it)")
        return years[-1]
