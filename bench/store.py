"""Loading the UK ward set into each store."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def run(context) -> list[dict]:
    from bench.national import UK_2019, UK_2023
    from placeportrait import boundaries
    from placeportrait.store import open_store

    rows = []
    for path, name in ((UK_2023, "uk-2023"), (UK_2019, "uk-2019")):
        t0 = time.perf_counter()
        prepared = boundaries.prepare(boundaries.read_source(str(path)), name=name, level="ward",
                                      source=str(path))
        t_prepare = time.perf_counter() - t0
        rows.append({"step": "load", "case": f"read + check + repair {name} ({len(prepared.areas):,})",
                     "seconds": t_prepare})
        stores = [("geopackage", str(Path(tempfile.mkdtemp()) / "bench.gpkg"))]
        if context.get("database_url"):
            stores.append(("postgis", context["database_url"]))
        for kind, url in stores:
            store = open_store(url)
            store.init()
            t0 = time.perf_counter()
            store.replace_boundary_set(prepared.meta, prepared.areas)
            rows.append({"step": "load", "case": f"write {name} into {kind}",
                         "seconds": time.perf_counter() - t0})
            if kind == "postgis":
                store.delete_boundary_set(name)
    return rows
