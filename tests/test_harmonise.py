"""placeportrait.harmonise: method choice, code match, areal interpolation and its guards.

Real data: Trafford LSOA 2011 and ward 2023 generalised boundaries, IoD 2019 File 6
population and BEIS fuel poverty 2017 (see tests/data/trafford/README.md).
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.affinity import translate

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise import (
    RESULT_COLUMNS,
    apply_crosswalk,
    choose_method,
    code_match,
    crosswalk,
    geometry_fingerprint,
    prepare_crosswalk,
)

DATA = Path(__file__).parent / "data"
TRAFFORD = DATA / "trafford"
DEMO = Path(__file__).parents[1] / "src" / "placeportrait" / "data" / "demo"


def wards23() -> gpd.GeoDataFrame:
    """Trafford's 21 wards (2023) in the store's target layout."""
    g = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    g = g.rename(columns={"area_code": "code", "area_name": "name"})
    g["parent_code"] = "E08000009"
    return g[["code", "name", "parent_code", "geometry"]]


def lsoa11() -> gpd.GeoDataFrame:
    return gpd.read_file(TRAFFORD / "lsoa_2011_trafford_lsoa_generalised.geojson")


def population() -> pd.Series:
    """IoD 2019 File 6 total population (mid-2015) by LSOA 2011, as published."""
    df = pd.read_csv(
        TRAFFORD / "iod2019_file6_population_trafford.csv", encoding="utf-8-sig", thousands=","
    )
    return df.set_index("LSOA code (2011)")["Total population: mid 2015 (excluding prisoners)"]


def fuel_poverty() -> pd.Series:
    return pd.read_csv(TRAFFORD / "fuel_poverty_trafford_2017.csv").set_index("lsoa11cd")["value"]


@pytest.fixture(scope="module")
def cw():
    return crosswalk(lsoa11(), "area_code", wards23())


def by_code(result: pd.DataFrame) -> pd.DataFrame:
    return result.set_index("area_code")


# --- choose_method -----------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("ward", "code_match"),
        ("lsoa2011", "lookup"),
        ("LSOA2021", "lookup"),
        ("oa2011", "lookup"),
        ("oa2021", "lookup"),
        ("msoa2011", "area_weighted"),
        ("msoa2021", "area_weighted"),
        ("lad", "apportion"),
        ("postcode", "points"),
        ("points", "points"),
        ("grid", "zonal_grid"),
        ("raster", "zonal_raster"),
    ],
)
@pytest.mark.parametrize("kind", ["extensive", "intensive"])
def test_choose_method_for_wards(source, expected, kind):
    assert choose_method(source, "ward", kind) == expected


def test_choose_method_for_lads():
    assert choose_method("lad", "lad", "intensive") == "code_match"
    assert choose_method("lsoa2011", "lad", "extensive") == "lookup"


@pytest.mark.parametrize(
    "args, message",
    [
        (("county", "ward", "extensive"), "unknown source geography"),
        (("lsoa2011", "parish", "extensive"), "unknown target level"),
        (("lsoa2011", "ward", "rate"), "extensive' or 'intensive"),
    ],
)
def test_choose_method_rejects_unknowns(args, message):
    with pytest.raises(HarmoniseError, match=message):
        choose_method(*args)


def test_harmonise_error_is_a_value_error():
    assert issubclass(HarmoniseError, ValueError)


# --- code match --------------------------------------------------------------


def test_code_match_reports_both_sides_and_keeps_nan_as_no_data():
    pop = pd.read_csv(TRAFFORD / "ward_2023_total_resident_population.csv")
    pop = pop[["area_code", "value"]].copy()
    pop.loc[pop["area_code"] == "E05015240", "value"] = np.nan
    pop = pop[pop["area_code"] != "E05015241"]
    pop = pd.concat([pop, pd.DataFrame({"area_code": ["E05000819"], "value": [12931.0]})])

    r = code_match(pop, wards23(), min_coverage=0.5)
    assert list(r.columns) == RESULT_COLUMNS
    assert len(r) == 21 and list(r["area_code"]) == list(wards23()["code"])
    row = by_code(r)
    assert row.loc["E05015239", "value"] == 10972  # Altrincham, as published
    assert row.loc["E05015239", "coverage"] == 1.0
    for gap in ("E05015240", "E05015241"):  # NaN value / no row: no data, not 0
        assert np.isnan(row.loc[gap, "value"]) and row.loc[gap, "coverage"] == 0.0
    assert r.attrs["unmatched_source_codes"] == ["E05000819"]  # a 2022 code
    assert r.attrs["targets_without_source"] == ["E05015241"]


def test_code_match_refuses_duplicate_codes():
    values = pd.DataFrame({"area_code": ["E05015239", "E05015239 "], "value": [1.0, 2.0]})
    with pytest.raises(HarmoniseError, match="duplicate codes"):
        code_match(values, wards23())


# --- area-weighted: crosswalk ------------------------------------------------


def test_crosswalk_is_complete_and_repairs_published_invalid_geometry(cw):
    src = lsoa11()
    assert set(cw["source_code"].dropna()) == set(src["area_code"])
    assert set(cw["area_code"].dropna()) == set(wards23()["code"])
    # The published LSOA file has two invalid polygons; they are repaired, not dropped.
    invalid = sorted(src.loc[~src.is_valid, "area_code"])
    assert invalid and cw.attrs["repaired_source_geometries"] == invalid
    # Areas agree with an independent GeoPandas computation in EPSG:27700.
    own = src.to_crs(27700).make_valid().area.set_axis(src["area_code"])
    first = cw.drop_duplicates("source_code").set_index("source_code")["source_area_m2"]
    np.testing.assert_allclose(first.reindex(own.index), own, rtol=1e-9)
    # The ward file's own published areas (square metres) match too.
    published = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    t_area = cw.dropna().drop_duplicates("area_code").set_index("area_code")["target_area_m2"]
    np.testing.assert_allclose(
        t_area.reindex(published["area_code"]), published["area"], rtol=1e-3
    )


def test_crosswalk_matches_tobler_area_table(cw):
    """Same intersection areas as tobler's own table (which is float32)."""
    from tobler.area_weighted.area_interpolate import _area_tables_binning

    src = lsoa11().to_crs(27700)
    src["geometry"] = src.make_valid()
    tgt = wards23().to_crs(27700)
    table = _area_tables_binning(src, tgt, "auto").tocoo()
    tob = pd.DataFrame(
        {
            "source_code": src["area_code"].to_numpy()[table.row],
            "area_code": tgt["code"].to_numpy()[table.col],
            "tobler": table.data.astype("float64"),
        }
    )
    tob = tob[tob["tobler"] > 0]
    ours = cw.dropna().merge(tob, on=["source_code", "area_code"], how="outer")
    assert ours["tobler"].notna().all() and ours["intersection_area_m2"].notna().all()
    np.testing.assert_allclose(ours["intersection_area_m2"], ours["tobler"], rtol=1e-5, atol=1.0)


def test_crosswalk_keeps_targets_and_sources_that_overlap_nothing():
    far_ward = wards23().iloc[[0]].copy()
    far_ward["code"] = "X00000001"
    far_ward["geometry"] = far_ward.geometry.translate(xoff=1.0)  # a degree east
    targets = pd.concat([wards23(), far_ward], ignore_index=True)
    src = lsoa11()
    far_lsoa = src.iloc[[0]].copy()
    far_lsoa["area_code"] = "X01000001"
    far_lsoa["geometry"] = far_lsoa.geometry.translate(yoff=1.0)
    src = pd.concat([src, far_lsoa], ignore_index=True)

    table = crosswalk(src, "area_code", targets)
    lonely_target = table[table["area_code"] == "X00000001"]
    assert len(lonely_target) == 1 and lonely_target["source_code"].isna().all()
    lonely_source = table[table["source_code"] == "X01000001"]
    assert len(lonely_source) == 1 and lonely_source["area_code"].isna().all()

    values = pd.Series(1.0, index=src["area_code"])
    r = by_code(apply_crosswalk(values, table, "intensive", min_coverage=0))
    assert np.isnan(r.loc["X00000001", "value"]) and r.loc["X00000001", "coverage"] == 0


# --- area-weighted: extensive ------------------------------------------------


def test_extensive_total_preserved_up_to_the_measured_boundary_mismatch(cw):
    """Sum over wards = sum over LSOAs minus exactly the population lying outside Trafford's wards.

    The generalised LSOA 2011 and ward 2023 files do not nest perfectly: a sliver of
    each border LSOA lies outside the union of the wards. That part is computed here
    independently (LSOA minus ward union, with shapely) and must account for the whole
    difference to 1e-9; it is also small: 278 of 232,975 people (0.12 %), asserted
    under 0.2 %.
    """
    pop = population()
    r = apply_crosswalk(pop, cw, "extensive", min_coverage=0)
    src = lsoa11().to_crs(27700)
    src["geometry"] = src.make_valid()
    union = shapely.union_all(wards23().to_crs(27700).geometry.to_numpy())
    outside_share = 1 - src.intersection(union).area / src.area
    lost = float((outside_share.to_numpy() * pop.reindex(src["area_code"]).to_numpy()).sum())

    total = pop.sum()
    assert total == 232975  # Trafford, IoD 2019 File 6
    assert r["value"].sum() == pytest.approx(total - lost, rel=1e-9)
    assert 0 < lost / total < 0.002  # measured: 278 people, 0.12 %


def test_extensive_total_preserved_exactly_when_sources_lie_inside_targets():
    # Clip in the area CRS itself: clipping in lon/lat and then projecting would bend
    # the cut edges off the ward edges by a few millimetres.
    src, tgt = lsoa11().to_crs(27700), wards23().to_crs(27700)
    union = shapely.union_all(tgt.geometry.to_numpy())
    src["geometry"] = shapely.intersection(src.make_valid().to_numpy(), union)
    pop = population()
    r = apply_crosswalk(pop, crosswalk(src, "area_code", tgt), "extensive", min_coverage=0)
    assert r["value"].sum() == pytest.approx(pop.sum(), rel=1e-9)


def test_extensive_agrees_with_tobler_when_no_data_is_missing(cw):
    from tobler.area_weighted import area_interpolate

    src = lsoa11().to_crs(27700)
    src["geometry"] = src.make_valid()
    src["pop"] = population().reindex(src["area_code"]).to_numpy().astype(float)
    src["fp"] = fuel_poverty().reindex(src["area_code"]).to_numpy()
    tgt = wards23().to_crs(27700)
    tob = area_interpolate(
        src, tgt, extensive_variables=["pop"], intensive_variables=["fp"], allocate_total=False
    )
    tob.index = tgt["code"]
    # tobler keeps every piece; so does the crosswalk with the sliver rule off.
    raw = prepare_crosswalk(cw, sliver_share=0)
    ext = by_code(apply_crosswalk(population(), raw, "extensive", min_coverage=0))
    itn = by_code(apply_crosswalk(fuel_poverty(), raw, "intensive", min_coverage=0))
    np.testing.assert_allclose(ext["value"].reindex(tob.index), tob["pop"], rtol=1e-5)
    # tobler divides by the summed intersections, not the ward area: equal here because
    # every LSOA has data.
    np.testing.assert_allclose(itn["value"].reindex(tob.index), tob["fp"], rtol=1e-5)


def test_extensive_missing_source_is_no_data_not_zero(cw):
    pop = population().astype(float)
    # Give every LSOA touching Hale Barns & Timperley South no data.
    ward = "E05015248"
    touching = cw.loc[cw["area_code"] == ward, "source_code"]
    pop[touching] = np.nan
    r = by_code(apply_crosswalk(pop, cw, "extensive", min_coverage=0))
    assert np.isnan(r.loc[ward, "value"])
    assert r.loc[ward, "coverage"] == 0 and r.loc[ward, "source_rows"] == 0
    # Neighbours keep their other LSOAs' contributions, and lose coverage.
    neighbours = cw.loc[cw["source_code"].isin(touching), "area_code"].unique()
    for code in set(neighbours) - {ward}:
        assert r.loc[code, "coverage"] < 1


# --- area-weighted: slivers --------------------------------------------------

BROADHEATH = "E05015242"


def income_decile_1() -> pd.Series:
    """100 for an LSOA in England's most income-deprived tenth (IoD 2019 File 2), else 0."""
    f2 = pd.read_csv(DEMO / "iod2019_file2_england.csv.gz", encoding="utf-8-sig")
    decile = f2.set_index("LSOA code (2011)")[
        "Income Decile (where 1 is most deprived 10% of LSOAs)"]
    return (decile == 1).astype(float) * 100


def test_a_sliver_does_not_put_broadheath_in_the_most_deprived_tenth(cw):
    """Two decile-1 LSOAs touch Broadheath along its generalised edge, by 0.02 % and
    0.04 % of their areas (under 0.01 % of the ward's), measured here with geopandas.
    With every piece kept, about 0.01 % of Broadheath's residents are "in England's most
    deprived tenth"; as boundary noise those pieces carry nothing, and no other LSOA of
    the ward is in decile 1."""
    src = lsoa11().to_crs(27700)
    src["geometry"] = src.make_valid()
    src["src_area"] = src.area
    ward = wards23().to_crs(27700)
    ward = ward[ward["code"] == BROADHEATH]
    pieces = gpd.overlay(src, ward, how="intersection", keep_geom_type=True)
    pieces["a"] = pieces.area
    deprived = income_decile_1().reindex(pieces["area_code"]).to_numpy() > 0
    touch = pieces[deprived].set_index("area_code")
    assert sorted(touch.index) == ["E01006167", "E01006168"]
    assert (touch["a"] / touch["src_area"] < 0.001).all()
    assert (touch["a"] / ward.area.iloc[0] < 0.0001).all()

    values, pop = income_decile_1(), population()
    raw = by_code(apply_crosswalk(values, prepare_crosswalk(cw, sliver_share=0), "intensive",
                                  weights=pop, min_coverage=0))
    kept = by_code(apply_crosswalk(values, cw, "intensive", weights=pop, min_coverage=0))
    assert 0.005 < raw.loc[BROADHEATH, "value"] < 0.05  # measured: 0.011 %
    assert kept.loc[BROADHEATH, "value"] == 0
    assert kept.loc[BROADHEATH, "coverage"] == raw.loc[BROADHEATH, "coverage"]
    # The people in those slivers are counted in the LSOAs' other wards instead.
    ext = apply_crosswalk(pop, cw, "extensive", min_coverage=0)
    ext_raw = apply_crosswalk(pop, prepare_crosswalk(cw, sliver_share=0), "extensive",
                              min_coverage=0)
    assert ext["value"].sum() == pytest.approx(ext_raw["value"].sum(), rel=1e-12)


def test_sliver_rule_keeps_small_wards_and_lone_sources():
    """A piece is noise only when it is under 1 % of its source *and* of its target."""
    from placeportrait.harmonise.area_weighted import sliver_pieces

    # piece areas, source areas, target areas, source index
    inter = np.array([0.5, 99.5, 0.004, 0.996, 0.3, 0.3])
    s_area = np.array([100.0, 100.0, 1.0, 1.0, 40.0, 40.0])
    t_area = np.array([0.5, 200.0, 50.0, 20.0, 100.0, 100.0])
    source = np.array([0, 0, 1, 1, 2, 2])
    drop = sliver_pieces(inter, s_area, t_area, source, 3)
    # 0: 0.5 % of its source but the whole of a small ward -> kept
    # 2: 0.4 % of its source and 0.008 % of its ward -> dropped
    # 4, 5: each under 1 % of both, but they are all the source has -> kept
    assert drop.tolist() == [False, False, True, False, False, False]


# --- area-weighted: intensive ------------------------------------------------


def test_intensive_constant_field_gives_the_constant(cw):
    values = pd.Series(7.25, index=lsoa11()["area_code"])
    r = apply_crosswalk(values, cw, "intensive", min_coverage=0)
    np.testing.assert_allclose(r["value"], 7.25, rtol=0, atol=1e-12)
    # Coverage is the ward share inside some LSOA: 99.5 % or more here.
    assert r["coverage"].between(0.995, 1.0).all()


def test_intensive_ward_by_hand_from_three_lsoas():
    """Altrincham (E05015239) from the three LSOAs that cover most of it.

    All other LSOAs are given no data, so the ward value must be the intersection-
    weighted mean of these three (areas from geopandas.overlay, not the crosswalk),
    and coverage their share of the ward's area.
    """
    ward = "E05015239"
    wards = wards23()
    src = lsoa11()
    src["geometry"] = src.make_valid()
    pieces = gpd.overlay(
        src.to_crs(27700), wards[wards["code"] == ward].to_crs(27700), how="intersection"
    )
    pieces["a"] = pieces.area
    top = pieces.nlargest(3, "a").set_index("area_code")["a"]
    fp = fuel_poverty()
    values = pd.Series(np.nan, index=src["area_code"])
    values[top.index] = fp[top.index]

    expected = (fp[top.index] * top).sum() / top.sum()
    ward_area = wards[wards["code"] == ward].to_crs(27700).area.iloc[0]
    table = crosswalk(src, "area_code", wards)
    r = by_code(apply_crosswalk(values, table, "intensive", min_coverage=0))
    assert r.loc[ward, "value"] == pytest.approx(expected, rel=1e-9)
    assert r.loc[ward, "coverage"] == pytest.approx(top.sum() / ward_area, rel=1e-9)
    assert r.loc[ward, "source_rows"] == 3
    # By hand, from the overlay areas (m2) and the published fuel poverty shares (%):
    #   E01006075 742,244.7 x 8.7, E01006192 490,652.9 x 9.8, E01006076 312,185.9 x 6.7
    #   (6,457,529 + 4,808,398 + 2,091,646) / 1,545,083.5 = 8.6452
    #   coverage 1,545,083.5 / 2,982,273.3 (ward area) = 0.51809
    assert list(top.index) == ["E01006075", "E01006192", "E01006076"]
    np.testing.assert_allclose(top, [742244.7, 490652.9, 312185.9], rtol=1e-6)
    assert r.loc[ward, "value"] == pytest.approx(8.6452, abs=1e-4)
    assert r.loc[ward, "coverage"] == pytest.approx(0.51809, abs=1e-5)


def test_intensive_missing_source_does_not_dilute_the_mean(cw):
    fp = fuel_poverty().astype(float)
    ward = "E05015239"
    pairs = cw[cw["area_code"] == ward].set_index("source_code")["intersection_area_m2"]
    gone = pairs.idxmax()
    fp_gap = fp.copy()
    fp_gap[gone] = np.nan
    r = by_code(apply_crosswalk(fp_gap, prepare_crosswalk(cw, sliver_share=0), "intensive",
                                min_coverage=0))
    rest = pairs.drop(gone)
    expected = (fp[rest.index] * rest).sum() / rest.sum()
    assert r.loc[ward, "value"] == pytest.approx(expected, rel=1e-12)
    ward_area = cw.loc[cw["area_code"] == ward, "target_area_m2"].iloc[0]
    assert r.loc[ward, "coverage"] == pytest.approx(rest.sum() / ward_area, rel=1e-12)


def test_min_coverage_withholds_but_reports_coverage(cw):
    fp = fuel_poverty().astype(float)
    ward = "E05015239"
    pairs = cw[cw["area_code"] == ward].set_index("source_code")["intersection_area_m2"]
    fp[pairs.nlargest(2).index] = np.nan
    loose = by_code(apply_crosswalk(fp, cw, "intensive", min_coverage=0))
    cov = loose.loc[ward, "coverage"]
    assert 0 < cov < 0.9 and not np.isnan(loose.loc[ward, "value"])
    strict = by_code(apply_crosswalk(fp, cw, "intensive", min_coverage=cov + 0.01))
    assert np.isnan(strict.loc[ward, "value"]) and strict.loc[ward, "coverage"] == cov
    assert ward in strict.attrs["withheld_low_coverage"]


def test_intensive_weighted_by_denominator_is_ratio_of_spread_totals(cw):
    """Rate with a denominator: spread numerator and denominator by area, divide."""
    fp, pop = fuel_poverty(), population().astype(float)
    values = pd.DataFrame({"area_code": fp.index, "value": fp.to_numpy()})
    values["pop"] = pop.reindex(fp.index).to_numpy()
    r = by_code(apply_crosswalk(values, cw, "intensive", weights="pop", min_coverage=0))
    spread = fp * pop.reindex(fp.index)
    numerator = by_code(apply_crosswalk(spread, cw, "extensive", min_coverage=0))
    denominator = by_code(apply_crosswalk(pop, cw, "extensive", min_coverage=0))
    np.testing.assert_allclose(r["value"], numerator["value"] / denominator["value"], rtol=1e-12)
    np.testing.assert_allclose(r["denominator"], denominator["value"], rtol=1e-12)
    const = values.assign(value=12.5)
    rc = apply_crosswalk(const, cw, "intensive", weights="pop", min_coverage=0)
    np.testing.assert_allclose(rc["value"], 12.5, atol=1e-12)


def test_values_outside_the_crosswalk_are_reported(cw):
    values = pd.concat([fuel_poverty(), pd.Series({"E01005000": 9.9})])
    r = apply_crosswalk(values, cw, "intensive")
    assert r.attrs["unmatched_source_codes"] == ["E01005000"]


def test_prepared_crosswalk_gives_identical_results(cw):
    a = apply_crosswalk(fuel_poverty(), cw, "intensive")
    b = apply_crosswalk(fuel_poverty(), prepare_crosswalk(cw), "intensive")
    pd.testing.assert_frame_equal(a, b)


# --- guards ------------------------------------------------------------------


def test_crs_mismatch_is_an_error_naming_both():
    with pytest.raises(HarmoniseError, match=r"EPSG:4326.*EPSG:27700"):
        crosswalk(lsoa11(), "area_code", wards23().to_crs(27700))


def test_missing_crs_is_an_error():
    src = lsoa11()
    src = src.set_crs(None, allow_override=True)
    with pytest.raises(HarmoniseError, match="source layer has no CRS"):
        crosswalk(src, "area_code", wards23())


def test_mislabelled_crs_is_caught_by_the_overlap_check():
    # Both layers say British National Grid, but the sources are really lon/lat.
    src = lsoa11().set_crs(27700, allow_override=True)
    tgt = wards23().to_crs(27700)
    with pytest.raises(HarmoniseError, match="no source polygon overlaps"):
        crosswalk(src, "area_code", tgt)


def test_crs84_and_epsg4326_are_the_same_coordinates():
    src = lsoa11().set_crs("OGC:CRS84", allow_override=True)
    table = crosswalk(src, "area_code", wards23())
    assert len(table.dropna()) == 316


def test_points_are_not_areal_sources():
    pts = lsoa11()
    pts["geometry"] = pts.representative_point()
    with pytest.raises(HarmoniseError, match="non-polygon geometries \\(POINT\\)"):
        crosswalk(pts, "area_code", wards23())


def test_text_and_infinite_values_are_refused(cw):
    with pytest.raises(HarmoniseError, match="not numeric"):
        apply_crosswalk(pd.Series(["1,296"], index=["E01006074"]), cw, "extensive")
    with pytest.raises(HarmoniseError, match="infinite"):
        apply_crosswalk(pd.Series([np.inf], index=["E01006074"]), cw, "extensive")


def test_bad_kind_and_min_coverage_are_refused(cw):
    with pytest.raises(HarmoniseError, match="measure kind"):
        apply_crosswalk(fuel_poverty(), cw, "rate")
    with pytest.raises(HarmoniseError, match="min_coverage"):
        apply_crosswalk(fuel_poverty(), cw, "intensive", min_coverage=1.5)


def test_duplicate_target_codes_are_refused():
    tgt = pd.concat([wards23(), wards23().iloc[[0]]], ignore_index=True)
    with pytest.raises(HarmoniseError, match="duplicate codes"):
        crosswalk(lsoa11(), "area_code", tgt)


# --- fingerprint -------------------------------------------------------------


def test_fingerprint_is_stable_and_sensitive(tmp_path):
    w = wards23()
    fp = geometry_fingerprint(w, "code")
    assert len(fp) == 64
    # Row order and file format do not matter.
    assert geometry_fingerprint(w.iloc[::-1], "code") == fp
    w.to_file(tmp_path / "w.gpkg", layer="w")
    assert geometry_fingerprint(gpd.read_file(tmp_path / "w.gpkg"), "code") == fp
    # A ring starting at another vertex is the same polygon.
    rotated = w.copy()
    ring = list(rotated.geometry.iloc[0].exterior.coords)[:-1]
    ring = ring[5:] + ring[:5]
    rotated.loc[0, "geometry"] = shapely.Polygon(ring + [ring[0]])
    assert geometry_fingerprint(rotated, "code") == fp
    # A moved ward, a renamed code or another CRS label are different boundaries.
    moved = w.copy()
    moved.loc[3, "geometry"] = translate(moved.geometry.iloc[3], xoff=1e-6)
    assert geometry_fingerprint(moved, "code") != fp
    renamed = w.copy()
    renamed.loc[0, "code"] = "E05099999"
    assert geometry_fingerprint(renamed, "code") != fp
    assert geometry_fingerprint(w.set_crs(27700, allow_override=True), "code") != fp


# --- speed -------------------------------------------------------------------


def _read_zipped_gpkg(path: Path) -> gpd.GeoDataFrame:
    with zipfile.ZipFile(path) as z:
        name = z.namelist()[0]
    return gpd.read_file(f"/vsizip/{path}/{name}")


@pytest.mark.slow
def test_uk_wards_2019_to_2023_agree_with_tobler_and_keep_the_total():
    """8,887 wards (Dec 2019) onto 8,441 wards (Dec 2023), UK-wide.

    Speed against tobler is measured in ``bench/harmonise.py``, never asserted here.
    """
    from tobler.area_weighted import area_interpolate

    src = _read_zipped_gpkg(DATA / "boundaries" / "uk_wards_dec2019.gpkg.zip")
    tgt = _read_zipped_gpkg(DATA / "boundaries" / "uk_wards_dec2023_bsc.gpkg.zip")
    table = crosswalk(src, "WD19CD", tgt, "WD23CD")
    assert table.attrs["repaired_source_geometries"] == ["E05012462"]  # invalid as published
    values = pd.Series(src["Shape__Area"].to_numpy(), index=src["WD19CD"])
    r = apply_crosswalk(values, prepare_crosswalk(table, sliver_share=0), "extensive",
                        min_coverage=0)

    s27 = src.to_crs(27700)
    s27["geometry"] = s27.make_valid()
    s27["v"] = values.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = area_interpolate(s27, tgt.to_crs(27700), extensive_variables=["v"],
                                  allocate_total=False)
    theirs = pd.Series(theirs["v"].to_numpy(), index=tgt["WD23CD"].to_numpy())
    ours = r.set_index("area_code")["value"].reindex(theirs.index)
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1.0)  # tobler's table is float32
    assert len(r) == 8441
    # Both sets are the UK: ward totals carry at least 99 % of the 2019 area total.
    assert r["value"].sum() / values.sum() > 0.99
    # Dropping slivers moves value between wards, never out of them.
    kept = apply_crosswalk(values, table, "extensive", min_coverage=0)
    assert kept["value"].sum() == pytest.approx(r["value"].sum(), rel=1e-9)
