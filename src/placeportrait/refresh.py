"""`placeportrait refresh`: every built-in indicator whose source is in a folder, offline.

A council behind a firewall downloads the published files into one folder and runs one
command. :func:`plan_refresh` decides, from the folder alone, what each plugin will read:
its source and extra sources (by the file name of the published address, or an alias the
plugin documents in ``source.aliases``), the best-fit lookups and the source geometry found
there. :func:`load_geometry` then loads missing source geometry, and the CLI runs each
plugin and scores the set.

Files are matched by name, case-insensitively, ignoring the folder they sit in, a ``.gz``
or ``.zip`` wrapper, and the table format (``File_2_….xlsx`` is found as ``File_2_….csv``):
:func:`file_key`. Each file is read through :mod:`placeportrait.compressed`, as everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from placeportrait.errors import InputError

WRAPPERS = (".gz", ".zip")
FORMATS = (".csv", ".xlsx", ".xls", ".json", ".geojson", ".gpkg", ".tif", ".tiff", ".txt")


@dataclass(frozen=True)
class GeometryFile:
    """A source-geometry boundary file a plugin's areas may be interpolated from."""

    set_name: str
    level: str
    vintage: str
    code_field: str | None = None
    name_field: str | None = None


#: Source geometry by file key: the ONS portal's names and the names of the copies in the
#: project's shared data (generalised conversions of the same boundaries).
SOURCE_GEOMETRY = {
    "lsoa_dec_2011_boundaries_generalised_clipped_bgc_ew_v3": GeometryFile("lsoa-2011", "lsoa", "2011"),
    "lsoa11_ew_simplified": GeometryFile("lsoa-2011", "lsoa", "2011", "lsoa11_code", "lsoa11_name"),
    "lower_layer_super_output_areas_december_2021_boundaries_ew_bgc_v5":
        GeometryFile("lsoa-2021", "lsoa", "2021"),
    "lsoa21_ew_bsc": GeometryFile("lsoa-2021", "lsoa", "2021", "lsoa21_code", "lsoa21_name"),
    "sg_datazone_bdry_2011": GeometryFile("dz-2011", "dz", "2011", "DataZone", "Name"),
    "dz11_scotland_simplified": GeometryFile("dz-2011", "dz", "2011", "dz11_code", "dz11_name"),
    "soa2001": GeometryFile("soa-2001", "soa", "2001", "SOA_CODE", "SOA_LABEL"),
    "soa01_ni_simplified": GeometryFile("soa-2001", "soa", "2001", "soa11_code", "soa11_name"),
    "sdz2021": GeometryFile("sdz-2021", "sdz", "2021", "SDZ2021_cd", "SDZ2021_nm"),
    "sdz21_ni_simplified": GeometryFile("sdz-2021", "sdz", "2021", "sdz21_code", "sdz21_name"),
}

#: Best-fit lookups from small areas to wards, by file key, with their columns.
LOOKUPS = {
    "lsoa11_to_wd19_to_lad19_lookup_in_england_and_wales": "LSOA11CD:WD19CD",
    "lsoa_(2021)_to_electoral_ward_(2024)_to_lad_(2024)_best_fit_lookup_in_ew": "LSOA21CD:WD24CD",
    "lsoa21_ward24_lad24_ew": "lsoa21_code:ward24_code",
}


@dataclass
class PluginFiles:
    """What one plugin will read, or why it cannot run."""

    plugin: object
    inputs: dict[str, str] = field(default_factory=dict)  # --input style: id / id.extra
    missing: list[str] = field(default_factory=list)       # file names looked for, not found
    releases: list[dict[str, str]] = field(default_factory=list)  # one run each (see below)

    @property
    def runnable(self) -> bool:
        return not self.missing


@dataclass
class RefreshPlan:
    plugins: list[PluginFiles]
    lookups: list[str]                        # FROM:TO=PATH specs
    geometry: dict[str, tuple[Path, GeometryFile]]  # set name -> file
    context: dict[str, str] = field(default_factory=dict)  # ward_context source -> path

    @property
    def context_runnable(self) -> bool:
        from placeportrait.ward_context import SOURCES

        return all(s.name in self.context for s in SOURCES if s.required)


def file_key(name: str) -> str:
    """A file's name as matched: lower case, without wrappers and table format."""
    key = Path(unquote(str(name))).name.lower()
    for suffixes in (WRAPPERS, FORMATS):
        for suffix in suffixes:
            if key.endswith(suffix):
                key = key[: -len(suffix)]
                break
    return key


def index_folder(folder: Path) -> dict[str, Path]:
    """Every regular file under ``folder`` by :func:`file_key` (the first, by path, wins)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--data-dir {folder}: no such folder")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            found.setdefault(file_key(path.name), path)
    return found


def wanted(meta) -> dict[str, list[str]]:
    """The file names that would do for each source of a plugin: the published address's
    file name, then its aliases."""
    sources = {"main": meta.url, **meta.extra_sources}
    return {name: [*published_name(url), *meta.aliases.get(name, ())]
            for name, url in sources.items()}


def published_name(url: str) -> tuple[str, ...]:
    """The file name a download address names, decoded, as a 0- or 1-tuple.

    An address such as …/downloads names no file, and one with a query (a table
    builder's …/table.csv?d=…) names a query, not a file: only aliases will do for those.
    """
    address = urlparse(url)
    published = unquote(Path(address.path).name)
    return (published,) if "." in published and not address.query else ()


def find_file(index: dict[str, Path], names) -> Path | None:
    """The first of ``names`` the folder holds (by :func:`file_key`), else None."""
    return next(iter(find_files(index, names)), None)


def find_files(index: dict[str, Path], names) -> list[Path]:
    """Every one of ``names`` the folder holds (by :func:`file_key`), in their order."""
    return list(dict.fromkeys(index[file_key(n)] for n in names if file_key(n) in index))


def plugin_files(plugin, index: dict[str, Path]) -> PluginFiles:
    """The files a plugin reads. A source published as one file per release (a plugin
    with several ``periods``) runs once for each release found, so every period a folder
    holds is loaded; any other runs once, on the first name found."""
    found = PluginFiles(plugin)
    mains: list[Path] = []
    published = {file_key(n) for n in published_name(plugin.meta.url)}
    for source, names in wanted(plugin.meta).items():
        paths = find_files(index, names)
        # An optional source is one the published file does without; a copy found by an
        # alias (a republished layout) may need it.
        if not paths and source in plugin.meta.optional_sources and mains and all(
                file_key(p.name) in published for p in mains):
            continue
        if not paths:
            found.missing.append(" or ".join(dict.fromkeys(names)) if names else
                                 f"file for {source!r} (its address names none; "
                                 "use `indicators run --input`)")
            continue
        found.inputs[plugin.id if source == "main" else f"{plugin.id}.{source}"] = str(paths[0])
        if source == "main":
            mains = paths if len(plugin.meta.periods) > 1 else paths[:1]
    found.releases = [{**found.inputs, plugin.id: str(p)} for p in mains]
    return found


def plan_refresh(plugins, folder: Path) -> RefreshPlan:
    """What a refresh from ``folder`` will run (decides only; reads no file's contents)."""
    index = index_folder(folder)
    geometry = {}
    for key, spec in SOURCE_GEOMETRY.items():
        if key in index and spec.set_name not in geometry:
            geometry[spec.set_name] = (index[key], spec)
    lookups = [f"{columns}={index[key]}" for key, columns in LOOKUPS.items() if key in index]
    return RefreshPlan([plugin_files(p, index) for p in plugins], lookups, geometry,
                       context_files(index))


def context_files(index: dict[str, Path]) -> dict[str, str]:
    """The files of :mod:`placeportrait.ward_context` found in a folder, by source name."""
    from placeportrait.ward_context import SOURCES

    found = {}
    for source in SOURCES:
        path = find_file(index, source.file_names)
        if path is not None:
            found[source.name] = str(path)
    return found


def load_geometry(store, plan: RefreshPlan, report, tiles=None) -> list[str]:
    """Load each source-geometry set found that the store does not hold; returns the
    names of every source-geometry set available to the runs.

    ``tiles``, a :class:`placeportrait.vector_tiles.BuiltAlongside`, builds each set's
    vector tiles in a second process while the runs go on; without it they are built
    before the set is loaded.
    """
    from placeportrait import boundaries

    loaded = set(store.boundary_sets()["name"]) if store.schema_version() else set()
    for name, (path, spec) in plan.geometry.items():
        if name in loaded:
            continue
        gdf = boundaries.read_source(str(path))
        prepared = boundaries.prepare(
            gdf, name=name, level=spec.level, source=str(path), code_field=spec.code_field,
            name_field=spec.name_field, vintage=spec.vintage,
            licence="Open Government Licence v3.0",
            attribution=("Source: Office for National Statistics licensed under the Open "
                         "Government Licence v3.0. Contains OS data © Crown copyright and "
                         "database right."))
        if tiles is None:
            store.replace_boundary_set(prepared.meta, prepared.areas)
        else:
            tiles.later(prepared.meta, prepared.areas)
        report(f"source geometry: loaded {name!r} ({len(prepared.areas):,} areas) from {path.name}")
    return sorted(set(plan.geometry) | (loaded & {g.set_name for g in SOURCE_GEOMETRY.values()}))


def coverage_line(result) -> str:
    """``ok`` line of one run: its coverage of the set."""
    share = result.areas_with_data / max(result.areas, 1)
    # "lookup (x.csv: A to B), then area_weighted from lsoa-2021 where …" → "lookup +
    # area_weighted": the whole route is in `indicators run --explain`
    method = re.sub(r" \(.*?\)| from \S+| where it does not reach", "", result.method)
    method = method.replace(", then ", " + ")
    return (f"ok       {result.indicator}: {result.areas_with_data:,} of {result.areas:,} areas "
            f"({share:.0%}) by {method}")
