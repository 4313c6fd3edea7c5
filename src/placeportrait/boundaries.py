"""Reading, checking and preparing boundary sets.

A boundary source is anything pyogrio reads: GeoJSON, GeoPackage, a zipped Shapefile,
a URL (including the ONS Open Geography Portal's services). ONS field names
(``WD23CD``, ``WD23NM``, ``LAD23CD`` …) are detected; other names are given as
options. Everything is checked before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml
from pyproj import CRS
from pyproj.exceptions import CRSError

from placeportrait import compressed, config, regular_files
from placeportrait.errors import BoundaryError, FetchError, InputError, UnknownNameError
from placeportrait.store.schema import AREA_CRS, STORE_CRS

# ONS prefixes of each geography level's code fields, most specific first.
LEVEL_PREFIXES = {
    "ward": ("WD",),
    "lad": ("LAD", "LTLA"),
    "lsoa": ("LSOA",),
    "msoa": ("MSOA",),
    "oa": ("OA",),
    "county": ("CTY", "UTLA"),
    "region": ("RGN",),
    "country": ("CTRY",),
}
PARENT_LEVEL = {"ward": "lad", "lsoa": "lad", "msoa": "lad", "oa": "lsoa", "lad": "region"}
GENERIC_CODE = ("area_code", "code", "areacd")
GENERIC_NAME = ("area_name", "name", "areanm")
GENERIC_PARENT = ("local_authority_area_code", "parent_code", "lad_code")
CATALOGUE_ENV = "PLACEPORTRAIT_BOUNDARY_CATALOGUE"


@dataclass
class PreparedBoundaries:
    """A checked boundary set, ready for ``Store.replace_boundary_set``."""

    areas: gpd.GeoDataFrame
    meta: dict
    repaired: list[str] = field(default_factory=list)


def _ons_field(columns, prefixes, suffix) -> list[str]:
    pattern = re.compile(rf"^({'|'.join(prefixes)})(\d{{2}})({suffix})$", re.IGNORECASE)
    return [c for c in columns if pattern.match(c)]


def detect_fields(columns, level: str, code_field=None, name_field=None, parent_field=None,
                  *, source: str = "source") -> tuple[str, str | None, str | None]:
    """Pick the code, name and parent columns, by option, ONS name or common name."""
    columns = list(columns)
    lower = {c.lower(): c for c in columns}

    def given(option, value):
        if value is None:
            return None
        if value not in columns:
            raise BoundaryError(
                f"{source}: no column {value!r} ({option}); columns are {', '.join(columns)}"
            )
        return value

    def pick(candidates, generic, what, option, required):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise BoundaryError(
                f"{source}: several possible {what} columns ({', '.join(candidates)}); "
                f"choose one with {option}"
            )
        for name in generic:
            if name in lower:
                return lower[name]
        if required:
            raise BoundaryError(
                f"{source}: no {what} column found for level {level!r}; columns are "
                f"{', '.join(columns)}; name it with {option}"
            )
        return None

    prefixes = LEVEL_PREFIXES.get(level, ())
    code = given("--code-field", code_field) or pick(
        _ons_field(columns, prefixes, "CD"), GENERIC_CODE, "code", "--code-field", True)
    name = given("--name-field", name_field) or pick(
        _ons_field(columns, prefixes, "NM"), GENERIC_NAME, "name", "--name-field", False)
    parent = given("--parent-field", parent_field)
    if parent is None and level in PARENT_LEVEL:
        parent = pick(_ons_field(columns, LEVEL_PREFIXES[PARENT_LEVEL[level]], "CD"),
                      GENERIC_PARENT, "parent", "--parent-field", False)
    return code, name, parent


def infer_vintage(code_field: str) -> str | None:
    """``WD23CD`` → ``"2023"``."""
    m = re.match(r"^[A-Za-z]+(\d{2})CD$", code_field)
    return f"20{m.group(1)}" if m else None


def read_source(source: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a boundary file or URL; any failure is one line naming the source."""
    if not re.match(r"^[a-z]+://", source) and not source.startswith("/vsi"):
        if not Path(source).exists():
            raise BoundaryError(f"{source}: no such file")
        if not Path(source).is_dir():  # a shapefile folder or a GDB is read as one source
            regular_files.check_input(source, "boundary file")
    # GDAL reads zip archives itself; a gzipped file (x.geojson.gz) goes through /vsigzip/.
    readable = f"/vsigzip/{Path(source).resolve()}" if compressed.is_gzip(source) else source
    try:
        return pyogrio.read_dataframe(readable, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = str(exc).splitlines()[0]
        if source.startswith(("http://", "https://")):
            raise FetchError(f"cannot download {source}: {reason}") from None
        raise BoundaryError(f"{source}: cannot read as a boundary file: {reason}") from None
    except ValueError as exc:
        raise BoundaryError(f"{source}: cannot read as a boundary file: {exc}") from None


def _check_crs(gdf: gpd.GeoDataFrame, source: str) -> CRS:
    if gdf.crs is None:
        raise BoundaryError(
            f"{source}: has no coordinate reference system; set one (e.g. EPSG:27700) in the file"
        )
    try:
        crs = CRS.from_user_input(gdf.crs)
    except CRSError as exc:
        raise BoundaryError(f"{source}: unknown coordinate reference system: {exc}") from None
    if crs.is_geographic and crs.to_epsg() not in (4326, 4258, 4277) and not crs.equals("OGC:CRS84"):
        raise BoundaryError(f"{source}: unsupported geographic CRS {crs.name}")
    return crs


def check_uk_bounds(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Catch coordinates whose CRS is mislabelled, e.g. metres labelled as degrees."""
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-15 <= minx and maxx <= 5 and 48 <= miny and maxy <= 62):
        raise InputError(
            f"{source}: coordinates ({minx:.1f}, {miny:.1f}, {maxx:.1f}, {maxy:.1f}) in "
            f"{STORE_CRS} lie outside the UK; is the file's CRS declared correctly?"
        )


# The smallest real UK statistical or administrative area is thousands of square metres
# (the smallest ward of December 2023 is 2.4 ha, an output area about 0.1 ha). Degrees
# labelled as British National Grid metres give areas of a few thousandths of a square
# metre near the grid's origin in the sea off Scilly, inside the UK's bounding box.
MIN_AREA_M2 = 10.0


def check_plausible_areas(areas_m2: pd.Series, codes: pd.Series, source: str) -> None:
    """Refuse a set with an area too small to be a real one, naming the first."""
    tiny = np.flatnonzero(areas_m2.to_numpy() < MIN_AREA_M2)
    if len(tiny):
        first = tiny[0]
        raise BoundaryError(
            f"{source}: area {codes.iloc[first]} covers {areas_m2.iloc[first]:.3g} m² "
            f"({len(tiny)} areas under {MIN_AREA_M2:g} m²): no UK area is that small; are "
            "degree coordinates labelled as metres (EPSG:27700)?"
        )


# A code is a path segment (/ward/<code>) and part of a report's file name, so it may hold
# only letters, digits and ``_ . -``, and start with a letter or digit.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def normalise_codes(raw: pd.Series) -> pd.Series:
    """Codes as text in Unicode NFKC form (fullwidth ``Ｅ０５`` is ``E05``), without
    format characters such as zero-width spaces, and stripped of white space."""
    import unicodedata

    def clean(code):
        if pd.isna(code):
            return code
        text = unicodedata.normalize("NFKC", str(code))
        return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()

    return raw.astype("string").map(clean, na_action="ignore").astype("string")


def check_codes(codes: pd.Series, code_col: str, source: str) -> None:
    """Refuse codes a URL or a file name cannot carry, and codes that differ only by case
    (one ward to a reader, two to the store)."""
    bad = codes[~codes.str.fullmatch(CODE_PATTERN).fillna(False).astype(bool)]
    if len(bad):
        raise BoundaryError(
            f"{source}: {len(bad)} codes in {code_col} are not letters, digits, '_', '.' or "
            f"'-' (up to 64, starting with a letter or digit), e.g. {bad.iloc[0]!r}")
    folded = codes.str.upper()
    clash = codes[folded.duplicated(keep=False)]
    if len(clash):
        examples = ", ".join(sorted(clash)[:4])
        raise BoundaryError(f"{source}: codes in {code_col} differ only by case: {examples}")


def _repair(geoms: np.ndarray, codes: pd.Series, source: str) -> tuple[np.ndarray, list[str]]:
    """``make_valid`` what is invalid, keep polygonal parts, and report which codes."""
    invalid = ~shapely.is_valid(geoms)
    repaired_codes = list(codes[invalid])
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    out = []
    for code, geom in zip(codes, geoms):
        polys = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]
        if not polys:
            raise BoundaryError(f"{source}: area {code} has no polygon geometry ({geom.geom_type})")
        out.append(shapely.MultiPolygon(polys))
    return np.array(out, dtype=object), repaired_codes


def prepare(gdf: gpd.GeoDataFrame, *, name: str, level: str, source: str, code_field=None,
            name_field=None, parent_field=None, vintage=None, licence=None,
            attribution=None) -> PreparedBoundaries:
    """Check a boundary frame and shape it for the store.

    Raises ``BoundaryError`` (one line naming ``source``) for: no features, no
    geometry, no or unknown CRS, missing code column, empty or duplicate codes,
    non-polygon geometry. Invalid polygons are repaired with ``make_valid`` and listed.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise BoundaryError(f"{source}: has no geometry")
    if len(gdf) == 0:
        raise BoundaryError(f"{source}: contains no features")
    if gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        raise BoundaryError(f"{source}: has no geometry")
    crs = _check_crs(gdf, source)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col, name_col, parent_col = detect_fields(
        columns, level, code_field, name_field, parent_field, source=source)

    codes = normalise_codes(gdf[code_col])
    blank = codes.isna() | (codes == "")
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank)[:5])
        raise BoundaryError(f"{source}: {int(blank.sum())} features have no {code_col} (rows {rows})")
    dup = codes[codes.duplicated(keep=False)]
    if len(dup):
        examples = ", ".join(sorted(dup.unique())[:5])
        raise BoundaryError(
            f"{source}: {dup.nunique()} duplicate codes in {code_col}: {examples}")
    check_codes(codes, code_col, source)
    missing_geom = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing_geom.any():
        raise BoundaryError(
            f"{source}: area {codes[missing_geom].iloc[0]} has no geometry "
            f"({int(missing_geom.sum())} in all)")

    geoms, repaired = _repair(gdf.geometry.values.to_numpy() if hasattr(gdf.geometry.values, "to_numpy")
                              else np.asarray(gdf.geometry.values), codes.reset_index(drop=True), source)
    shaped = gpd.GeoDataFrame(
        {
            "code": codes.to_numpy(dtype=object),
            "name": gdf[name_col].astype("string").str.strip().to_numpy(dtype=object) if name_col else None,
            "level": level,
            "parent_code": gdf[parent_col].astype("string").str.strip().to_numpy(dtype=object) if parent_col else None,
        },
        geometry=geoms,
        crs=crs,
    )
    if not crs.equals(CRS.from_user_input(STORE_CRS)):
        shaped = shaped.to_crs(STORE_CRS)
    check_uk_bounds(shaped, source)
    shaped["area_m2"] = shaped.geometry.to_crs(AREA_CRS).area.to_numpy()
    check_plausible_areas(shaped["area_m2"], shaped["code"], source)
    meta = {
        "name": name,
        "level": level,
        "vintage": vintage or infer_vintage(code_col),
        "source": source,
        "source_checksum": fingerprint(shaped),
        "licence": licence,
        "attribution": attribution,
        "source_crs": crs.to_string(),
        "code_field": code_col,
        "name_field": name_col,
        "parent_field": parent_col,
        "repaired_geometries": len(repaired),
    }
    return PreparedBoundaries(shaped, meta, repaired)


def fingerprint(gdf: gpd.GeoDataFrame, code_col: str = "code") -> str:
    """SHA-256 of codes and geometry WKB: identifies a geometry set whatever its file."""
    h = hashlib.sha256()
    order = np.argsort(gdf[code_col].to_numpy(dtype=str))
    for code, wkb in zip(gdf[code_col].to_numpy(dtype=str)[order],
                         shapely.to_wkb(gdf.geometry.values, output_dimension=2)[order]):
        h.update(code.encode())
        h.update(wkb)
    return h.hexdigest()


# -- the catalogue of ONS sets -------------------------------------------------------------
def catalogue_path() -> Path:
    import os

    if os.environ.get(CATALOGUE_ENV):
        return Path(os.environ[CATALOGUE_ENV])
    return Path(__file__).resolve().parents[2] / "boundaries" / "catalogue.yaml"


def load_catalogue() -> dict[str, dict]:
    path = catalogue_path()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BoundaryError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return {entry["name"]: entry for entry in data.get("sets", [])}


def catalogue_entry(name: str) -> dict:
    entries = load_catalogue()
    if name not in entries:
        raise UnknownNameError(
            f"{name!r} is neither a file nor a catalogue entry (catalogue: {', '.join(entries) or 'empty'})"
        )
    return entries[name]


def fetch_catalogue_source(entry: dict) -> tuple[gpd.GeoDataFrame, str]:
    """Read a catalogue set from its URL, caching what was read for offline reuse.

    The ONS services page their results, which GDAL follows; the cache keeps the
    assembled layer as a GeoPackage beside a JSON record of URL, time and checksum.
    """
    from datetime import datetime, timezone

    url = entry["url"]
    cache = config.cache_dir() / "boundaries"
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    cached, record = cache / f"{entry['name']}-{key}.gpkg", cache / f"{entry['name']}-{key}.json"
    if cached.exists():
        return pyogrio.read_dataframe(cached), str(cached)
    gdf = read_source(url)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.gpkg")
    pyogrio.write_dataframe(gdf, tmp)
    tmp.replace(cached)
    record.write_text(json.dumps({
        "url": url, "retrieved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(cached.read_bytes()).hexdigest(), "features": len(gdf),
    }, indent=2))
    return gdf, url
