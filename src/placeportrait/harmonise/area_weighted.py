"""Areal interpolation through a cacheable source-to-target crosswalk.

The work splits in two:

* :func:`crosswalk` intersects every source polygon with every target polygon it
  touches and records the areas. This is the expensive step (seconds to minutes
  nationally); it depends only on the two geometry sets, so callers cache it under
  ``(geometry_fingerprint(source), geometry_fingerprint(targets), CROSSWALK_VERSION)``.
* :func:`apply_crosswalk` turns one column of source values into target values with
  two sparse matrix products, in milliseconds.

The intersection step follows ``tobler.area_weighted._area_tables_binning`` (an
STR-tree query with ``predicate="intersects"``, then pairwise intersection areas)
but is guarded where tobler is not: tobler returns ``None`` when the CRSs differ,
stores areas as float32, and its ``area_interpolate`` replaces NaN by 0. Here a
missing or mismatched CRS is an error, areas are float64 square metres in
EPSG:27700, invalid polygons are repaired (and reported), and a missing source
value stays missing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise._common import (
    DEFAULT_MIN_COVERAGE,
    EXTENSIVE,
    check_crs,
    check_kind,
    check_min_coverage,
    clean_codes,
    crs_name,
    finish,
    value_series,
    weight_series,
)

log = logging.getLogger(__name__)

METHOD = "area_weighted"

#: Equal-area-enough for Great Britain: the British National Grid's scale error is
#: under 0.04 %, so areas (and, more to the point, area *ratios*) are sound.
AREA_CRS = "EPSG:27700"

#: Bump when the crosswalk's content changes for the same inputs, so cached
#: crosswalks keyed on it are recomputed.
CROSSWALK_VERSION = 1

#: A source-target piece smaller than this share of both its source and its target
#: is boundary noise (see :func:`sliver_pieces`).
SLIVER_SHARE = 0.01

CROSSWALK_COLUMNS = [
    "source_code",
    "area_code",
    "intersection_area_m2",
    "source_area_m2",
    "target_area_m2",
]


def geometry_fingerprint(gdf: gpd.GeoDataFrame, code_col: str) -> str:
    """A stable SHA-256 of a boundary set, for crosswalk cache keys.

    Hashes the CRS, then for each row in code order the code and the WKB of the
    normalised 2-D geometry (little-endian). Normalising makes the hash independent
    of ring start point, ring orientation and row order, so the same boundaries read
    from GeoJSON or GeoPackage hash alike; any moved vertex changes it.

    Parameters
    ----------
    gdf : GeoDataFrame
    code_col : str
        Column holding the area codes.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    if code_col not in gdf.columns:
        raise HarmoniseError(f"no column {code_col!r} to fingerprint")
    codes = clean_codes(gdf[code_col], "fingerprinted layer").to_numpy()
    order = np.argsort(codes, kind="stable")
    geoms = shapely.normalize(np.asarray(gdf.geometry.values)[order])
    wkbs = shapely.to_wkb(geoms, output_dimension=2, byte_order=1, include_srid=False)
    h = hashlib.sha256(b"placeportrait-geometry-v1\0")
    h.update((crs_name(gdf.crs) if gdf.crs is not None else "no-crs").encode())
    for code, wkb in zip(codes[order], wkbs):
        c = str(code).encode()
        w = wkb if wkb is not None else b""
        h.update(len(c).to_bytes(4, "little") + c + len(w).to_bytes(8, "little") + w)
    return h.hexdigest()


def _projected_geoms(gdf: gpd.GeoDataFrame, area_crs: str, what: str):
    """Geometries in ``area_crs``, invalid ones repaired to their polygonal part.

    Published generalised boundaries are sometimes invalid (self-touching rings);
    GEOS would raise or give a wrong intersection, so they are repaired with
    ``make_valid(method="structure")``, which keeps area and drops collapsed lines.
    """
    geoms = np.array(gdf.to_crs(area_crs).geometry.values, dtype=object)  # a writable copy
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = set(shapely.get_type_id(geoms[~missing]).tolist()) - {3, 6, 7}  # polygonal, collections
    if kinds:
        names = ", ".join(sorted(shapely.GeometryType(k).name for k in kinds))
        raise HarmoniseError(
            f"{what} has non-polygon geometries ({names}); areal weighting needs polygons"
        )
    bad = ~missing & ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        log.info("%s: repaired %d invalid geometries", what, int(bad.sum()))
    geoms[missing] = shapely.Polygon()
    return geoms, bad, missing


def _intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return shapely.area(shapely.intersection(a, b))
    except shapely.errors.GEOSException:
        # Rare topology failures on nearly-degenerate rings: retry the pairs one by
        # one on a 1 mm precision grid, which GEOS can always node.
        out = np.empty(len(a))
        for k, (g1, g2) in enumerate(zip(a, b)):
            try:
                out[k] = shapely.intersection(g1, g2).area
            except shapely.errors.GEOSException:
                out[k] = shapely.intersection(g1, g2, grid_size=1e-3).area
        return out


def crosswalk(
    source_gdf: gpd.GeoDataFrame,
    source_code_col: str,
    target_gdf: gpd.GeoDataFrame,
    target_code_col: str = "code",
    *,
    area_crs: str = AREA_CRS,
) -> pd.DataFrame:
    """Intersection areas between source and target polygons.

    For every source :math:`i` and target :math:`w` that overlap, records
    :math:`|i \\cap w|`, :math:`|i|` and :math:`|w|` in square metres (areas taken
    in ``area_crs``). So that the table alone is enough to apply later, it also has
    one row with ``area_code = NA`` for each source that overlaps no target and one
    row with ``source_code = NA`` for each target that overlaps no source (both with
    intersection area 0).

    Parameters
    ----------
    source_gdf : GeoDataFrame
        Source polygons, with a CRS.
    source_code_col : str
        Column of unique source codes.
    target_gdf : GeoDataFrame
        Target polygons (wards), in the same CRS as the sources.
    target_code_col : str
        Column of unique target codes.
    area_crs : str
        Equal-area (or near) CRS used for areas; EPSG:27700 for the UK.

    Returns
    -------
    DataFrame
        Columns ``source_code, area_code, intersection_area_m2, source_area_m2,
        target_area_m2``. ``attrs`` lists ``repaired_source_geometries``,
        ``repaired_target_geometries`` and ``empty_source_geometries``.

    Raises
    ------
    HarmoniseError
        A layer has no CRS, the CRSs differ, codes are missing or duplicated, or no
        source overlaps any target (almost always a mislabelled CRS).
    """
    check_crs(source_gdf, target_gdf, "source layer", "target layer")
    for gdf, col, what in (
        (source_gdf, source_code_col, "source layer"),
        (target_gdf, target_code_col, "target layer"),
    ):
        if col not in gdf.columns:
            raise HarmoniseError(f"{what} has no column {col!r}")
    s_codes = clean_codes(source_gdf[source_code_col], "source layer").to_numpy()
    t_codes = clean_codes(target_gdf[target_code_col], "target layer").to_numpy()
    for codes, what in ((s_codes, "source layer"), (t_codes, "target layer")):
        dup = pd.Index(codes).duplicated()
        if dup.any():
            raise HarmoniseError(
                f"{what} has {int(dup.sum())} duplicate codes (e.g. {codes[dup][0]})"
            )

    src, s_bad, s_missing = _projected_geoms(source_gdf, area_crs, "source layer")
    tgt, t_bad, _ = _projected_geoms(target_gdf, area_crs, "target layer")
    s_area = shapely.area(src)
    t_area = shapely.area(tgt)

    # Index the longer side and query with the shorter, as tobler's "auto" does.
    if len(src) >= len(tgt):
        i_src, i_tgt = shapely.STRtree(src).query(tgt, predicate="intersects")[::-1]
    else:
        i_src, i_tgt = shapely.STRtree(tgt).query(src, predicate="intersects")
    inter = _intersection_areas(src[i_src], tgt[i_tgt])
    keep = inter > 0  # boundary-only contacts carry no area
    i_src, i_tgt, inter = i_src[keep], i_tgt[keep], inter[keep]
    if len(inter) == 0:
        raise HarmoniseError(
            "no source polygon overlaps any target polygon "
            f"(both labelled {crs_name(source_gdf.crs)}); "
            "check that the coordinates really are in that CRS"
        )

    lonely_src = np.setdiff1d(np.arange(len(src)), i_src)
    lonely_tgt = np.setdiff1d(np.arange(len(tgt)), i_tgt)
    s_col = np.concatenate([s_codes[i_src], s_codes[lonely_src], np.full(len(lonely_tgt), None)])
    t_col = np.concatenate([t_codes[i_tgt], np.full(len(lonely_src), None), t_codes[lonely_tgt]])
    out = pd.DataFrame(
        {
            "source_code": pd.array(s_col, dtype="str"),
            "area_code": pd.array(t_col, dtype="str"),
            "intersection_area_m2": np.concatenate(
                [inter, np.zeros(len(lonely_src) + len(lonely_tgt))]
            ),
            "source_area_m2": np.concatenate(
                [s_area[i_src], s_area[lonely_src], np.full(len(lonely_tgt), np.nan)]
            ),
            "target_area_m2": np.concatenate(
                [t_area[i_tgt], np.full(len(lonely_src), np.nan), t_area[lonely_tgt]]
            ),
        },
        columns=CROSSWALK_COLUMNS,
    )
    out = out.sort_values(["source_code", "area_code"], na_position="last", ignore_index=True)
    out.attrs = {
        "repaired_source_geometries": sorted(s_codes[s_bad]),
        "repaired_target_geometries": sorted(t_codes[t_bad]),
        "empty_source_geometries": sorted(s_codes[s_missing]),
        "area_crs": area_crs,
        "crosswalk_version": CROSSWALK_VERSION,
    }
    return out


@dataclass(frozen=True)
class CrosswalkMatrix:
    """A crosswalk in matrix form, for applying many variables to one crosswalk.

    ``areas_t[w, i]`` is :math:`|i \\cap w|` (CSR, float64, targets x sources);
    ``kept_t`` is the same without slivers (see :func:`sliver_pieces`) and
    ``touches_t`` its 0/1 pattern; ``source_area`` and ``target_area`` are
    :math:`|i|` and :math:`|w|`; ``source_scale`` is :math:`S_i / K_i`, the
    source's area inside any target over its area in kept pieces.
    """

    areas_t: sparse.csr_matrix
    kept_t: sparse.csr_matrix
    touches_t: sparse.csr_matrix
    source_codes: pd.Index
    target_codes: pd.Index
    source_area: np.ndarray
    target_area: np.ndarray
    source_scale: np.ndarray
    slivers: int


def sliver_pieces(
    inter: np.ndarray,
    source_area: np.ndarray,
    target_area: np.ndarray,
    source_index: np.ndarray,
    n_sources: int,
    share: float = SLIVER_SHARE,
) -> np.ndarray:
    """Which source-target pieces are boundary noise rather than shared ground.

    A piece :math:`i \\cap w` is a sliver when it is smaller than ``share`` of
    *both* its source and its target:

    .. math:: |i \\cap w| < s\\,|i| \\quad\\text{and}\\quad |i \\cap w| < s\\,|w|

    Generalised boundaries of two vintages disagree by metres along every shared
    edge, so each source touches its neighbours' wards in thin strips. Such a strip
    would otherwise lend a ward a share of the source's people or value it does not
    have (in the demo, 0.03 % of one LSOA gives Broadheath residents "in England's
    most deprived tenth"). The second condition keeps a small ward inside a large
    source: that piece is most of the ward. A source whose every piece is a sliver
    keeps them all, so no source's value is lost.

    Returns a boolean array, True for pieces to drop.
    """
    sliver = (inter < share * source_area) & (inter < share * target_area)
    kept_per_source = np.bincount(source_index[~sliver], minlength=n_sources)
    return sliver & (kept_per_source[source_index] > 0)


def prepare_crosswalk(cw: pd.DataFrame, *, sliver_share: float = SLIVER_SHARE) -> CrosswalkMatrix:
    """Factorise a crosswalk table once; :func:`apply_crosswalk` accepts the result.

    Codes are sorted, so results come back in code order. Pieces that
    :func:`sliver_pieces` calls slivers carry no value; the cached table keeps them,
    so the rule can change without recomputing intersections.
    """
    if isinstance(cw, CrosswalkMatrix):
        return cw
    missing = [c for c in CROSSWALK_COLUMNS if c not in getattr(cw, "columns", [])]
    if missing:
        raise HarmoniseError(f"crosswalk lacks columns {', '.join(missing)}")
    s_idx, s_uniques = pd.factorize(cw["source_code"], sort=True, use_na_sentinel=True)
    t_idx, t_uniques = pd.factorize(cw["area_code"], sort=True, use_na_sentinel=True)
    s_area = np.full(len(s_uniques), np.nan)
    t_area = np.full(len(t_uniques), np.nan)
    has_s, has_t = s_idx >= 0, t_idx >= 0
    s_area[s_idx[has_s]] = cw["source_area_m2"].to_numpy(dtype="float64")[has_s]
    t_area[t_idx[has_t]] = cw["target_area_m2"].to_numpy(dtype="float64")[has_t]
    pair = (has_s & has_t) & (cw["intersection_area_m2"].to_numpy(dtype="float64") > 0)
    inter = cw["intersection_area_m2"].to_numpy(dtype="float64")[pair]
    rows, cols = t_idx[pair], s_idx[pair]
    shape = (len(t_uniques), len(s_uniques))
    drop = sliver_pieces(inter, s_area[cols], t_area[rows], cols, shape[1], sliver_share)
    at = sparse.csr_matrix((inter, (rows, cols)), shape=shape)
    kept = sparse.csr_matrix((inter[~drop], (rows[~drop], cols[~drop])), shape=shape)
    inside = np.bincount(cols, weights=inter, minlength=shape[1])
    in_kept = np.bincount(cols[~drop], weights=inter[~drop], minlength=shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(in_kept > 0, inside / in_kept, 1.0)
    touches = (kept > 0).astype("float64").tocsr()
    return CrosswalkMatrix(
        at, kept, touches, pd.Index(s_uniques), pd.Index(t_uniques), s_area, t_area,
        scale, int(drop.sum()),
    )


def apply_crosswalk(
    values,
    crosswalk: pd.DataFrame,
    kind: str,
    *,
    weights=None,
    code_col: str = "area_code",
    value_col: str = "value",
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    method: str = METHOD,
    sliver_share: float = SLIVER_SHARE,
) -> pd.DataFrame:
    """Interpolate one source variable onto the targets of a crosswalk.

    With :math:`a_{iw} = |i \\cap w|` over the pieces that are not slivers
    (:func:`sliver_pieces`), source area :math:`|i|`, target area :math:`|w|`,
    :math:`D` the sources that have a value, and
    :math:`\\tilde a_{iw} = a_{iw} S_i / K_i` (:math:`S_i` the source's area inside
    any target, :math:`K_i` its area in kept pieces, so a dropped sliver's share goes
    to the source's other pieces and totals are preserved):

    extensive (counts, totals; the value is spread evenly over the source's area)
        .. math:: v_w = \\sum_{i \\in D} v_i \\frac{\\tilde a_{iw}}{|i|}

        The total is preserved where the targets cover the sources:
        :math:`\\sum_w v_w = \\sum_i v_i S_i/|i|`.

    intensive (rates, shares, means)
        .. math:: v_w = \\frac{\\sum_{i \\in D} v_i a_{iw}}{\\sum_{i \\in D} a_{iw}}

        With ``weights`` :math:`d_i` (the rate's denominator, e.g. households), the
        denominator is spread by area like an extensive count (returned as
        ``denominator``) and the rate is the ratio of the spread numerator and
        denominator:

        .. math:: v_w = \\frac{\\sum_{i \\in D} v_i d_i \\tilde a_{iw}/|i|}{\\sum_{i \\in D} d_i \\tilde a_{iw}/|i|}

    coverage (both kinds, over every piece, slivers included: how much of the ward
    lies in sources with data)
        .. math:: c_w = \\frac{\\sum_{i \\in D} |i \\cap w|}{|w|}

    A missing source value is no data: it adds nothing to numerator, denominator or
    coverage. A target with coverage 0 or below
    ``min_coverage`` gets NaN.

    Parameters
    ----------
    values : DataFrame, Series or mapping
        Source values by source code.
    crosswalk : DataFrame or CrosswalkMatrix
        Output of :func:`crosswalk` (or the same table read back from a store), or
        of :func:`prepare_crosswalk` to skip re-factorising it per variable.
    kind : {'extensive', 'intensive'}
    weights : str, Series, mapping or None
        Intensive only: the denominator of each source value (column of ``values``
        or Series by code). Must be present wherever the value is.
    min_coverage : float
    method : str
        Method id written to the result (``zonal_grid`` reuses this function).
    sliver_share : float
        See :func:`sliver_pieces`; 0 keeps every piece (grid cells: a cell's strip
        inside a ward is real ground, not two vintages of one boundary disagreeing).
        A prepared ``crosswalk`` keeps the share it was prepared with.

    Returns
    -------
    DataFrame
        One row per target in the crosswalk, in code order; ``denominator`` is the spread
        denominator when ``weights`` is given. ``attrs['unmatched_source_codes']``
        lists value codes that are not sources of the crosswalk.
    """
    kind = check_kind(kind)
    min_coverage = check_min_coverage(min_coverage)
    vals = value_series(values, code_col, value_col)
    w = weight_series(weights, values, code_col, "weights")
    if w is not None and kind == EXTENSIVE:
        raise HarmoniseError(
            "weights apply to intensive values only; an extensive value is spread by area"
        )
    m = prepare_crosswalk(crosswalk, sliver_share=sliver_share)
    s_codes, t_codes = m.source_codes, m.target_codes

    v = vals.reindex(s_codes).to_numpy()
    has = ~np.isnan(v)
    if w is not None:
        d = w.reindex(s_codes).to_numpy()
        bad = has & (np.isnan(d) | (d < 0))
        if bad.any():
            raise HarmoniseError(
                f"{int(bad.sum())} sources have a value but no usable weight "
                f"(e.g. {', '.join(s_codes[bad][:5])})"
            )
    has_f = has.astype("float64")
    v0 = np.where(has, v, 0.0)  # zeros only where `has` also zeroes the weight
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(m.source_area > 0, m.source_scale / m.source_area, 0.0)
        rows = m.touches_t @ has_f
        denominator = None
        if kind == EXTENSIVE:
            value = m.kept_t @ (v0 * spread)
        elif w is None:
            value = (m.kept_t @ v0) / (m.kept_t @ has_f)
        else:
            dens = np.where(has, d, 0.0) * spread
            denominator = m.kept_t @ dens
            value = (m.kept_t @ (v0 * dens)) / denominator
        t_area = m.target_area
        coverage = np.where(t_area > 0, (m.areas_t @ has_f) / t_area, 0.0)
    value = np.where(rows > 0, value, np.nan)

    attrs = {
        "unmatched_source_codes": sorted(vals.index.difference(s_codes)),
        "kind": kind,
        "sliver_pieces": m.slivers,
    }
    return finish(
        t_codes,
        value,
        coverage,
        np.rint(rows),
        method,
        min_coverage=min_coverage,
        denominator=denominator,
        attrs=attrs,
    )


def area_weighted_interpolate(
    values,
    source_gdf: gpd.GeoDataFrame,
    source_code_col: str,
    targets: gpd.GeoDataFrame,
    kind: str,
    *,
    target_code_col: str = "code",
    **kwargs,
) -> pd.DataFrame:
    """:func:`crosswalk` then :func:`apply_crosswalk`, for one-off use without a cache."""
    cw = crosswalk(source_gdf, source_code_col, targets, target_code_col)
    return apply_crosswalk(values, cw, kind, **kwargs)
