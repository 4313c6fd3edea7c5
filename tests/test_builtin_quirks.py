"""The quirks of real published files, each met by the built-in plugins: byte-order marks,
thousands separators, title rows, suppressed values, several nations in one file, codes of
other boundary vintages, HTML pages and truncated downloads."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from placeportrait import plugins
from placeportrait.errors import InputError

from test_builtin_support import FIX, IND, OFCOM_ZIP, csv_rows


def shared():
    plugins.discover()  # loads the built-in modules, and with them their shared readers
    return sys.modules["placeportrait_indicators._common"]


def test_utf8_byte_order_marks_are_stripped():
    raw = (IND / "iod2019_file2_trafford.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfLSOA code (2011)")
    table = plugins.load("iod_crime_most_deprived").load(
        IND / "iod2019_file2_trafford.csv", population=IND / "iod2019_file6_trafford.csv")
    assert len(table) == 138 and table["code"].str.match(r"^E01\d{6}$").all()
    # ONS files come with a BOM (greenhouse gases) and without one (healthy life expectancy).
    assert (IND / "greenhouse-gas-emissions_2019_2023.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert (IND / "healthy-life-expectancy_2019_2020.csv").read_bytes()[:6] == b"areacd"
    assert len(plugins.load("healthy_life_expectancy").load(IND / "healthy-life-expectancy_2019_2020.csv"))


def test_thousands_separators_in_counts():
    raw = (IND / "iod2019_file6_trafford.csv").read_text(encoding="utf-8-sig")
    assert 'E01006074,Trafford 025A,E08000009,Trafford,"1,629"' in raw
    table = plugins.load("imd_most_deprived").load(IND / "iod2019_file1_trafford.csv",
                                                   population=IND / "iod2019_file6_trafford.csv")
    assert table.set_index("code").loc["E01006074", "weight"] == 1629
    fixture = plugins.load("income_deprivation_rate_2025").load(
        FIX / "File_7_IoD2025_trafford_FORMAT_FIXTURE.csv")
    assert fixture["weight"].min() >= 1400  # "1,400" and up, not 1


def test_title_rows_above_the_header(tmp_path):
    path = IND / "co2_emissions_2005-19_year2019.csv"
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert first.startswith('"Local Authority territorial CO2 emissions estimates')
    plugin = plugins.load("co2_per_capita")
    base = plugin.load(path)
    # A second title line, as other releases have, is skipped as well.
    extra = tmp_path / "two_titles.csv"
    extra.write_bytes(b'"Table 1.1",,,\r\n' + path.read_bytes().lstrip(b"\xef\xbb\xbf"))
    assert plugin.load(extra).equals(base)
    # Defra's background-map CSVs open with several lines of notes.
    grid = plugins.load("pm25_background").load(
        FIX / "defra_background_pm25_2017_trafford_FORMAT_FIXTURE.csv")
    assert len(grid) == 103 and grid.crs.to_epsg() == 27700


def test_suppressed_values_are_no_data_not_zero(tmp_path):
    # Real: ONS publishes the Isles of Scilly's gas use with status "z" and no observation.
    path = IND / "domestic-gas-consumption_scilly_trafford.csv"
    scilly = [r for r in csv_rows(path) if r["areacd"] == "E06000053"]
    assert scilly and all(r["observation"] == "" and r["status"] == "z" for r in scilly)
    C = shared()
    table = C.ons_tidy(C.read_table(path), path)
    assert table.loc[table["code"] == "E06000053", "value"].isna().all()
    assert table.loc[table["code"] == "E08000009", "value"].notna().all()
    # A suppressed census count ("c") leaves the ward's share unknown, not smaller.
    census = (IND / "2021_general_health_ward_trafford.csv").read_text()
    lines = census.splitlines(keepends=True)
    target = next(i for i, l in enumerate(lines) if l.startswith("E05000820") and "Bad health" in l)
    lines[target] = lines[target].rsplit(",", 1)[0] + ",c\n"
    suppressed = tmp_path / "general_health.csv"
    suppressed.write_text("".join(lines))
    shares = plugins.load("bad_health").load(suppressed).set_index("code")["value"]
    assert np.isnan(shares["E05000820"]) and shares.drop("E05000820").notna().all()
    # ".." in an EPC count: that authority's share is no data.
    epc = (IND / "domestic_epcs_energy_efficiency.csv").read_text().splitlines(keepends=True)
    row = next(i for i, l in enumerate(epc) if l.startswith("E08000009") and l.rstrip().endswith(",D"))
    parts = epc[row].rstrip("\n").split(",")
    parts[-2] = ".."
    epc[row] = ",".join(parts) + "\n"
    dotted = tmp_path / "epc.csv"
    dotted.write_text("".join(epc))
    shares = plugins.load("epc_below_c").load(dotted).set_index("code")["value"]
    assert np.isnan(shares["E08000009"]) and shares.drop("E08000009").notna().all()


def test_other_nations_in_uk_files_are_kept():
    ghg = plugins.load("ghg_per_capita").load(IND / "greenhouse-gas-emissions_2019_2023.csv")
    assert set(ghg["code"].str[0]) == {"E", "W", "S", "N"}
    child = plugins.load("child_poverty").load(IND / "children-in-relative-poverty_2024.csv")
    assert set(child["code"].str[0]) == {"E", "W", "S", "N"}
    epc = plugins.load("epc_below_c").load(IND / "domestic_epcs_energy_efficiency.csv")
    assert set(epc["code"].str[0]) == {"E", "W"}  # the EPC register covers England and Wales


def test_codes_of_other_vintages_are_visible():
    # Barnsley and Sheffield were given new codes in 2025; ONS marks the old ones.
    rows = csv_rows(IND / "children-in-relative-poverty_2024.csv")
    notes = {r["areacd"]: r["notes"] for r in rows if r["notes"].startswith("Obsolete")}
    assert notes == {"E08000016": "Obsolete code since 2025 (replaced by E08000038 Barnsley)",
                     "E08000019": "Obsolete code since 2025 (replaced by E08000039 Sheffield)"}
    table = plugins.load("child_poverty").load(IND / "children-in-relative-poverty_2024.csv")
    old = table[table["code"] == "E08000016"].set_index("period")["value"]
    new = table[table["code"] == "E08000038"].set_index("period")["value"]
    # The old code keeps its history and repeats the latest year under both codes, so
    # wards of either vintage find their authority.
    assert set(old.index) == {"2021/22", "2022/23", "2023/24", "2024/25"}
    assert list(new.index) == ["2024/25"] and new["2024/25"] == old["2024/25"]


def test_output_area_zip_prefers_all_premises_to_residential():
    import zipfile

    with zipfile.ZipFile(OFCOM_ZIP) as z:
        names = z.namelist()
    assert any("_oa_res_coverage_" in n for n in names)
    table = plugins.load("broadband_below_uso").load(OFCOM_ZIP).set_index("code")
    assert table.loc["E00030778", "value"] == 10.0  # the residential file says 11.0


def test_html_pages_and_truncated_downloads_are_refused(tmp_path):
    page = tmp_path / "greenhouse-gas-emissions.csv"
    page.write_text("<!DOCTYPE html><html><body>Rate limit exceeded</body></html>")
    with pytest.raises(InputError, match="HTML"):
        plugins.load("ghg_per_capita").load(page)
    cut = tmp_path / "cut.csv"
    data = (IND / "greenhouse-gas-emissions_2019_2023.csv").read_bytes()
    cut.write_bytes(data[: len(data) // 2].rsplit(b",", 3)[0])
    with pytest.raises(InputError, match="truncated"):
        plugins.load("ghg_per_capita").load(cut)


def test_errors_name_the_file_row_and_column(tmp_path):
    path = tmp_path / "ghg.csv"
    text = (IND / "greenhouse-gas-emissions_2019_2023.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    lines[5] = lines[5].replace(",Greenhouse gas emissions,", ",Greenhouse gas emissions,", 1)
    parts = lines[5].split(",")
    parts[5] = "n/k"
    lines[5] = ",".join(parts)
    path.write_text("".join(lines))
    with pytest.raises(InputError, match=r"ghg.csv: row 6, column 'observation': 'n/k' is not a number"):
        plugins.load("ghg_per_capita").load(path)


def test_emissions_spreadsheet_with_title_rows(tmp_path):
    """BEIS publishes the CO2 statistics as a spreadsheet ("Subset dataset" sheet, a title
    row above the header); the real CSV extract, written back into that shape, reads the
    same as the CSV."""
    import csv

    from openpyxl import Workbook

    path = IND / "co2_emissions_2005-19_year2019.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["Local authority CO2 emissions: notes"])
    sheet = book.create_sheet("Subset dataset")
    for row in rows:
        sheet.append([float(v.replace(",", "")) if re_number(v) else v for v in row])
    xlsx = tmp_path / "2005-19_UK_local_and_regional_CO2_emissions.xlsx"
    book.save(xlsx)
    plugin = plugins.load("co2_per_capita")
    from_csv = plugin.load(path).sort_values("code").reset_index(drop=True)
    from_xlsx = plugin.load(xlsx).sort_values("code").reset_index(drop=True)
    assert list(from_xlsx["code"]) == list(from_csv["code"])
    assert set(from_xlsx["period"]) == {"2019"}
    assert np.allclose(from_xlsx["value"], from_csv["value"], equal_nan=True)


def re_number(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"-?[\d,]+(\.\d+)?", text.strip())) and text.strip() != ""


def test_ons_periods_in_words():
    C = shared()
    assert C.period("2023-01-01/P1Y") == "2023"
    assert C.period("2024-04-01/P1Y") == "2024/25"
    assert C.period("2020-01-01/P3Y") == "2020-2022"
    assert C.period("2024-05-15/P1Y") == "2024-05-15/P1Y"  # gas years: mid-May, kept as is
    assert C.period("2026-01-01") == "2026-01-01"
