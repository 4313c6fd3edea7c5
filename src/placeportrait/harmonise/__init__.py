"""Put indicator values onto target areas (wards): pure functions, no database.

Every method returns a DataFrame with one row per target area and the columns
``area_code, value, coverage, source_rows, method, denominator, apportioned``:

* ``coverage`` (0..1) is the share of the target's area (lookups: its population or
  denominator; points: its points) that had source data;
* a target below the caller's ``min_coverage`` gets ``value = NaN`` ("no data"),
  never a guess and never 0; a missing source value is no data, never 0;
* ``denominator`` is filled where it is meaningful (weighted intensive values), so
  results can be re-aggregated; ``apportioned`` is True only for :func:`apportion`.

Diagnostics (unmatched codes, points outside every area, repaired geometries) are
in ``result.attrs``.

Which method :func:`choose_method` picks
----------------------------------------

==============================  ===============  ==============  ==================
source geography                target ``ward``  target ``lad``  why
==============================  ===============  ==============  ==================
``ward``                        code_match       lookup          same codes; wards
                                                                 nest in LADs
``oa2011`` ``oa2021``           lookup           lookup          ONS best-fit
``lsoa2011`` ``lsoa2021``                                        lookups; units far
                                                                 smaller than wards
``msoa2011`` ``msoa2021``       area_weighted    lookup          MSOAs are ward-
                                                                 sized and do not
                                                                 nest in wards
``lad``                         apportion        code_match      coarser than wards
``postcode`` ``points``         points           points          located by centroid
``grid``                        zonal_grid       zonal_grid      1 km polygon cells
``raster``                      zonal_raster     zonal_raster    GeoTIFF
==============================  ===============  ==============  ==================

The measure kind does not change the method, only its maths: ``extensive`` values
(counts, totals) are summed or split, ``intensive`` values (rates, shares, means)
are averaged with weights. Wards of another vintage are polygons, not codes: use
``area_weighted``.
"""

from __future__ import annotations

from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    EXTENSIVE,
    INTENSIVE,
    RESULT_COLUMNS,
    check_kind,
    distinct,
)
from placeportrait.harmonise.apportion import apportion
from placeportrait.harmonise.area_weighted import (
    AREA_CRS,
    CROSSWALK_COLUMNS,
    CROSSWALK_VERSION,
    CrosswalkMatrix,
    apply_crosswalk,
    area_weighted_interpolate,
    crosswalk,
    geometry_fingerprint,
    prepare_crosswalk,
)
from placeportrait.harmonise.code_match import code_match
from placeportrait.harmonise.plan import Facts, LookupRoute, Plan, Step, plan_route
from placeportrait.harmonise.steps import Context, execute
from placeportrait.harmonise.lookup import lookup_aggregate, lookup_table
from placeportrait.harmonise.points import as_points, points_to_areas
from placeportrait.harmonise.zonal import zonal_grid, zonal_raster
from placeportrait.errors import HarmoniseError

__all__ = [
    "AREA_CRS",
    "Context",
    "Facts",
    "LookupRoute",
    "Plan",
    "Step",
    "execute",
    "plan_route",
    "CROSSWALK_COLUMNS",
    "CROSSWALK_VERSION",
    "CrosswalkMatrix",
    "DEFAULT_MIN_COVERAGE",
    "EXTENSIVE",
    "INTENSIVE",
    "METHODS",
    "METHOD_TABLE",
    "RESULT_COLUMNS",
    "SOURCE_GEOGRAPHIES",
    "TARGET_LEVELS",
    "apply_crosswalk",
    "apportion",
    "area_weighted_interpolate",
    "as_points",
    "choose_method",
    "code_match",
    "crosswalk",
    "distinct",
    "geometry_fingerprint",
    "lookup_aggregate",
    "lookup_table",
    "points_to_areas",
    "prepare_crosswalk",
    "zonal_grid",
    "zonal_raster",
]

#: (source geography, target level) -> method id; the table in the module docstring.
METHOD_TABLE: dict[tuple[str, str], str] = {}
for _src, _ward, _lad in [
    ("ward", "code_match", "lookup"),
    ("oa2011", "lookup", "lookup"),
    ("oa2021", "lookup", "lookup"),
    ("lsoa2011", "lookup", "lookup"),
    ("lsoa2021", "lookup", "lookup"),
    ("msoa2011", "area_weighted", "lookup"),
    ("msoa2021", "area_weighted", "lookup"),
    ("dz2011", "area_weighted", "area_weighted"),
    ("dz2022", "area_weighted", "area_weighted"),
    ("soa2001", "area_weighted", "area_weighted"),
    ("sdz2021", "area_weighted", "area_weighted"),
    ("lad", "apportion", "code_match"),
    ("postcode", "points", "points"),
    ("points", "points", "points"),
    ("grid", "zonal_grid", "zonal_grid"),
    ("raster", "zonal_raster", "zonal_raster"),
]:
    METHOD_TABLE[(_src, "ward")] = _ward
    METHOD_TABLE[(_src, "lad")] = _lad

SOURCE_GEOGRAPHIES = tuple(dict.fromkeys(src for src, _ in METHOD_TABLE))
TARGET_LEVELS = ("ward", "lad")

#: Method id -> the function that implements it (for ``area_weighted`` the one-off
#: form; with a cached crosswalk call :func:`apply_crosswalk`).
METHODS = {
    "code_match": code_match,
    "lookup": lookup_aggregate,
    "area_weighted": area_weighted_interpolate,
    "zonal_raster": zonal_raster,
    "zonal_grid": zonal_grid,
    "points": points_to_areas,
    "apportion": apportion,
}


def choose_method(source_geography: str, target_level: str, measure_kind: str) -> str:
    """Pick the harmonisation method for a source geography and measure kind.

    Parameters
    ----------
    source_geography : str
        One of ``ward, lsoa2011, lsoa2021, oa2011, oa2021, msoa2011, msoa2021, lad,
        postcode, grid, raster, points`` (case-insensitive).
    target_level : str
        ``ward`` (or ``lad``).
    measure_kind : {'extensive', 'intensive'}
        Validated here; it selects the maths inside the method, not the method.

    Returns
    -------
    str
        A key of :data:`METHODS`.
    """
    check_kind(measure_kind)
    src = str(source_geography).strip().lower()
    tgt = str(target_level).strip().lower()
    if tgt not in TARGET_LEVELS:
        raise HarmoniseError(
            f"unknown target level {target_level!r}; expected one of {', '.join(TARGET_LEVELS)}"
        )
    try:
        return METHOD_TABLE[(src, tgt)]
    except KeyError:
        raise HarmoniseError(
            f"unknown source geography {source_geography!r}; "
            f"expected one of {', '.join(SOURCE_GEOGRAPHIES)}"
        ) from None
