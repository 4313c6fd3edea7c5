"""The plugin contract, the registry and real-file quirks."""

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from placeportrait import plugins, readers
from placeportrait.errors import InputError, InvalidPluginError, UnknownNameError

from conftest import DATA
from test_boundaries import run

ROOT = Path(__file__).parents[1]
IND = DATA / "indicators"


def test_builtin_plugins_load_and_are_documented():
    registry = plugins.discover()
    assert registry.errors == []
    doc = (ROOT / "indicators" / "README.md").read_text()
    for pid, plugin in registry.plugins.items():
        assert f"`{pid}`" in doc, f"plugin {pid} is not documented in indicators/README.md"
        assert plugin.meta.threshold_citation and plugin.meta.licence and plugin.meta.attribution


def test_lookup_by_id_path_and_dotted_path():
    assert plugins.load("fuel_poverty").id == "fuel_poverty"
    assert plugins.load(str(ROOT / "indicators" / "imd_most_deprived.py")).id == "imd_most_deprived"
    with pytest.raises(UnknownNameError, match="fuel_poverty"):
        plugins.load("no_such_indicator")
    with pytest.raises(InvalidPluginError, match="cannot import"):
        plugins.load("no_such_package.module:Thing")


def _yaml(tmp_path, text, name="x.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


VALID = """
    id: my_share
    title: My share
    description: A test indicator.
    ring: social
    dimension: housing
    lens: local-social
    unit: "%"
    polarity: lower_is_better
    threshold: {value: 0, baseline: 100, citation: "Raworth 2017"}
    source: {publisher: Me, url: "https://example.org/x.csv", licence: OGL v3.0, attribution: Me}
    geography: ward
    measure: {kind: intensive}
    periods: ["2021"]
    read: {format: csv, code_column: code, value_column: value, period: "2021"}
"""


@pytest.mark.parametrize("change, message", [
    (("ring: social", "ring: middle"), "'ring' is 'middle'"),
    (("dimension: housing", "dimension: happiness"), "happiness"),
    (("dimension: housing", "dimension: climate_change"), "ecological ring"),
    (('citation: "Raworth 2017"', 'citation: ""'), "threshold.'citation'"),
    (("geography: ward", "geography: parish"), "'geography' is 'parish'"),
    (("value_column: value", "value_colum: value"), "unknown read keys"),
])
def test_invalid_metadata_is_one_clear_line(tmp_path, capsys, change, message):
    path = _yaml(tmp_path, VALID.replace(*change))
    code, _, err = run(capsys, "indicators", "validate", path)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(path) in lines[0]


def test_validate_ok(tmp_path, capsys):
    code, out, _ = run(capsys, "indicators", "validate", _yaml(tmp_path, VALID))
    assert code == 0 and "ok: my_share" in out


def test_drop_in_folder_and_broken_plugins_are_reported(tmp_path, monkeypatch, capsys):
    _yaml(tmp_path, VALID, "good.yaml")
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.setenv(plugins.PATH_ENV, str(tmp_path))
    registry = plugins.discover()
    assert "my_share" in registry.plugins
    assert any("broken.py" in e and "boom" in e for e in registry.errors)
    code, out, err = run(capsys, "indicators", "list")
    assert code == 1 and "my_share" in out and "broken.py" in err


def test_list_and_show(capsys):
    code, out, _ = run(capsys, "indicators", "list")
    assert code == 0 and "fuel_poverty" in out and "never" in out
    code, out, _ = run(capsys, "indicators", "show", "gigabit_broadband")
    assert code == 0 and "Project" in out and "Open Government Licence" in out


# -- real formats ---------------------------------------------------------------------------
def test_bom_and_thousands_separators():
    frame = readers.read_csv(IND / "iod2019_file6_trafford.csv")
    assert frame.columns[0] == "LSOA code (2011)"  # BOM stripped
    pop = readers.to_number(frame["Total population: mid 2015 (excluding prisoners)"],
                            column="pop", path="f")
    assert pop.iloc[0] == 1629  # published as "1,629"
    assert len(frame) == 138


@pytest.mark.parametrize("marker", ["..", "c", "*", "x", ""])
def test_suppressed_values_are_no_data_not_zero(marker):
    got = readers.to_number(pd.Series(["1.5", marker, "2,000"]), column="v", path="f")
    assert got.iloc[0] == 1.5 and pd.isna(got.iloc[1]) and got.iloc[2] == 2000


def test_non_numeric_value_names_row_and_column():
    with pytest.raises(InputError, match=r"f: row 3, column 'v': 'abc' is not a number"):
        readers.to_number(pd.Series(["1", "abc"]), column="v", path="f")


def test_html_saved_as_csv(tmp_path):
    page = tmp_path / "data.csv"
    page.write_text("<!DOCTYPE html>\n<html><body>Service unavailable</body></html>")
    with pytest.raises(InputError, match="HTML"):
        readers.read_csv(page)


def test_truncated_csv(tmp_path):
    cut = tmp_path / "cut.csv"
    text = (IND / "fuel_poverty_trafford_2017.csv").read_text()
    cut.write_text(text[: len(text) // 2].rsplit(",", 3)[0])
    with pytest.raises(InputError, match="truncated"):
        readers.read_csv(cut)


def test_declarative_plugin_reads_real_file():
    table = plugins.load("fuel_poverty").load(IND / "fuel_poverty_trafford_2017.csv")
    assert len(table) == 138 and set(table["period"]) == {"2017"}
    assert table["value"].between(0, 100).all()


def test_declarative_filter_and_period_column():
    table = plugins.load("gigabit_broadband").load(IND / "gigabit-capable-broadband.csv")
    assert table.set_index("code").loc["E08000009", "value"] == 94.0
    assert not table["code"].str.startswith("K").any()  # countries filtered out


def test_python_plugin_with_extra_source():
    plugin = plugins.load("imd_most_deprived")
    table = plugin.load(IND / "iod2019_file1_trafford.csv",
                        population=IND / "iod2019_file6_trafford.csv")
    assert len(table) == 138 and set(table["value"].dropna()) <= {0.0, 100.0}
    assert table["weight"].sum() == pytest.approx(233_300, rel=0.01)  # Trafford mid-2015


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.rename(columns={"value": "val"}), "missing column 'value'"),
    (lambda f: f.assign(value=f["value"].where(f.index != 5, "n.a.x")), "row 7, column 'value'"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), "duplicate code and period"),
    # a NUL from a corrupt file would otherwise be a second, invisible period
    (lambda f: f.assign(period=f["period"].where(f.index != 5, "\x002017")),
     r"column 'period' holds a control character \(row 7: '\\x002017'\)"),
])
def test_bad_source_tables(tmp_path, mutate, message):
    frame = pd.read_csv(IND / "fuel_poverty_trafford_2017.csv", dtype=str)
    path = tmp_path / "bad.csv"
    mutate(frame).to_csv(path, index=False)
    with pytest.raises(InputError, match=message):
        plugins.load("fuel_poverty").load(path)


def test_blank_rows_are_skipped(tmp_path):
    text = (IND / "fuel_poverty_trafford_2017.csv").read_text().splitlines()
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(text[:5] + [",,,,,,,,"] + text[5:]) + "\n")
    assert len(plugins.load("fuel_poverty").load(path)) == 138


def test_plugin_that_raises_is_one_clear_line(tmp_path, monkeypatch):
    (tmp_path / "raiser.py").write_text(textwrap.dedent('''
        from placeportrait.plugins import IndicatorPlugin
        import yaml
        class Raiser(IndicatorPlugin):
            metadata = yaml.safe_load(open(__file__.replace("raiser.py", "meta.yaml")))
            def read(self, path):
                return {}["missing"]
    '''))
    _yaml(tmp_path, VALID.split("    read:")[0].replace("my_share", "raiser"), "meta.yaml")
    plugin = plugins.load(str(tmp_path / "raiser.py"))
    with pytest.raises(InputError, match="plugin raiser: reading .* failed: KeyError"):
        plugin.load(tmp_path / "whatever.csv")


def test_council_local_dimension_from_the_plugin_folder(tmp_path, monkeypatch, capsys):
    from placeportrait import dimensions

    (tmp_path / "local_dimensions.yaml").write_text(
        "dimensions:\n  - {id: green_space, label: Access to green space, ring: social}\n")
    _yaml(tmp_path, VALID.replace("dimension: housing", "dimension: green_space"), "green.yaml")
    monkeypatch.setenv(plugins.PATH_ENV, str(tmp_path))
    try:
        registry = plugins.discover()
        assert registry.errors == [] and registry.plugins["my_share"].meta.dimension == "green_space"
        assert dimensions.get_dimension("green_space").local
    finally:
        dimensions.unregister_local_dimension("green_space")


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    """An installed package registers plugins under the `placeportrait.indicators` group."""
    from importlib.metadata import EntryPoint

    package = tmp_path / "council_indicators"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        import yaml
        from placeportrait.plugins import IndicatorPlugin

        class CouncilShare(IndicatorPlugin):
            metadata = yaml.safe_load(open(__file__.replace("__init__.py", "meta.yaml")))

            def read(self, path):
                raise NotImplementedError
    '''))
    (package / "meta.yaml").write_text(textwrap.dedent(VALID.split("    read:")[0]).replace("my_share", "council_share"))
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint(name="council_share", value="council_indicators:CouncilShare",
                       group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group: [point] if group == plugins.ENTRY_POINT_GROUP else [])
    registry = plugins.discover()
    assert "council_share" in registry.plugins
    assert registry.origins["council_share"].startswith("entry point council_share")
    broken = EntryPoint(name="broken", value="no_such_module:X", group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [broken])
    assert any("no_such_module" in e for e in plugins.discover().errors)
