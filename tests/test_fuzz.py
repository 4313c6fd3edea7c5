"""Corrupted real source files get the project's own errors, never a deep traceback,
and never partial data (issue: reliability)."""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placeportrait import boundaries, indicator_run, plugins
from placeportrait.errors import PlacePortraitError
from placeportrait.store import open_store

from conftest import DATA

CSV = (DATA / "indicators" / "fuel_poverty_trafford_2017.csv").read_bytes()
WARDS = (DATA / "boundaries" / "trafford_wards_2013_ons.json").read_bytes()
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def corruptions(data: bytes):
    """Truncation, random bytes spliced in, a wrong encoding, or a byte flip."""
    n = len(data)
    return st.one_of(
        st.integers(0, n).map(lambda k: data[:k]),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=64)).map(
            lambda t: data[:t[0]] + t[1] + data[t[0]:]),
        st.just(data.decode("utf-8-sig").encode("utf-16")),
        st.tuples(st.integers(0, n - 1), st.integers(0, 255)).map(
            lambda t: data[:t[0]] + bytes([t[1]]) + data[t[0] + 1:]),
    )


def values_mutations():
    """Huge numbers, NaN, infinity, negatives, text, and swapped columns."""
    bad_value = st.sampled_from(["1e309", "-1e309", "inf", "NaN", "nan", "1e300", "-5", "", "..",
                                 "12,5", "☃", "0x10", "1_000"])
    return st.one_of(
        st.tuples(st.integers(0, 137), bad_value).map(lambda t: ("value", t)),
        st.just(("swap", None)),
    )


def _load(path):
    return plugins.load("fuel_poverty").load(path)


@FUZZ
@given(data=corruptions(CSV))
def test_corrupted_csv_gives_a_valid_table_or_our_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fz") / "fuel_poverty.csv"
    path.write_bytes(data)
    try:
        table = _load(path)
    except PlacePortraitError as exc:
        assert "\n" not in str(exc).strip()
        return
    assert table["code"].notna().all() and table["value"].dropna().between(-1e300, 1e300).all()


@FUZZ
@given(mutation=values_mutations())
def test_bad_values_are_refused_or_kept_as_no_data(tmp_path_factory, mutation):
    frame = pd.read_csv(DATA / "indicators" / "fuel_poverty_trafford_2017.csv", dtype=str)
    kind, arg = mutation
    if kind == "swap":
        frame = frame.rename(columns={"value": "lsoa11cd", "lsoa11cd": "value"})
    else:
        row, text = arg
        frame.loc[row, "value"] = text
    path = tmp_path_factory.mktemp("fz") / "fp.csv"
    frame.to_csv(path, index=False)
    try:
        table = _load(path)
    except PlacePortraitError:
        return
    finite = table["value"].dropna()
    assert finite.abs().max() < float("inf")


@FUZZ
@given(data=corruptions(WARDS))
def test_corrupted_boundaries_give_our_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fz") / "wards.json"
    path.write_bytes(data)
    try:
        prepared = boundaries.prepare(boundaries.read_source(str(path)), name="w", level="ward",
                                      source=str(path))
    except PlacePortraitError:
        return
    assert prepared.areas["code"].is_unique and prepared.areas.geometry.is_valid.all()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=corruptions(CSV))
def test_a_failed_run_never_leaves_partial_values(tmp_path_factory, data):
    home = tmp_path_factory.mktemp("store")
    store = open_store(str(home / "s.gpkg"))
    demo = DATA.parents[1] / "src" / "placeportrait" / "data" / "demo"
    for file, name, level, code in (("trafford_wards_dec2023_bsc.geojson", "w", "ward", None),
                                    ("trafford_lsoa_2011.geojson", "lsoa-2011", "lsoa", "area_code")):
        p = boundaries.prepare(boundaries.read_source(str(demo / file)), name=name, level=level,
                               source=file, code_field=code)
        store.replace_boundary_set(p.meta, p.areas)
    good = home / "good.csv"
    good.write_bytes(CSV)
    plugin = plugins.load("fuel_poverty")
    indicator_run.run_indicator(store, plugin, "w", inputs={"fuel_poverty": str(good)})
    before = store.read_values("w", ["fuel_poverty"])
    bad = home / "bad.csv"
    bad.write_bytes(data)
    try:
        indicator_run.run_indicator(store, plugin, "w", inputs={"fuel_poverty": str(bad)})
    except PlacePortraitError:
        pd.testing.assert_frame_equal(store.read_values("w", ["fuel_poverty"]), before)
        assert store.runs("fuel_poverty").iloc[0]["status"] == "failed"
        return
    after = store.read_values("w", ["fuel_poverty"])
    assert len(after) == len(before) and after["run_id"].nunique() == 1
