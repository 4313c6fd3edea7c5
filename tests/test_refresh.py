"""`placeportrait refresh --boundary-set NAME --data-dir DIR` (#15), on both stores, and the
routes it relies on: a lookup that holds part of a whole-nation source, wards a lookup does
not reach filled by area, and lookups of another vintage left alone."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

from placeportrait import harmonise, refresh
from placeportrait.harmonise.plan import Facts, LookupRoute, other_vintage, plan_route
from placeportrait.indicator_run import RunLookup
from placeportrait.store import open_store

from test_indicator_runs import DEMO, WARDS, cli, load_trafford

IOD_2 = "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
IOD_6 = "File_6_-_IoD2019_Population_Denominators.csv.gz"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A council's download folder: published names, nested folders, gzip, one bad file."""
    folder = tmp_path / "downloads"
    (folder / "iod").mkdir(parents=True)
    (folder / "census" / "2021").mkdir(parents=True)
    shutil.copy(DEMO / "iod2019_file2_england.csv.gz", folder / "iod" / IOD_2)
    shutil.copy(DEMO / "iod2019_file6_england.csv.gz", folder / "iod" / IOD_6)
    # the shared copy's name, a documented alias of census21_bad_health
    shutil.copy(DEMO / "census21_ts037_general_health_lsoa21_from_oa.csv.gz",
                folder / "census" / "2021" / "census21_ts037_general_health_lsoa21_from_oa.csv.gz")
    # the ONS lookup under its geographr name, found and used by the census plugin
    with gzip.open(folder / "lsoa21_ward24_lad24_ew.csv.gz", "wb") as out:
        out.write((DEMO / "lsoa21_ward24_trafford.csv").read_bytes())
    # similar wards: the classification under the shared copy's name, the ONS OA lookup and
    # rural-urban classification under their published names and layouts
    shutil.copy(DEMO / "uk_oac2021_oa_trafford.csv", folder / "uk_oac2021_oa.csv")
    shutil.copy(DEMO / "oa21_lsoa21_lookup_trafford.csv", folder / "OA21_LSOA21_MSOA21_LAD22_EW_LU.csv")
    ruc = pd.read_csv(DEMO / "ruc21_lsoa21_trafford.csv")
    pd.DataFrame({"LSOA21CD": ruc["lsoa21_code"], "LSOA21NM": "", "RUC21CD": ruc["ruc21_code"],
                  "RUC21NM": ruc["classification"], "Urban_rural_flag": ruc["ruc"]}).to_csv(
        folder / "Rural_Urban_Classification_(2021)_of_LSOAs_in_EW.csv", index=False)
    # IoD File 1 under its published name, but not a File 1: this plugin fails
    (folder / "iod" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv").write_text(
        "this,is\nnot,the file\n")
    return folder


def test_refresh_runs_what_it_finds_and_reports_every_indicator(store_url, capsys, data_dir):
    load_trafford(store_url, capsys)
    code, out, err = cli(capsys, store_url, "refresh", "--boundary-set", WARDS,
                         "--data-dir", data_dir)
    assert code == 1, err  # one plugin failed: exit 1, the others landed
    lines = {line.split(":")[0].split()[-1]: line for line in out.splitlines() if ":" in line}
    assert lines["iod_income_most_deprived"].startswith("ok ")
    assert "21 of 21 areas (100%) by area_weighted" in lines["iod_income_most_deprived"]
    assert lines["census21_bad_health"].startswith("ok ") and "by lookup" in lines["census21_bad_health"]
    assert lines["imd_most_deprived"].startswith("failed ")
    assert "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv" in lines["imd_most_deprived"]
    assert lines["co2_per_capita"].startswith("not run ")
    assert "2005-19_UK_local_and_regional_CO2_emissions" in lines["co2_per_capita"]
    assert "1 indicators failed" in err
    assert ("ok       similar wards: 21 of 21 wards of 'trafford-wards-2023' have a context "
            "profile") in out

    store = open_store(store_url)
    scores = store.read_scores(WARDS)
    assert {"iod_income_most_deprived", "census21_bad_health"} <= set(scores["indicator"])
    assert "imd_most_deprived" not in set(scores["indicator"])
    # the census values came through the lookup: exact against a sum done here
    census = pd.read_csv(DEMO / "census21_ts037_general_health_lsoa21_from_oa.csv.gz")
    lookup = pd.read_csv(DEMO / "lsoa21_ward24_trafford.csv")
    ward = census.merge(lookup, on="lsoa21_code").groupby("ward24_code")[
        ["ts0370001", "ts0370005", "ts0370006"]].sum()
    expected = 100 * (ward["ts0370005"] + ward["ts0370006"]) / ward["ts0370001"]
    got = store.read_values(WARDS, ["census21_bad_health"]).set_index("area_code")["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    rural = store.read_ward_context(WARDS).query("feature == 'rural'").set_index("area_code")["value"]
    assert rural.gt(0).sum() == 1  # Trafford's one rural LSOA (E01006087), in Bowdon


def test_similar_wards_are_kept_while_their_inputs_are_unchanged(gpkg_url, capsys, data_dir):
    """A second refresh with the same files keeps the similar wards (no new build run);
    a changed classification file, or a reloaded set, builds them again."""
    load_trafford(gpkg_url, capsys)
    store = open_store(gpkg_url)

    def refresh_similar() -> str:
        _, out, _ = cli(capsys, gpkg_url, "refresh", "--boundary-set", WARDS,
                        "--data-dir", data_dir)
        return next(line for line in out.splitlines() if "similar wards" in line)

    def builds() -> int:
        return len(store.runs("ward_context"))

    first = refresh_similar()
    assert "kept" not in first and builds() == 1
    similar = store.read_similar_wards(WARDS)
    again = refresh_similar()
    assert again.startswith("ok       similar wards: 21 of 21 wards") and builds() == 1
    assert "; kept: the same files and boundaries as the build of " in again
    pd.testing.assert_frame_equal(store.read_similar_wards(WARDS), similar)
    oac = data_dir / "uk_oac2021_oa.csv"
    oac.write_text(oac.read_text() + "\n")  # the same rows, another file
    assert "kept" not in refresh_similar() and builds() == 2
    load_trafford(gpkg_url, capsys)  # reloading the set removes them: built again
    assert "kept" not in refresh_similar() and builds() == 3


def test_source_geometry_tiles_are_built_alongside_and_kept(store_url, capsys, tmp_path):
    """A refresh loads the LSOA 2021 boundaries it finds without waiting for their tiles;
    by the time it ends, the set's tiles are kept for that load and hold every LSOA."""
    import geopandas as gpd
    import pyogrio

    from placeportrait import vector_tiles

    load_trafford(store_url, capsys)
    folder = tmp_path / "downloads"
    folder.mkdir()
    lsoas = gpd.read_file(DEMO / "trafford_lsoa_2021.geojson").rename(
        columns={"area_code": "lsoa21_code", "area_name": "lsoa21_name"})
    lsoas.to_file(folder / "lsoa21_ew_bsc.gpkg")  # the shared copy's name and columns
    code, out, err = cli(capsys, store_url, "refresh", "--boundary-set", WARDS,
                         "--data-dir", folder)
    assert code == 0, err
    assert f"source geometry: loaded 'lsoa-2021' ({len(lsoas)} areas)" in err
    assert "not kept" not in err
    store = open_store(store_url)
    kept = store.read_tiles("lsoa-2021")
    assert kept["loaded_at"] == store.boundary_set("lsoa-2021")["loaded_at"]
    path = tmp_path / "kept.pmtiles"
    path.write_bytes(kept["tiles"])
    shown = pyogrio.read_dataframe(path, layer=vector_tiles.LAYER, ZOOM_LEVEL=10)
    assert set(shown["code"]) == set(lsoas["lsoa21_code"])
    # the LSOAs' crosswalk onto the wards was computed in the second process and kept
    sources = store.read_areas("lsoa-2021")
    kept = store.read_crosswalk(harmonise.geometry_fingerprint(sources, "code"), WARDS)
    expected = harmonise.crosswalk(sources, "code", store.read_areas(WARDS))
    pd.testing.assert_frame_equal(kept, pd.DataFrame(expected), check_dtype=False)


def test_a_crosswalk_started_ahead_is_taken_and_a_failed_one_computed_again(
        store_url, capsys, monkeypatch):
    """`indicator_run.crosswalks_ahead` hands each source set's crosswalk to a second
    process; the plan that needs it takes that answer, or computes it if it failed."""
    from concurrent.futures import Future

    import geopandas as gpd

    from placeportrait import boundaries, indicator_run

    load_trafford(store_url, capsys)
    store = open_store(store_url)
    lsoas = gpd.read_file(DEMO / "trafford_lsoa_2021.geojson")
    for name, areas in (("lsoa-a", lsoas), ("lsoa-b", lsoas.iloc[5:])):  # two geometries
        p = boundaries.prepare(areas, name=name, level="lsoa", source="test",
                               code_field="area_code", name_field="area_name")
        store.replace_boundary_set(p.meta, p.areas)
    asked = []

    def submit(fn, *args):  # the second process, here: answer a, fail b
        asked.append(args[0]["code"].size)
        future = Future()
        if len(asked) == 1:
            future.set_result(fn(*args))
        else:
            future.set_exception(RuntimeError("the second process died"))
        return future

    real = harmonise.crosswalk
    computed = []
    wards = indicator_run.set_areas(store, WARDS)
    with indicator_run.crosswalks_ahead(store, WARDS, ["lsoa-a", "lsoa-b"], submit) as started:
        assert started == 2 and asked == [len(lsoas), len(lsoas) - 5]
        monkeypatch.setattr(harmonise, "crosswalk",
                            lambda *a, **k: computed.append(1) or real(*a, **k))
        for name in ("lsoa-a", "lsoa-b"):
            sources = indicator_run.set_areas(store, name)
            got = indicator_run._cached_crosswalk(store, sources, name, lambda: wards, WARDS)
            assert got["intersection_area_m2"].sum() == pytest.approx(
                real(sources, "code", wards)["intersection_area_m2"].sum())
    assert computed == [1]  # only the one that failed ahead
    # both are kept now: a second refresh starts none
    with indicator_run.crosswalks_ahead(store, WARDS, ["lsoa-a", "lsoa-b"], submit) as started:
        assert started == 0


def test_a_refresh_that_fails_midway_leaves_the_geopackage_untouched(gpkg_url, capsys):
    load_trafford(gpkg_url, capsys)
    store = open_store(gpkg_url)
    before = Path(gpkg_url).read_bytes()
    with pytest.raises(RuntimeError):
        with store.batch():
            store.start_run(plugin="x", plugin_version="1", boundary_set=WARDS, source=None)
            assert len(store.runs()) == 1  # reads within the batch see its writes
            raise RuntimeError("killed")
    assert Path(gpkg_url).read_bytes() == before
    assert store.runs().empty


def test_files_are_found_by_published_name_or_alias(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "File_2_-_IoD2019_Domains_of_Deprivation.CSV.gz").write_text("x")
    index = refresh.index_folder(tmp_path)
    assert refresh.file_key("File_2_-_IoD2019_Domains_of_Deprivation.xlsx") in index
    assert refresh.file_key("census2021-ts037.zip") == "census2021-ts037"
    with pytest.raises(Exception, match="no such folder"):
        refresh.index_folder(tmp_path / "missing")


# -- routes -------------------------------------------------------------------------------
def _facts(**over) -> Facts:
    lookup_cols = {"lsoa21_code": {"L1", "L2", "L3"}, "ward24_code": {"W1", "W2"}}
    base = dict(plugin="p", geography="lsoa2021", kind="intensive", has_weights=True,
                source_codes=frozenset({f"L{i}" for i in range(1, 1001)}),  # a whole nation
                boundary_set="wards", target_level="ward",
                target_codes=frozenset({"W1", "W2", "W3"}), target_parents=frozenset({"A"}),
                known_sets=frozenset({"wards", "lsoa-2021"}),
                set_codes=lambda name: {"L1", "L2", "L3", "L4"} if name == "lsoa-2021" else set(),
                source_sets=("lsoa-2021",), lookups=(RunLookup(Path("lk.csv")),),
                lookup_columns=lambda path: lookup_cols, declared_source_set="lsoa-2021")
    return Facts(**{**base, **over})


def test_a_lookup_holding_part_of_a_whole_nation_source_is_used_then_area_fills_the_rest():
    plan = plan_route(_facts())
    assert [s.method for s in plan.steps] == ["lookup", "area_weighted"]
    assert plan.steps[0].lookup == LookupRoute(Path("lk.csv"), "lsoa21_code", "ward24_code")
    assert plan.steps[1].fill and plan.steps[1].source_set == "lsoa-2021"
    assert "the 1 areas the lookup does not reach" in plan.steps[1].reason


def test_without_source_geometry_the_unreached_wards_are_named():
    plan = plan_route(_facts(known_sets=frozenset({"wards"}), source_sets=()))
    assert [s.method for s in plan.steps] == ["lookup"]
    assert any("not in lookup lk.csv (e.g. W3)" in w for w in plan.warnings)


def test_a_lookup_of_another_lsoa_vintage_is_not_used():
    assert other_vintage("lsoa2011", "lsoa21_code") and other_vintage("lsoa2011", "LSOA21CD")
    assert not other_vintage("lsoa2021", "LSOA21CD") and not other_vintage("lsoa2011", "WD19CD")
    plan = plan_route(_facts(geography="lsoa2011", declared_source_set="lsoa-2021"))
    assert [s.method for s in plan.steps] == ["area_weighted"]  # not the LSOA 2021 lookup


def test_filling_keeps_what_the_lookup_reached():
    from placeportrait.harmonise.steps import _filled

    reached = pd.DataFrame({"area_code": ["W1", "W2", "W3"], "period": "2021",
                            "value": [1.0, 2.0, float("nan")], "source_rows": [2, 1, 0]})
    by_area = pd.DataFrame({"area_code": ["W1", "W2", "W3"], "period": "2021",
                            "value": [9.0, 9.0, 3.0], "source_rows": [3, 3, 2]})
    out = _filled(reached, by_area).set_index("area_code")["value"]
    assert out.to_dict() == {"W1": 1.0, "W2": 2.0, "W3": 3.0}
    assert harmonise.plan.EXTENT_MATCH == 0.95


def test_every_release_of_a_source_published_by_period_is_run(tmp_path):
    """Fuel poverty (LILEE) is published once a year: both releases in the folder are run,
    one period each. A single-period source found under two names runs once."""
    from placeportrait import plugins

    lilee, census = plugins.load("fuel_poverty_lilee"), plugins.load("census21_bad_health")
    for plugin in (lilee, census):
        for name in refresh.wanted(plugin.meta)["main"]:
            (tmp_path / name).write_text("x")
    plan = {p.plugin.id: p for p in refresh.plan_refresh([lilee, census], tmp_path).plugins}
    releases = [Path(r["fuel_poverty_lilee"]).name for r in plan["fuel_poverty_lilee"].releases]
    assert releases == ["sub-regional-fuel-poverty-2022-tables.xlsx", "LSOA_Fuel_Poverty_2019.csv"]
    assert len(plan["census21_bad_health"].releases) == 1


def test_an_optional_source_is_asked_for_only_by_a_republished_copy(tmp_path):
    """IoD 2025's File 7 carries its denominators; the IMD package's copy has none, so a
    refresh that finds the copy also needs the Census 2021 table that weights it."""
    from placeportrait import plugins

    plugin = plugins.load("income_deprivation_rate_2025")
    published, copy = tmp_path / "published", tmp_path / "copy"
    for folder in (published, copy):
        folder.mkdir()
    (published / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv").write_text("x")
    (copy / "imd2025_england_lsoa21.csv.gz").write_text("x")
    assert refresh.plan_refresh([plugin], published).plugins[0].runnable
    wanting = refresh.plan_refresh([plugin], copy).plugins[0]
    assert not wanting.runnable
    assert "census21_ts037_general_health_lsoa21_from_oa.csv" in wanting.missing[0]
    (copy / "census21_ts037_general_health_lsoa21_from_oa.csv.gz").write_text("x")
    found = refresh.plan_refresh([plugin], copy).plugins[0]
    assert found.runnable and "income_deprivation_rate_2025.population" in found.inputs
