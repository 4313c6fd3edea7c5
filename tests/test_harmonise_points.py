"""Points to the polygon containing them, checked against a brute-force loop."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeportrait.errors import HarmoniseError
from placeportrait.harmonise import RESULT_COLUMNS, points_to_areas

TRAFFORD = Path(__file__).parent / "data" / "trafford"
MANCHESTER_PICCADILLY = (-2.2309, 53.4774)  # outside Trafford


def wards23() -> gpd.GeoDataFrame:
    g = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    g = g.rename(columns={"area_code": "code", "area_name": "name"})
    g["parent_code"] = "E08000009"
    return g[["code", "name", "parent_code", "geometry"]]


def lsoa_points() -> gpd.GeoDataFrame:
    """One point inside each Trafford LSOA 2011, carrying its IoD 2019 population."""
    lsoa = gpd.read_file(TRAFFORD / "lsoa_2011_trafford_lsoa_generalised.geojson")
    pop = pd.read_csv(
        TRAFFORD / "iod2019_file6_population_trafford.csv", encoding="utf-8-sig", thousands=","
    ).set_index("LSOA code (2011)")["Total population: mid 2015 (excluding prisoners)"]
    return gpd.GeoDataFrame(
        {"lsoa": lsoa["area_code"], "pop": pop.reindex(lsoa["area_code"]).to_numpy().astype(float)},
        geometry=lsoa.make_valid().representative_point(),
        crs=lsoa.crs,
    )


def brute_force(points: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> list:
    """The ward each point falls in: lowest code among the wards that cover it."""
    out = []
    for p in points.geometry:
        hits = sorted(c for c, g in zip(wards["code"], wards.geometry) if g.covers(p))
        out.append(hits[0] if hits else None)
    return out


def by_code(r):
    return r.set_index("area_code")


def test_counts_and_sums_match_a_brute_force_loop():
    pts, wards = lsoa_points(), wards23()
    home = pd.Series(brute_force(pts, wards), index=pts.index)
    r = points_to_areas(pts, wards, stat="count")
    assert list(r.columns) == RESULT_COLUMNS and len(r) == 21
    counts = home.value_counts().reindex(wards["code"], fill_value=0)
    np.testing.assert_array_equal(r["value"], counts.to_numpy())
    assert (r["coverage"] == 1).all() and (r["method"] == "points").all()

    s = by_code(points_to_areas(pts, wards, stat="sum", value_col="pop"))
    sums = pts["pop"].groupby(home).sum().reindex(s.index, fill_value=0)
    np.testing.assert_allclose(s["value"], sums)
    outside = home.isna()
    assert s["value"].sum() == pts["pop"].sum() - pts.loc[outside, "pop"].sum()
    assert r.attrs["points_outside"] == list(pts.index[outside])


def test_published_ward_label_points_fall_in_their_own_wards():
    """The ward file's own lon/lat columns (text, as published) as a point table."""
    labels = gpd.read_file(TRAFFORD / "ward_2023_trafford_ward_generalised.geojson")
    table = pd.DataFrame(labels[["area_code", "lon", "lat"]])
    assert table["lon"].dtype != float  # text in the file
    r = points_to_areas(table, wards23(), stat="count")
    xy = gpd.points_from_xy(table["lon"].astype(float), table["lat"].astype(float))
    home = brute_force(gpd.GeoDataFrame(geometry=xy, crs=4326), wards23())
    assert home == list(table["area_code"])  # each label lies in its own ward
    assert (r["value"] == 1).all() and r.attrs["points_outside"] == []


def test_point_outside_every_ward_is_reported_not_counted():
    pts = pd.DataFrame(
        {"lon": [MANCHESTER_PICCADILLY[0], -2.34673], "lat": [MANCHESTER_PICCADILLY[1], 53.3906]},
        index=["piccadilly", "altrincham"],
    )
    r = points_to_areas(pts, wards23(), stat="count")
    assert r["value"].sum() == 1 and by_code(r).loc["E05015239", "value"] == 1
    assert r.attrs["points_outside"] == ["piccadilly"]


def test_point_on_a_shared_boundary_goes_to_the_lowest_code_once():
    wards = wards23()
    a, b = next(
        (x, y)
        for i, x in wards.iterrows()
        for j, y in wards.iterrows()
        if i < j and x.geometry.touches(y.geometry)
    )
    shared = {tuple(c) for c in shapely.get_coordinates(a.geometry)} & {
        tuple(c) for c in shapely.get_coordinates(b.geometry)
    }
    pt = shapely.Point(sorted(shared)[0])  # a vertex both published polygons share exactly
    assert a.geometry.intersects(pt) and b.geometry.intersects(pt)
    assert not pt.within(a.geometry) and not pt.within(b.geometry)  # "within" would lose it

    pts = gpd.GeoDataFrame(geometry=[pt], crs=4326)
    r = points_to_areas(pts, wards, stat="count")
    assert r["value"].sum() == 1
    assert by_code(r).loc[min(a["code"], b["code"]), "value"] == 1
    assert r.attrs["points_on_shared_boundary"] == 1 and r.attrs["points_outside"] == []


def test_missing_values_and_locations_are_no_data():
    pts = lsoa_points()
    wards = wards23()
    home = pd.Series(brute_force(pts, wards), index=pts.index)
    ward = home.value_counts().idxmax()
    members = home.index[home == ward]
    pts.loc[members[0], "pop"] = np.nan
    r = by_code(points_to_areas(pts, wards, stat="mean", value_col="pop", min_coverage=0))
    expected = pts.loc[members[1:], "pop"].mean()
    assert r.loc[ward, "value"] == pytest.approx(expected)
    assert r.loc[ward, "coverage"] == pytest.approx((len(members) - 1) / len(members))
    assert r.loc[ward, "source_rows"] == len(members) - 1

    # A ward with no points: its mean is no data, its count a true 0.
    lonely = wards["code"].iloc[0]
    pts2 = pts[home != lonely]
    mean = by_code(points_to_areas(pts2, wards, stat="mean", value_col="pop", min_coverage=0))
    count = by_code(points_to_areas(pts2, wards, stat="count"))
    assert np.isnan(mean.loc[lonely, "value"]) and mean.loc[lonely, "coverage"] == 0
    assert count.loc[lonely, "value"] == 0 and count.loc[lonely, "coverage"] == 1

    table = pd.DataFrame(
        {"lon": [np.nan, -2.34673], "lat": [53.39, 53.3906]}, index=["nowhere", "alt"]
    )
    r = points_to_areas(table, wards, stat="count")
    assert r.attrs["points_without_location"] == ["nowhere"] and r["value"].sum() == 1


def test_point_guards():
    pts = lsoa_points()
    with pytest.raises(HarmoniseError, match=r"CRS mismatch.*EPSG:27700.*EPSG:4326"):
        points_to_areas(pts.to_crs(27700), wards23())
    with pytest.raises(HarmoniseError, match="no CRS"):
        points_to_areas(pts.set_crs(None, allow_override=True), wards23())
    with pytest.raises(HarmoniseError, match="needs value_col"):
        points_to_areas(pts, wards23(), stat="mean")
    with pytest.raises(HarmoniseError, match="non-point"):
        points_to_areas(wards23(), wards23())
    with pytest.raises(HarmoniseError, match="stat must be"):
        points_to_areas(pts, wards23(), stat="median")
