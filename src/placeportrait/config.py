"""Where the store lives.

The store is chosen, in order, by the ``--database-url`` option, the
``PLACEPORTRAIT_DATABASE_URL`` environment variable, or the embedded default: one
GeoPackage file at ``$PLACEPORTRAIT_HOME/placeportrait.gpkg``, where
``PLACEPORTRAIT_HOME`` defaults to ``$XDG_DATA_HOME/placeportrait`` (usually
``~/.local/share/placeportrait``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from placeportrait.errors import ConfigError

DATABASE_URL_ENV = "PLACEPORTRAIT_DATABASE_URL"
HOME_ENV = "PLACEPORTRAIT_HOME"


@dataclass(frozen=True)
class StoreLocation:
    """A resolved store: ``kind`` is ``"postgis"`` or ``"geopackage"``."""

    kind: str
    url: str  # a SQLAlchemy URL for PostGIS, a file path for the GeoPackage

    def display(self) -> str:
        """The location with any password hidden, safe to print."""
        if self.kind == "postgis":
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        return self.url


def home_dir() -> Path:
    """The directory for the embedded store and the download cache."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "placeportrait"


def default_store_path() -> Path:
    return home_dir() / "placeportrait.gpkg"


def cache_dir() -> Path:
    return Path(os.environ.get("PLACEPORTRAIT_CACHE") or home_dir() / "cache")


def resolve_store(database_url: str | None = None) -> StoreLocation:
    """Resolve the store from an explicit value, the environment, or the default.

    ``postgresql://`` and ``postgresql+psycopg://`` URLs select PostGIS (the former
    is rewritten to use psycopg 3); a path ending in ``.gpkg`` (or ``gpkg:PATH``)
    selects the embedded GeoPackage store.
    """
    value = database_url or os.environ.get(DATABASE_URL_ENV) or ""
    value = value.strip()
    if not value:
        return StoreLocation("geopackage", str(default_store_path()))
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    if value.startswith("postgresql+psycopg://"):
        return StoreLocation("postgis", value)
    if value.startswith("postgresql+"):
        raise ConfigError(
            f"database URL uses driver {value.split('://')[0]!r}; use postgresql+psycopg://"
        )
    if value.startswith("gpkg:"):
        value = value[len("gpkg:"):]
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r}: use postgresql+psycopg://… or a .gpkg path"
        )
    if not value.lower().endswith(".gpkg"):
        raise ConfigError(f"embedded store path {value!r} must end in .gpkg")
    return StoreLocation("geopackage", str(Path(value).expanduser()))
