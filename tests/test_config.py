import pytest

from placeportrait.config import resolve_store
from placeportrait.errors import ConfigError


def test_default_is_embedded_geopackage_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLACEPORTRAIT_HOME", str(tmp_path))
    loc = resolve_store()
    assert loc.kind == "geopackage"
    assert loc.url == str(tmp_path / "placeportrait.gpkg")


def test_environment_then_option(monkeypatch, tmp_path):
    monkeypatch.setenv("PLACEPORTRAIT_DATABASE_URL", "postgresql://u:secret@localhost/db")
    assert resolve_store().url == "postgresql+psycopg://u:secret@localhost/db"
    assert "secret" not in resolve_store().display()
    explicit = resolve_store(str(tmp_path / "x.gpkg"))
    assert explicit.kind == "geopackage" and explicit.url.endswith("x.gpkg")


@pytest.mark.parametrize("bad", ["mysql://localhost/db", "postgresql+psycopg2://h/db", "store.sqlite"])
def test_unsupported_urls_are_clear_errors(bad):
    with pytest.raises(ConfigError):
        resolve_store(bad)
