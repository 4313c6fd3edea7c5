"""Broadband (networks): Ofcom Connected Nations fixed coverage, in Ofcom's own layouts.

Ofcom publishes one zip per release (``…/202507_fixed_broadband_coverage_r01.zip``) holding
the output-area file, the local-authority file (``laua``) and, in a nested zip, the
postcode files split by postcode area. Each plugin here takes that zip or the CSV itself:

* ``broadband_below_uso`` and ``broadband_no_gigabit``: the output-area file, premises
  weighted, put on wards by areal interpolation through 2021 output-area boundaries;
* ``broadband_below_uso_postcode``: the postcode files, each postcode located by its
  centroid (OS Code-Point Open or the ONS Postcode Directory);
* ``gigabit_broadband`` and ``broadband_below_superfast``: the local-authority file, or as
  a fallback ONS Explore Local Statistics' tidy local-authority file of the same Ofcom
  data, given to each ward and flagged as apportioned.

Ofcom's layouts (column names, CRLF line ends, BOMs) are documented in
``docs/indicators.md``.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from placeportrait.errors import InputError
from placeportrait.plugins import IndicatorPlugin
from placeportrait_indicators import _common as C



OFCOM_ZIP = ("https://www.ofcom.org.uk/siteassets/resources/documents/research-and-data/"
             "multi-sector/infrastructure-research/connected-nations-2025/"
             "202507_fixed_broadband_coverage_r01.zip")
ONS_GIGABIT = C.ons_els_url("gigabit-capable-broadband")
ONS_BELOW_30 = C.ons_els_url("premises-below-30")
CODE_POINT_OPEN = ("https://api.os.uk/downloads/v1/products/CodePointOpen/downloads"
                   "?area=GB&format=CSV&redirect")
OGL = "Open Government Licence v3.0"
OFCOM_ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
                     "Licence v3.0. Source: Ofcom Connected Nations (fixed broadband coverage).")

USO = "% of premises below the USO"
GIGABIT = "Gigabit availability (% premises)"
BELOW_30 = "% of premises unable to receive 30Mbit/s"
PREMISES = "All Premises"

_SHARE_DEPRIVED = ("Share-deprived scaling (baseline 100 %, threshold 0 %) as in Fanning & "
                   "Raworth (2025); social foundation: no premises left out (Raworth 2017; "
                   "DEAL 2020, Creating City Portraits).")


def _release(name: str, default: str) -> str:
    """``202507_fixed_…`` → ``2025-07``: Ofcom names each file after its data month."""
    match = re.search(r"(20\d{2})(0[1-9]|1[0-2])_fixed", Path(name).name)
    return f"{match[1]}-{match[2]}" if match else default


def read_ofcom(path: Path, level: str) -> tuple[pd.DataFrame, Path, str]:
    """The Ofcom table of one level (``oa`` or ``laua``) from a zip or a CSV, with its
    release month. All-premises files are preferred to the residential (``_res_``) ones."""
    path = Path(path)
    original = path
    if zipfile.is_zipfile(path):
        member = {"oa": r"_oa_(res_)?coverage", "laua": r"_laua_(res_)?coverage"}[level]
        path = C.extract(path, member, avoid=r"_res_")
    frame = C.read_table(path)
    return frame, path, _release(path.name, _release(original.name, ""))


class _OfcomPlugin(IndicatorPlugin):
    default_period = "2025-07"

    def _period(self, release: str) -> str:
        return release or self.default_period


# -- output areas ---------------------------------------------------------------------------
class _OutputAreaShare(_OfcomPlugin):
    value_column: str
    complement = False  # True: the file gives the share WITH the service

    def read(self, path: Path) -> pd.DataFrame:
        frame, used, release = read_ofcom(path, "oa")
        code = C.column(frame, used, "output_area", "oa11cd", "oa21cd", "OA")
        share = C.number(frame, C.column(frame, used, self.value_column), used)
        premises = C.number(frame, C.column(frame, used, PREMISES), used)
        if ((share < 0) | (share > 100)).any():
            raise InputError(f"{used}: {self.value_column!r} has values outside 0–100")
        value = 100 - share if self.complement else share
        out = pd.DataFrame({"code": C.codes(frame[code]).to_numpy(),
                            "period": self._period(release),
                            "value": value.to_numpy(),
                            # An output area without premises has no share to weigh.
                            "weight": premises.fillna(0).to_numpy()})
        return C.drop_blank_codes(out)


_OA_COMMON = {
    "version": "1",
    "ring": "social",
    "dimension": "networks",
    "lens": "local-social",
    "unit": "% of premises",
    "polarity": "lower_is_better",
    "geography": "oa2021",
    "measure": {"kind": "intensive", "denominator": "premises (Ofcom 'All Premises')"},
    "periods": ["2025-07"],
    "min_coverage": 0.5,
    # Ofcom's output-area file is UK-wide; Scotland's and Northern Ireland's small areas
    # are not in the England and Wales 2021 output-area boundaries.
    "max_unmatched_share": 0.25,
    "harmonise": {"source_boundaries": "oa-2021"},
}


class BelowUSO(_OutputAreaShare):
    value_column = USO
    metadata = {
        **_OA_COMMON,
        "id": "broadband_below_uso",
        "title": "Premises without decent broadband (below the USO)",
        "description": (
            "Share of premises that cannot get decent broadband, i.e. are below the broadband "
            "Universal Service Obligation (10 Mbit/s down and 1 Mbit/s up), from Ofcom Connected "
            "Nations' output-area file, weighted by Ofcom's count of premises and put on wards "
            "by areal interpolation through 2021 output-area boundaries (load them as boundary "
            "set 'oa-2021'). England and Wales (the output-area boundaries used)."),
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("Broadband Universal Service Obligation: every premises may request "
                         "decent broadband of at least 10 Mbit/s download and 1 Mbit/s upload "
                         "(The Electronic Communications (Universal Service) (Broadband) Order "
                         "2018, SI 2018/445). " + _SHARE_DEPRIVED),
        },
        "source": {"publisher": "Ofcom", "url": OFCOM_ZIP, "licence": OGL,
                   "attribution": OFCOM_ATTRIBUTION},
    }


class NoGigabit(_OutputAreaShare):
    value_column = GIGABIT
    complement = True
    metadata = {
        **_OA_COMMON,
        "id": "broadband_no_gigabit",
        "title": "Premises without gigabit-capable broadband",
        "description": (
            "Share of premises that cannot get a gigabit-capable connection (100 minus Ofcom's "
            "'Gigabit availability (% premises)'), from Ofcom Connected Nations' output-area "
            "file, weighted by premises and put on wards by areal interpolation through 2021 "
            "output-area boundaries (boundary set 'oa-2021'). England and Wales."),
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("UK Government target of nationwide gigabit-capable coverage by 2030 "
                         "(DSIT, Project Gigabit). " + _SHARE_DEPRIVED),
        },
        "source": {"publisher": "Ofcom", "url": OFCOM_ZIP, "licence": OGL,
                   "attribution": OFCOM_ATTRIBUTION},
    }


# -- postcodes ------------------------------------------------------------------------------
def normal_postcode(series: pd.Series) -> pd.Series:
    return series.astype("string").str.upper().str.replace(r"\s+", "", regex=True)


def read_ofcom_postcodes(path: Path) -> tuple[pd.DataFrame, str]:
    """Every postcode row of an Ofcom release: the release zip (postcode files in a nested
    zip), the postcode zip itself, or one area's CSV. Residential-only files are skipped."""
    path = Path(path)
    release = _release(path.name, "")
    if not zipfile.is_zipfile(path):
        return C.read_table(path), release or _release(path.name, "")
    frames = []

    def walk(archive: zipfile.ZipFile):
        nonlocal release
        for name in sorted(archive.namelist()):
            lower = name.lower()
            if lower.endswith(".zip") and "_pc_" in lower:
                with zipfile.ZipFile(io.BytesIO(archive.read(name))) as inner:
                    walk(inner)
            elif lower.endswith(".csv") and "_pc_" in lower and "_res_" not in lower \
                    and "postcode_res_files" not in lower:
                release = release or _release(name, "")
                folder = Path(tempfile.mkdtemp(prefix="placeportrait-"))
                target = folder / Path(name).name
                target.write_bytes(archive.read(name))
                frames.append(C.read_table(target))

    with zipfile.ZipFile(path) as archive:
        walk(archive)
    if not frames:
        raise InputError(f"{path}: no Ofcom postcode files (…_pc_coverage_….csv) in the archive")
    return pd.concat(frames, ignore_index=True), release


def read_postcode_locations(path: Path) -> pd.DataFrame:
    """``postcode, lon, lat`` from OS Code-Point Open (zip of header-less CSVs, eastings and
    northings in EPSG:27700) or an ONS Postcode Directory extract (``pcds, lat, long``)."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        rows = []
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if re.search(r"(^|/)Data/CSV/[^/]+\.csv$", name, re.I):
                    text = archive.read(name).decode("utf-8-sig", errors="replace")
                    part = pd.read_csv(io.StringIO(text), header=None, dtype=str,
                                       keep_default_na=False, usecols=[0, 2, 3])
                    rows.append(part)
            if not rows:
                raise InputError(f"{path}: not OS Code-Point Open (no Data/CSV/*.csv members)")
        table = pd.concat(rows, ignore_index=True)
        table.columns = ["postcode", "easting", "northing"]
        east = pd.to_numeric(table["easting"], errors="coerce")
        north = pd.to_numeric(table["northing"], errors="coerce")
        # Code-Point Open gives 0, 0 to postcodes it cannot locate.
        located = (east > 0) & (north > 0)
        points = gpd.GeoSeries(gpd.points_from_xy(east.where(located), north.where(located)),
                               crs=27700).to_crs(4326)
        lon = np.where(located, points.x, np.nan)
        lat = np.where(located, points.y, np.nan)
        return pd.DataFrame({"postcode": normal_postcode(table["postcode"]).to_numpy(),
                             "lon": lon, "lat": lat})
    frame = C.read_table(path)
    pc = C.column(frame, path, "pcds", "pcd", "pcd2", "postcode")
    lat = C.number(frame, C.column(frame, path, "lat"), path)
    lon = C.number(frame, C.column(frame, path, "long", "lon"), path)
    # The ONS Postcode Directory writes 99.999999 / 0.000000 where a postcode has no grid
    # reference: no location, not a point in the Gulf of Guinea.
    missing = (lat > 90) | ((lat == 0) & (lon == 0))
    return pd.DataFrame({"postcode": normal_postcode(frame[pc]).to_numpy(),
                         "lon": lon.mask(missing).to_numpy(),
                         "lat": lat.mask(missing).to_numpy()})


class BelowUSOPostcode(_OfcomPlugin):
    metadata = {
        "id": "broadband_below_uso_postcode",
        "title": "Postcodes' share of premises without decent broadband",
        "description": (
            "Mean, over the postcodes in each ward, of the share of premises below the "
            "broadband Universal Service Obligation (10 Mbit/s down, 1 Mbit/s up), from Ofcom "
            "Connected Nations' postcode files. Each postcode is placed at its OS Code-Point "
            "Open (or ONS Postcode Directory) centroid. The postcode files give shares but no "
            "premises counts, so every postcode weighs the same. Great Britain with Code-Point "
            "Open (UK with the ONS Postcode Directory)."),
        "version": "1",
        "ring": "social",
        "dimension": "networks",
        "lens": "local-social",
        "unit": "% of premises (mean over postcodes)",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("Broadband Universal Service Obligation (SI 2018/445): decent broadband "
                         "of 10 Mbit/s down and 1 Mbit/s up for every premises. "
                         + _SHARE_DEPRIVED),
        },
        "source": {
            "publisher": "Ofcom; Ordnance Survey (postcode locations)",
            "url": OFCOM_ZIP,
            "licence": OGL,
            "attribution": OFCOM_ATTRIBUTION + " Contains OS data © Crown copyright and "
                           "database right; Royal Mail data © Royal Mail copyright and database "
                           "right; National Statistics data © Crown copyright.",
            "extra": {"postcodes": CODE_POINT_OPEN},
        },
        # Postcode centroids are points: the engine's "postcode" geography is routed to
        # lookups or areal interpolation before its point method (see docs/indicators.md).
        "geography": "points",
        "measure": {"kind": "intensive", "denominator": "postcodes"},
        "periods": ["2025-07"],
        "min_coverage": 0.5,
    }

    def read(self, path: Path, postcodes: Path) -> pd.DataFrame:
        frame, release = read_ofcom_postcodes(path)
        pc = C.column(frame, path, "postcode_space", "postcode")
        share = C.number(frame, C.column(frame, path, USO), path)
        table = pd.DataFrame({"postcode": normal_postcode(frame[pc]).to_numpy(),
                              "code": frame[pc].astype("string").str.strip().to_numpy(),
                              "value": share.to_numpy()})
        where = read_postcode_locations(postcodes).drop_duplicates("postcode")
        table = C.drop_blank_codes(table.merge(where, on="postcode", how="left"))
        # Postcodes the directory cannot place (new, terminated, or without a grid
        # reference) get an empty point, and the engine leaves them out.
        located = table["lon"].notna() & table["lat"].notna()
        points = gpd.points_from_xy(table["lon"].where(located, 0), table["lat"].where(located, 0))
        geometry = gpd.GeoSeries(points, crs=4326).where(located.to_numpy(), None)
        return gpd.GeoDataFrame({"code": table["code"].to_numpy(),
                                 "period": self._period(release),
                                 "value": table["value"].to_numpy()},
                                geometry=geometry.to_numpy(), crs=4326)


# -- local authorities: Ofcom's laua file, or the ONS tidy file as a fallback -----------------
class _LocalAuthorityShare(_OfcomPlugin):
    ofcom_column: str
    ons_indicator: str

    def transform(self, values: pd.Series) -> pd.Series:
        return values

    def read(self, path: Path) -> pd.DataFrame:
        path = Path(path)
        if not zipfile.is_zipfile(path):
            frame = C.read_table(path)
            if C.is_ons_tidy(frame):
                return C.ons_tidy(frame, path, indicator=self.ons_indicator)
        frame, used, release = read_ofcom(path, "laua")
        code = C.column(frame, used, "laua", "lad", "la_code")
        value = self.transform(C.number(frame, C.column(frame, used, self.ofcom_column), used))
        out = pd.DataFrame({"code": C.codes(frame[code]).to_numpy(),
                            "period": self._period(release), "value": value.to_numpy()})
        return C.drop_blank_codes(out)


_LA_SOURCE_NOTE = (" Reads Ofcom's local-authority file (the release zip or its "
                   "…_fixed_laua_coverage_….csv) or, as a fallback, ONS Explore Local "
                   "Statistics' tidy file of the same Ofcom data. A local authority's value is "
                   "given to each of its wards and flagged as apportioned. UK.")


class GigabitBroadband(_LocalAuthorityShare):
    ofcom_column = GIGABIT
    ons_indicator = "Gigabit capable broadband"
    default_period = "2026-01-01"
    metadata = {
        "id": "gigabit_broadband",
        "title": "Premises with gigabit-capable broadband",
        "description": "Share of premises that can get gigabit-capable broadband, by local "
                       "authority (Ofcom Connected Nations)." + _LA_SOURCE_NOTE,
        "version": "2",
        "ring": "social",
        "dimension": "networks",
        "lens": "local-social",
        "unit": "% of premises",
        "polarity": "higher_is_better",
        "threshold": {
            "value": 100, "baseline": 0,
            "citation": ("UK Government target of nationwide gigabit-capable coverage by 2030 "
                         "(DSIT, Project Gigabit); every premises connected is the social "
                         "foundation."),
        },
        "source": {
            "publisher": "Ofcom Connected Nations via ONS Explore Local Statistics",
            "url": ONS_GIGABIT,
            "licence": OGL,
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. Source: Ofcom Connected Nations; Office "
                            "for National Statistics."),
        },
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "premises"},
        "periods": ["2026-01-01"],
        "min_coverage": 0.5,
    }


class BelowSuperfast(_LocalAuthorityShare):
    ofcom_column = BELOW_30
    ons_indicator = "Premises below 30Mbps"
    default_period = "2026-01-01"
    metadata = {
        "id": "broadband_below_superfast",
        "title": "Premises without superfast broadband (below 30 Mbit/s)",
        "description": "Share of premises that cannot get a download speed of 30 Mbit/s or "
                       "more, by local authority (Ofcom Connected Nations)." + _LA_SOURCE_NOTE,
        "version": "1",
        "ring": "social",
        "dimension": "networks",
        "lens": "local-social",
        "unit": "% of premises",
        "polarity": "lower_is_better",
        "threshold": {
            "value": 0, "baseline": 100,
            "citation": ("Superfast broadband (30 Mbit/s or more) for every premises, the aim "
                         "of the UK superfast broadband programme (BDUK). " + _SHARE_DEPRIVED),
        },
        "source": {
            "publisher": "Ofcom Connected Nations via ONS Explore Local Statistics",
            "url": ONS_BELOW_30,
            "licence": OGL,
            "attribution": ("Contains public sector information licensed under the Open "
                            "Government Licence v3.0. Source: Ofcom Connected Nations; Office "
                            "for National Statistics."),
        },
        "geography": "lad",
        "measure": {"kind": "intensive", "denominator": "premises"},
        "periods": ["2026-01-01"],
        "min_coverage": 0.5,
    }
