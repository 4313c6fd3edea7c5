"""Inside a ward: the small areas an indicator was published for, with their own values.

Most sources are published for small areas (LSOAs, data zones, ...) and reach a ward by a
lookup or by area (:mod:`placeportrait.harmonise`). A run keeps the source's rows as
published (:func:`source_level`, table ``source_values``), so a planner can see which
neighbourhoods of a ward drive its value, on the ward map's scale.

Which small areas are in a ward is decided by geometry, from a boundary set in the store
that holds the source's codes (:func:`source_set`): the pieces of each small area inside
the ward, less the slivers that generalised boundaries of two vintages leave along shared
edges (the harmonisation's rule, :func:`placeportrait.harmonise.area_weighted.sliver_pieces`:
a piece under 1 % of both the small area and the ward is boundary noise).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from placeportrait.harmonise import distinct
from placeportrait.harmonise.area_weighted import SLIVER_SHARE
from placeportrait.store.schema import AREA_CRS

SMALL_AREAS = ("lsoa", "msoa", "oa", "dz", "soa", "sdz")
SOURCE_COLUMNS = ["source_code", "period", "value"]


def is_small_area(geography: str) -> bool:
    """A geography of small areas (``lsoa2021``, ``dz2011``, ...), not a ward or authority."""
    return geography.rstrip("0123456789") in SMALL_AREAS


def source_level(table: pd.DataFrame, geography: str) -> pd.DataFrame | None:
    """The rows of a loaded source table to keep as published (``source_code, period,
    value``), or None when the source is not published for small areas. A suppressed or
    missing value stays NaN: no data, never zero."""
    if not is_small_area(geography) or "code" not in table:
        return None
    rows = pd.DataFrame({"source_code": table["code"].astype(str),
                         "period": table["period"].astype(str),
                         "value": pd.to_numeric(table["value"], errors="coerce")})
    return rows.drop_duplicates(["source_code", "period"], keep="last").reset_index(drop=True)


def source_set(sets: dict[str, frozenset], codes) -> str | None:
    """The boundary set (name → its codes) sharing most codes with ``codes``, if at least
    half of the smaller of the two are shared: a national source finds a set of one
    authority's LSOAs, and a local source a national set; None if no set is of its kind."""
    codes = distinct(codes)
    if not codes or not sets:
        return None
    shared = {name: len(codes & held) for name, held in sets.items()}
    best = max(shared, key=shared.get)
    if shared[best] == 0 or shared[best] < min(len(codes), len(sets[best])) / 2:
        return None
    return best


def pieces(ward: gpd.GeoSeries, sources: gpd.GeoDataFrame,
           share: float = SLIVER_SHARE) -> pd.DataFrame:
    r"""The small areas of ``sources`` (``code`` + geometry) inside the ward (a one-row
    GeoSeries), with the share of each small area's ground in the ward,
    :math:`|i \cap w| / |i|`, and the share of the ward's ground it covers,
    :math:`|i \cap w| / |w|`, both measured in EPSG:27700. Slivers are left out.

    Pass ``sources`` already in EPSG:27700 to reuse their spatial index across wards.
    """
    columns = ["code", "share_of_area", "share_of_ward"]
    metric = sources if sources.crs == AREA_CRS else sources.to_crs(AREA_CRS)
    ward_m = ward.to_crs(AREA_CRS).iloc[0]
    near = metric.sindex.query(ward_m, predicate="intersects")
    if len(near) == 0:
        return pd.DataFrame(columns=columns)
    candidates = metric.iloc[near]
    inter = shapely.area(shapely.intersection(candidates.geometry.values, ward_m))
    source_area = shapely.area(candidates.geometry.values)
    # the harmonisation's sliver rule (area_weighted.sliver_pieces), for one ward
    drop = ((inter < share * source_area) & (inter < share * ward_m.area)) | (inter <= 0)
    out = pd.DataFrame({"code": candidates["code"].to_numpy(),
                        "share_of_area": inter / source_area,
                        "share_of_ward": inter / ward_m.area})
    return out.loc[~drop].sort_values("share_of_ward", ascending=False).reset_index(drop=True)
