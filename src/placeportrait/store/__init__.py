"""The store: PostGIS in production, one GeoPackage file by default."""

from __future__ import annotations

from placeportrait.config import StoreLocation, resolve_store
from placeportrait.store.base import Store


def open_store(database_url: str | StoreLocation | None = None) -> Store:
    """Open the store named by a URL or path, the environment, or the default."""
    location = database_url if isinstance(database_url, StoreLocation) else resolve_store(database_url)
    if location.kind == "postgis":
        from placeportrait.store.postgis import PostGISStore

        return PostGISStore(location)
    from placeportrait.store.geopackage import GeoPackageStore

    return GeoPackageStore(location)


__all__ = ["Store", "open_store"]
