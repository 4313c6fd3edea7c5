"""Write the format fixtures in this folder (run from the repository root).

No copy of these publishers' real files exists in the project's data, so these files copy
their *layouts* (header names, header order, title rows, BOMs, CRLF line ends, zip
structure) with values that are partly invented; see README.md beside this script for what
is real and what is not in each. The tests check that the plugins read these layouts and
compute ward values correctly from them; they say nothing about real broadband coverage,
deprivation scores or emissions.

Only files in this repository are read: the real area codes and coordinates come from
tests/data.
"""

import csv
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

HERE = Path(__file__).parent
DATA = HERE.parents[1]
BOM = "\ufeff"


def write_csv(path, header, rows, *, bom=True, crlf=True, title_rows=()):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    for title in title_rows:
        writer.writerow(title)
    writer.writerow(header)
    writer.writerows(rows)
    text = (BOM if bom else "") + buf.getvalue()
    if path is None:
        return text.encode("utf-8")
    Path(path).write_bytes(text.encode("utf-8"))


def fmt(x):
    return f"{x:.1f}" if isinstance(x, float) else str(x)


# -- Ofcom Connected Nations fixed coverage (layouts: /work/shared/data/broadband/
#    ofcom_connected_nations_headers.md) -------------------------------------------------
BANDS = ["30<300Mbit/s", ">=300Mbit/s", "0<2Mbit/s", "2<5Mbit/s", "5<10Mbit/s", "10<30Mbit/s"]
OA_HEADER = (
    ["output_area", "All Premises", "All Matched Premises", "SFBB availability (% premises)",
     "UFBB (100Mbit/s) availability (% premises)", "UFBB availability (% premises)"]
    + [f"% of premises unable to receive {s}Mbit/s" for s in (2, 5, 10, 30)]
    + ["Gigabit availability (% premises)", "% of premises below the USO",
       "% of premises with NGA", "% of premises able to receive decent broadband from FWA",
       "Number of premises with SFBB availability",
       "Number of premises with UFBB (100Mbit/s) availability",
       "Number of premises with UFBB availability"]
    + [f"Number of premises unable to receive {s}Mbit/s" for s in (2, 5, 10, 30)]
    + ["Number of premises with Gigabit availability", "Number of premises below the USO",
       "Number of premises with NGA",
       "Number of premises able to receive decent broadband from FWA"]
    + [f"% of premises with {b} download speed" for b in BANDS]
    + [f"Number of premises with {b} download speed" for b in BANDS]
)

# output area (real 2021 codes in Trafford, and one Scottish code), premises, % below the
# USO, % gigabit: invented.
OA_ROWS = [
    ("E00030776", 150, 2.0, 80.0), ("E00030777", 120, 0.0, 95.5), ("E00030778", 130, 10.0, 40.0),
    ("E00030772", 140, 0.0, 100.0), ("E00030779", 160, 5.0, 60.0),
    ("E00030774", 110, 1.5, 70.0), ("E00030775", 125, 0.0, 90.0),
    ("S00088956", 90, 25.0, 10.0),
]


def oa_record(code, premises, uso, gigabit):
    unable = [uso * 0.2, uso * 0.5, uso, min(uso + 3.0, 100.0)]
    sfbb = 100.0 - unable[3]
    ufbb100, ufbb = min(gigabit + 2.0, 100.0), min(gigabit + 1.0, 100.0)
    pct = [sfbb, ufbb100, ufbb] + unable + [gigabit, uso, sfbb, 0.0]
    bands = [max(sfbb - gigabit, 0.0), gigabit, unable[0], unable[1] - unable[0],
             unable[2] - unable[1], unable[3] - unable[2]]
    count = lambda p: round(p * premises / 100)  # noqa: E731
    counts = [count(p) for p in [sfbb, ufbb100, ufbb] + unable + [gigabit, uso, sfbb, 0.0]]
    return ([code, premises, premises] + [fmt(p) for p in pct] + counts
            + [fmt(b) for b in bands] + [count(b) for b in bands])


def ofcom_oa(residential=False):
    rows = [oa_record(c, p, min(u + 1.0, 100.0) if residential else u, g)
            for c, p, u, g in OA_ROWS]
    return write_csv(None, OA_HEADER, rows)


LA_HEADER = (
    ["laua", "laua_name", "All Premises", "All Matched Premises", "SFBB availability (% premises)",
     "UFBB (100Mbit/s) availability (% premises)", "UFBB availability (% premises)",
     "Full Fibre availability (% premises)", "Gigabit availability (% premises)",
     "Number of premises with Gigabit availability"]
    + [f"% of premises unable to receive {s}Mbit/s" for s in (2, 5, 10, 30)]
    + ["% of premises below the USO", "% of premises with NGA"]
    + [f"% of premises with {b} download speed" for b in BANDS]
)
# local authority (real codes and names), premises, % gigabit, % unable to get 30 Mbit/s,
# % below the USO: invented.
LA_ROWS = [("E08000009", "Trafford", 112000, 93.1, 1.2, 0.3),
           ("E08000003", "Manchester", 265000, 91.0, 0.9, 0.2),
           ("W06000015", "Cardiff", 170000, 88.4, 1.5, 0.4),
           ("S12000036", "City of Edinburgh", 260000, 92.2, 1.1, 0.3),
           ("N09000003", "Belfast", 165000, 96.0, 0.8, 0.1)]


def ofcom_la():
    rows = []
    for code, name, premises, gigabit, below30, uso in LA_ROWS:
        sfbb = 100.0 - below30
        rows.append([code, name, premises, premises, fmt(sfbb), fmt(gigabit + 1.0),
                     fmt(gigabit + 0.5), fmt(gigabit - 5.0), fmt(gigabit),
                     round(gigabit * premises / 100)]
                    + [fmt(uso * 0.2), fmt(uso * 0.5), fmt(uso), fmt(below30), fmt(uso),
                       fmt(sfbb)]
                    + [fmt(sfbb - gigabit), fmt(gigabit), fmt(uso * 0.2), fmt(uso * 0.3),
                       fmt(uso * 0.5), fmt(below30 - uso)])
    return write_csv(None, LA_HEADER, rows)


PC_HEADER = (
    ["postcode", "postcode_space", "postcode area"]
    + [f"% of premises with {b} download speed" for b in BANDS]
    + ["SFBB availability (% premises)", "UFBB (100Mbit/s) availability (% premises)",
       "UFBB availability (% premises)"]
    + [f"% of premises unable to receive {s}Mbit/s" for s in (2, 5, 10, 30)]
    + ["Gigabit availability (% premises)", "% of premises below the USO",
       "% of premises with NGA", "% of premises able to receive decent broadband from FWA"]
)
# Invented postcodes, each placed (in the Code-Point and ONSPD fixtures) at the real ONS
# label point of a Trafford ward; % below the USO invented ("" = no value).
POSTCODES = [
    ("WA14 1XA", "E05015239", 0.0), ("WA14 1XB", "E05015239", 4.0),            # Altrincham
    ("M33 2XA", "E05015255", 10.0), ("M33 2XB", "E05015255", 0.0),
    ("M33 2XC", "E05015255", 5.0),                                             # Sale Moor
    ("M16 7XA", "E05015253", 0.0),                                             # Old Trafford
    ("WA14 2XA", "E05015241", 30.0), ("WA14 2XB", "E05015241", ""),            # Bowdon
    ("WA14 9XZ", None, 50.0),  # in Ofcom's file, not in the postcode directory
    ("M33 2XD", "E05015255", 70.0),  # in the directory without a grid reference
]


def ofcom_pc(area, residential=False):
    rows = []
    for pc, _, uso in POSTCODES:
        if not pc.startswith(area) or pc[len(area)].isalpha():
            continue
        uso_text = "" if uso == "" else fmt(min(uso + (1.0 if residential else 0.0), 100.0))
        rows.append([pc.replace(" ", ""), pc, area] + ["0.0"] * 6 + ["90.0", "80.0", "80.0"]
                    + ["0.0", "0.0", uso_text, uso_text, "70.0", uso_text, "90.0", "0.0"])
    return write_csv(None, PC_HEADER, rows)


def ofcom_zip(path):
    tag, rev = "202507", "r01"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for area in ("M", "WA"):
            z.writestr(f"postcode_files/{tag}_fixed_pc_coverage_{rev}_{area}.csv", ofcom_pc(area))
            z.writestr(f"postcode_res_files/{tag}_fixed_pc_coverage_res_{rev}_{area}.csv",
                       ofcom_pc(area, residential=True))
    root = f"{tag}_fixed_coverage_{rev}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{root}/{tag}_fixed_oa_coverage_{rev}.csv", ofcom_oa())
        z.writestr(f"{root}/{tag}_fixed_oa_res_coverage_{rev}.csv", ofcom_oa(residential=True))
        z.writestr(f"{root}/{tag}_fixed_laua_coverage_{rev}.csv", ofcom_la())
        z.writestr(f"{root}/{tag}_fixed_pc_coverage_{rev}.zip", inner.getvalue())


def ward_points():
    wards = gpd.read_file(f"zip://{DATA / 'boundaries' / 'uk_wards_dec2023_bsc.gpkg.zip'}")
    return wards.set_index("WD23CD")[["BNG_E", "BNG_N", "LONG", "LAT"]]


def code_point_zip(path, points):
    lines = []
    for pc, ward, _ in POSTCODES:
        if ward is None:
            continue
        e, n = (0, 0) if pc == "M33 2XD" else (int(points.loc[ward, "BNG_E"]), int(points.loc[ward, "BNG_N"]))
        lines.append(f'"{pc}",10,{e},{n},"E92000001","","","","E08000009","{ward}"')
    header = ("Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
              "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,"
              "Admin_ward_code\r\n")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Doc/Code-Point_Open_Column_Headers.csv", header)
        for area in ("m", "wa"):
            body = [l for l in lines if l[1:].lower().startswith(area)
                    and not l[1 + len(area)].isalpha()]
            z.writestr(f"Data/CSV/{area}.csv", "\r\n".join(body) + "\r\n")


def onspd_csv(path, points):
    header = ["pcd", "pcd2", "pcds", "dointr", "doterm", "oseast1m", "osnrth1m", "osgrdind",
              "oslaua", "osward", "lat", "long"]
    rows = []
    for pc, ward, _ in POSTCODES:
        if ward is None:
            continue
        out, inw = pc.split()
        if pc == "M33 2XD":
            e, n, lat, lon, ind = "", "", "99.999999", "0.000000", "9"
        else:
            p = points.loc[ward]
            e, n, lat, lon, ind = int(p["BNG_E"]), int(p["BNG_N"]), f"{p['LAT']:.6f}", f"{p['LONG']:.6f}", "1"
        rows.append([f"{out:<4}{inw}", f"{out:<5}{inw}", pc, "198001", "", e, n, ind,
                     "E08000009", ward, lat, lon])
    write_csv(path, header, rows, bom=False, crlf=False)


# -- IoD File 7 (2019 and 2025) --------------------------------------------------------------
F7_2019 = [
    "LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
    "Local Authority District name (2019)", "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Income Score (rate)", "Income Rank (where 1 is most deprived)",
    "Income Decile (where 1 is most deprived 10% of LSOAs)", "Employment Score (rate)",
    "Employment Rank (where 1 is most deprived)",
    "Employment Decile (where 1 is most deprived 10% of LSOAs)",
    "Total population: mid 2015 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "Population aged 16-59: mid 2015 (excluding prisoners)",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)",
]


def iod_2019_file7(path):
    """Real codes, names, ranks, deciles (File 2) and populations (File 6) of Trafford's
    138 LSOAs; the scores are invented from the deciles."""
    f2 = pd.read_csv(DATA / "indicators" / "iod2019_file2_trafford.csv", encoding="utf-8-sig",
                     dtype=str)
    f6 = pd.read_csv(DATA / "indicators" / "iod2019_file6_trafford.csv", encoding="utf-8-sig",
                     dtype=str)
    f6 = f6.set_index("LSOA code (2011)")
    rows = []
    for i, r in f2.iterrows():
        code = r["LSOA code (2011)"]
        inc_dec, emp_dec = int(r.iloc[7]), int(r.iloc[9])
        income = round(0.02 + (10 - inc_dec) * 0.03 + (i % 7) * 0.001, 3)
        employ = round(0.015 + (10 - emp_dec) * 0.02 + (i % 5) * 0.001, 3)
        imd_score = round(5 + (10 - int(r.iloc[5])) * 4.5, 3)
        p = f6.loc[code]
        rows.append([code, r.iloc[1], r.iloc[2], r.iloc[3], imd_score, r.iloc[4], r.iloc[5],
                     income, r.iloc[6], r.iloc[7], employ, r.iloc[8], r.iloc[9],
                     p.iloc[3], p.iloc[4], p.iloc[5], p.iloc[6], p.iloc[7]])
    write_csv(path, F7_2019, rows, crlf=True)


def iod_2025_file7(path):
    """Real LSOA 2021 codes and names of Trafford; everything else invented. Two headers
    are broken over two lines inside their quotes, as reported of the real file."""
    lsoa = gpd.read_file(DATA / "indicators" / "lsoa_2021_trafford.geojson")
    header = ["LSOA code (2021)", "LSOA name (2021)", "Local Authority District code (2024)",
              "Local Authority District name (2024)", "Index of Multiple Deprivation (IMD) Score",
              "Income Score (rate)", "Income Decile (where 1 is most deprived 10% of LSOAs)",
              "Employment Score (rate)",
              "Employment Decile (where 1 is most deprived\n10% of LSOAs)",
              "Total population: mid 2022",
              "Working age population 18-66:\nfor use with Employment Deprivation Domain (excluding prisoners)"]
    rows = []
    for i, r in lsoa.sort_values("area_code").reset_index(drop=True).iterrows():
        pop = 1400 + (i * 37) % 600
        work = round(pop * 0.6)
        income = round(0.03 + (i % 11) * 0.015, 3)
        employ = round(0.02 + (i % 9) * 0.01, 3)
        rows.append([r["area_code"], r["area_name"], "E08000009", "Trafford",
                     round(income * 100, 3), income, 10 - (i % 10), employ, 10 - (i % 10),
                     f"{pop:,}", work])
    write_csv(path, header, rows, crlf=True)


# -- Defra background PM2.5 CSV, NAEI ASCII grid -----------------------------------------------
def defra_pm25_csv(path):
    """The real Trafford 1 km PM2.5 grid (Defra 2017, tests/data/grid) rewritten in Defra's
    CSV layout: square centres in EPSG:27700. Title lines are ours."""
    grid = gpd.read_file(DATA / "grid" / "background_air_pollution.geojson").to_crs(27700)
    centre = grid.geometry.centroid
    x = (np.floor(centre.x / 1000) * 1000 + 500).astype(int)
    y = (np.floor(centre.y / 1000) * 1000 + 500).astype(int)
    titles = [["Background PM2.5 concentrations (format fixture)"],
              ["Reference year 2017"], ["Units: ug/m3"], ["Grid: 1km x 1km, OSGB"], [""]]
    rows = [["E08000009", a, b, f"{v:.6f}"] for a, b, v in zip(x, y, grid["value"])]
    write_csv(path, ["Local_Auth_Code", "x", "y", "Total_PM2.5_17"], rows, bom=False,
              crlf=True, title_rows=titles)


def naei_asc(path):
    """A 14 x 16 km ESRI ASCII grid over Trafford, values invented, three nodata cells."""
    ncols, nrows, xll, yll = 14, 16, 370000, 383000
    lines = [f"ncols {ncols}", f"nrows {nrows}", f"xllcorner {xll}", f"yllcorner {yll}",
             "cellsize 1000", "NODATA_value -9999"]
    for row in range(nrows):  # first line is the northern row
        vals = []
        for col in range(ncols):
            v = 200 + 25 * col + 10 * row
            if (row, col) in {(3, 5), (8, 8), (12, 2)}:
                v = -9999
            vals.append(str(v))
        lines.append(" ".join(vals))
    Path(path).write_text("\n".join(lines) + "\n")


# -- NISRA Census 2021 flexible table builder CSV (read by position, as demographr's
#    data-raw scripts do; the header text here is not the builder's own) --------------------
def nisra_household_deprivation(path):
    counts = pd.read_csv(DATA / "indicators" / "ni_census21_household_deprivation21_sdz21_first40.csv")
    names = gpd.read_file(DATA / "boundaries" / "sdz21_ni_first40.geojson").set_index("sdz21_code")
    order = ["Household is not deprived in any dimension", "Household is deprived in 1 dimension",
             "Household is deprived in 2 dimensions", "Household is deprived in 3 dimensions",
             "Household is deprived in 4 dimensions"]
    rows = [[r.sdz21_code, names.loc[r.sdz21_code, "sdz21_name"],
             order.index(r.deprivation_dimensions), r.deprivation_dimensions, r.n]
            for r in counts.itertuples()]
    write_csv(path, ["Census 2021 Super Data Zone Code", "Census 2021 Super Data Zone Label",
                     "Household deprivation Code", "Household deprivation Label", "Count"],
              rows, bom=False)


# -- Welsh Government WIMD 2019 ranks workbook (sheet "WIMD_2019_ranks", two title rows,
#    then the header humaniverse/IMD's data-raw/imd2019_wales_lsoa11.R reads), as .xlsx ----
def wimd_ranks_workbook(path):
    from openpyxl import Workbook

    rows = pd.read_csv(DATA / "indicators" / "wimd2019_wales_lsoa11_cardiff.csv")
    columns = {"WIMD 2019": "IMD_rank", "Income": "Income_rank", "Employment": "Employment_rank",
               "Health": "Health_rank", "Education": "Education_rank",
               "Access to Services": "Access_rank", "Housing": "Housing_rank",
               "Community Safety": "Crime_rank", "Physical Environment": "Environment_rank"}
    book = Workbook()
    sheet = book.active
    sheet.title = "WIMD_2019_ranks"
    sheet.append(["Welsh Index of Multiple Deprivation 2019: index and domain ranks by small area"])
    sheet.append([])
    sheet.append(["LSOA code", "LSOA name (Eng)", "Local Authority name (Eng)", *columns])
    for r in rows.itertuples():
        sheet.append([r.lsoa11_code, f"Cardiff {r.Index:03d}", "Cardiff",
                      *(int(getattr(r, c)) for c in columns.values())])
    book.save(path)


if __name__ == "__main__":
    points = ward_points()
    ofcom_zip(HERE / "202507_fixed_broadband_coverage_r01_FORMAT_FIXTURE.zip")
    code_point_zip(HERE / "codepo_gb_FORMAT_FIXTURE.zip", points)
    onspd_csv(HERE / "ONSPD_UK_FORMAT_FIXTURE.csv", points)
    iod_2019_file7(HERE / "File_7_IoD2019_trafford_FORMAT_FIXTURE.csv")
    iod_2025_file7(HERE / "File_7_IoD2025_trafford_FORMAT_FIXTURE.csv")
    defra_pm25_csv(HERE / "defra_background_pm25_2017_trafford_FORMAT_FIXTURE.csv")
    naei_asc(HERE / "naei_co2_total_2021_FORMAT_FIXTURE.asc")
    nisra_household_deprivation(HERE / "ni_census21_HH_DEPRIVATION_sdz21_FORMAT_FIXTURE.csv")
    wimd_ranks_workbook(HERE / "wimd2019_ranks_cardiff_FORMAT_FIXTURE.xlsx")
