"""Indicator plugins: the contract and the registry.

A plugin is a metadata dict plus a class with one job: read its source and return a
tidy table (``code, period, value`` and optionally ``weight``; a GeoDataFrame for
grids and points) that passes :data:`SOURCE_TABLE`. Plugins come from

1. the ``indicators/`` folder of this repository (the built-in ones),
2. folders named in ``PLACEPORTRAIT_INDICATORS_PATH`` (``os.pathsep``-separated),
3. installed packages, through the entry-point group ``placeportrait.indicators``.

A folder holds Python modules (each with one or more ``IndicatorPlugin`` subclasses)
and declarative ``.yaml`` files for the common case of one table with a code column
and a value column. ``indicators/README.md`` documents the contract.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml

from placeportrait import compressed, dimensions, readers
from placeportrait.errors import InputError, InvalidPluginError, UnknownNameError

ENTRY_POINT_GROUP = "placeportrait.indicators"
PATH_ENV = "PLACEPORTRAIT_INDICATORS_PATH"
GEOGRAPHIES = ("ward", "lsoa2011", "lsoa2021", "oa2011", "oa2021", "msoa2011", "msoa2021",
               "dz2011", "dz2022", "soa2001", "sdz2021",
               "lad", "postcode", "grid", "raster", "points")
MEASURE_KINDS = ("extensive", "intensive")
POLARITIES = ("higher_is_better", "lower_is_better")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
# Text an analyst meant to replace: "TODO: ...", "TBC", "...", "xxx", "?".
PLACEHOLDER = re.compile(r"^\s*((todo|tbd|tbc|fixme|xxx+|placeholder)\b.*|[.…?\s-]*)$",
                         re.IGNORECASE | re.DOTALL)

#: Codes and periods are keys: a control character (a NUL from a corrupt file) would make
#: a new, invisible period or area rather than an error.
PRINTABLE = pa.Check(lambda s: ~s.astype(str).str.contains(r"[\x00-\x1f\x7f]", regex=True),
                     error="no control characters")
SOURCE_TABLE = pa.DataFrameSchema(
    {
        "code": pa.Column(str, nullable=False,
                          checks=[pa.Check.str_length(min_value=1), PRINTABLE]),
        "period": pa.Column(str, nullable=False, checks=PRINTABLE),
        "value": pa.Column(float, nullable=True,
                           checks=pa.Check(lambda s: ~np.isinf(s), error="finite")),
        "weight": pa.Column(float, nullable=True, required=False,
                            checks=pa.Check.ge(0)),
    },
    unique=["code", "period"],
    strict=False,
    coerce=True,
)


def builtin_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "indicators"


@dataclass(frozen=True)
class IndicatorMeta:
    """Validated plugin metadata. See ``indicators/README.md`` for each field."""

    id: str
    title: str
    description: str
    ring: str
    dimension: str
    lens: str
    unit: str
    polarity: str
    threshold: float
    baseline: float
    threshold_citation: str
    publisher: str
    url: str
    licence: str
    attribution: str
    geography: str
    measure_kind: str
    denominator: str | None
    periods: tuple[str, ...]
    version: str = "1"
    min_coverage: float = 0.5
    max_unmatched_share: float = 0.05
    harmonise: dict = field(default_factory=dict)
    extra_sources: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)  # source name ("main" or extra) -> file names
    optional_sources: tuple[str, ...] = ()  # extra sources a run may go without
    series_breaks: dict = field(default_factory=dict)  # first period after a break -> why

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "IndicatorMeta":
        def need(mapping, key, ctx=""):
            if not isinstance(mapping, dict) or mapping.get(key) in (None, ""):
                raise InvalidPluginError(f"{where}: metadata is missing {ctx}{key!r}")
            value = mapping[key]
            if isinstance(value, str) and PLACEHOLDER.match(value):
                raise InvalidPluginError(f"{where}: metadata {ctx}{key} is a placeholder "
                                         f"({value!r}): give the real text")
            return value

        def one_of(value, options, key):
            if value not in options:
                raise InvalidPluginError(
                    f"{where}: metadata {key!r} is {value!r}; expected one of {', '.join(options)}")
            return value

        if not isinstance(d, dict):
            raise InvalidPluginError(f"{where}: metadata must be a mapping")
        pid = need(d, "id")
        if not ID_PATTERN.match(str(pid)):
            raise InvalidPluginError(f"{where}: id {pid!r} must be lower-case letters, digits and _")
        ring = one_of(need(d, "ring"), dimensions.RINGS, "ring")
        dim = need(d, "dimension")
        try:
            dim_ring = dimensions.get_dimension(dim).ring
        except UnknownNameError as exc:
            raise InvalidPluginError(f"{where}: {exc}") from None
        if dim_ring != ring:
            raise InvalidPluginError(f"{where}: dimension {dim!r} is in the {dim_ring} ring, not {ring}")
        lens = need(d, "lens")
        try:
            dimensions.get_lens(lens)
        except UnknownNameError as exc:
            raise InvalidPluginError(f"{where}: {exc}") from None
        thr = need(d, "threshold")
        source = need(d, "source")
        measure = need(d, "measure")
        try:
            threshold = float(need(thr, "value", "threshold."))
            baseline = float(thr.get("baseline", 0) or 0)
            min_cov = float(d.get("min_coverage", 0.5))
            max_unmatched = float(d.get("max_unmatched_share", 0.05))
        except (TypeError, ValueError):
            raise InvalidPluginError(f"{where}: threshold, baseline and coverage must be numbers") from None
        if threshold == baseline:
            raise InvalidPluginError(f"{where}: threshold equals baseline ({threshold})")
        if not 0 <= min_cov <= 1:
            raise InvalidPluginError(f"{where}: min_coverage must lie in [0, 1]")
        periods = d.get("periods") or []
        if isinstance(periods, (str, int)):
            periods = [periods]
        return cls(
            id=pid, title=need(d, "title"), description=need(d, "description"), ring=ring,
            dimension=dim, lens=lens, unit=need(d, "unit"),
            polarity=one_of(need(d, "polarity"), POLARITIES, "polarity"),
            threshold=threshold, baseline=baseline,
            threshold_citation=need(thr, "citation", "threshold."),
            publisher=need(source, "publisher", "source."), url=need(source, "url", "source."),
            licence=need(source, "licence", "source."),
            attribution=need(source, "attribution", "source."),
            geography=one_of(need(d, "geography"), GEOGRAPHIES, "geography"),
            measure_kind=one_of(need(measure, "kind", "measure."), MEASURE_KINDS, "measure.kind"),
            denominator=measure.get("denominator"),
            periods=tuple(str(p) for p in periods), version=str(d.get("version", "1")),
            min_coverage=min_cov, max_unmatched_share=max_unmatched,
            harmonise=dict(d.get("harmonise") or {}),
            extra_sources=dict(source.get("extra") or {}),
            aliases=_aliases(source.get("aliases"), where),
            optional_sources=_optional(source, where),
            series_breaks=_series_breaks(d.get("series_breaks"), where),
        )


def _aliases(given, where: str) -> dict:
    """``source.aliases``: other file names of each source (``main`` or an extra source's
    name), e.g. the name a republished copy goes by; `placeportrait refresh` looks for them."""
    if given is None:
        return {}
    if not isinstance(given, dict) or not all(
            isinstance(v, (list, tuple)) and all(isinstance(n, str) for n in v)
            for v in given.values()):
        raise InvalidPluginError(f"{where}: source.aliases must map a source name to a list "
                                 "of file names")
    return {str(k): tuple(v) for k, v in given.items()}


def _optional(source: dict, where: str) -> tuple[str, ...]:
    """``source.optional``: the extra sources a plugin can do without (a republished copy
    may need one the published file does not); a run passes them only when given."""
    given = source.get("optional") or []
    extra = source.get("extra") or {}
    if not isinstance(given, (list, tuple)) or not all(n in extra for n in given):
        raise InvalidPluginError(f"{where}: source.optional must list names from source.extra")
    return tuple(given)


def _series_breaks(given, where: str) -> dict:
    """``series_breaks``: where the source's method or official measure changed, so that
    no trend joins the periods either side. Each key is the first period after a break
    (``"*"``: no two periods are comparable), each value the reason in words."""
    if given is None:
        return {}
    if not isinstance(given, dict) or not all(
            isinstance(r, str) and r.strip() for r in given.values()):
        raise InvalidPluginError(f"{where}: series_breaks must map a period (or \"*\") to the "
                                 "reason the series breaks there")
    return {str(k): v.strip() for k, v in given.items()}


class IndicatorPlugin:
    """Base class of every indicator plugin.

    Subclasses set ``metadata`` and implement ``read``. ``read(path, **extra)`` gets
    the local copy of ``source.url`` (or the ``--input`` file) and any extra sources
    named in ``source.extra``, and returns the tidy table.
    """

    metadata: ClassVar[dict[str, Any]]
    where: str = "<plugin>"

    def __init__(self):
        self.meta = IndicatorMeta.from_dict(getattr(self, "metadata", None), self.where)

    @property
    def id(self) -> str:
        return self.meta.id

    def read(self, path: Path, **extra: Path) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def load(self, path: Path, **extra: Path) -> pd.DataFrame:
        """``read`` plus validation: the only way the engine calls a plugin."""
        given = {"": Path(path), **{name: Path(p) for name, p in extra.items()}}
        files = {name: compressed.unpacked(p) for name, p in given.items()}
        try:
            table = self.read(files[""], **{name: p for name, p in files.items() if name})
        except InvalidPluginError:
            raise
        except InputError as exc:
            raise InputError(self._named(str(exc), given, files)) from None
        except Exception as exc:  # a plugin's own bug must still be one clear line
            raise InputError(f"plugin {self.id}: reading {path} failed: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
        return validate_table(table, self.id, path, self.meta.geography)

    def _named(self, message: str, given: dict, files: dict) -> str:
        """A reader's error as the user should see it: which plugin, and the file they gave."""
        for name in given:
            message = compressed.name_given(message, given[name], files[name])
        prefix = f"plugin {self.id}: "
        return message if message.startswith(prefix) else prefix + message


def validate_table(table, plugin_id: str, path, geography: str) -> pd.DataFrame:
    """Check a plugin's output against :data:`SOURCE_TABLE`; one line on failure."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"plugin {plugin_id}: read() returned {type(table).__name__}, not a DataFrame")
    if geography in ("grid", "points") and not isinstance(table, gpd.GeoDataFrame):
        raise InputError(f"plugin {plugin_id}: a {geography} source must return a GeoDataFrame")
    if table.empty:
        raise InputError(f"plugin {plugin_id}: {path}: no rows")
    try:
        return SOURCE_TABLE.validate(table, lazy=False)
    except pa.errors.SchemaError as exc:
        column = getattr(exc, "column_name", None) or "?"
        cases = getattr(exc, "failure_cases", None)
        example = ""
        if cases is not None and len(cases):
            first = cases.iloc[0]
            row = first.get("index")
            example = f" (row {int(row) + 2 if isinstance(row, (int, np.integer)) else row}: {first.get('failure_case')!r})"
        reason = str(exc).splitlines()[0]
        if "unique" in reason.lower() or "duplicat" in reason.lower():
            raise InputError(f"plugin {plugin_id}: {path}: duplicate code and period{example}") from None
        if "no control characters" in reason:
            raise InputError(f"plugin {plugin_id}: {path}: column {column!r} holds a control "
                             f"character{example}") from None
        raise InputError(f"plugin {plugin_id}: {path}: column {column!r}: {reason}{example}") from None


class DeclarativePlugin(IndicatorPlugin):
    """A plugin from a ``.yaml`` file: metadata plus a ``read:`` block.

    ``read`` keys: ``format`` (csv, xlsx, geojson), ``code_column``, ``value_column``,
    ``period`` or ``period_column``, optional ``weight_column``, ``skip_rows``,
    ``sheet``, ``encoding``, ``scale`` (multiply values, e.g. 100 for a share → %),
    ``filter`` (``{column: value}`` rows to keep).
    """

    READ_KEYS = {"format", "code_column", "value_column", "period", "period_column",
                 "weight_column", "skip_rows", "sheet", "encoding", "scale", "filter"}

    def __init__(self, spec: dict, where: str):
        self.where = where
        self.metadata = {k: v for k, v in spec.items() if k != "read"}
        super().__init__()
        read = spec.get("read")
        if not isinstance(read, dict):
            raise InvalidPluginError(f"{where}: declarative plugin needs a 'read:' mapping")
        unknown = set(read) - self.READ_KEYS
        if unknown:
            raise InvalidPluginError(f"{where}: unknown read keys {', '.join(sorted(unknown))}")
        for key in ("format", "code_column", "value_column"):
            if not read.get(key):
                raise InvalidPluginError(f"{where}: read is missing {key!r}")
        if read["format"] not in ("csv", "xlsx", "geojson"):
            raise InvalidPluginError(f"{where}: read.format must be csv, xlsx or geojson")
        if not (read.get("period") or read.get("period_column")):
            raise InvalidPluginError(f"{where}: read needs 'period' or 'period_column'")
        self.spec = read

    def read(self, path: Path, **extra: Path) -> pd.DataFrame:
        r = self.spec
        skip = int(r.get("skip_rows", 0))
        if r["format"] == "csv":
            frame = readers.read_csv(path, skip_rows=skip, encoding=r.get("encoding", "utf-8-sig"))
        elif r["format"] == "xlsx":
            frame = readers.read_excel(path, sheet=r.get("sheet", 0), skip_rows=skip)
        else:
            readers.sniff(path)
            frame = gpd.read_file(path)
        for column, keep in (r.get("filter") or {}).items():
            readers.require_columns(frame, [column], path)
            frame = frame[frame[column].astype(str) == str(keep)]
        columns = [r["code_column"], r["value_column"]] + [
            c for c in (r.get("period_column"), r.get("weight_column")) if c]
        readers.require_columns(frame, columns, path)
        header_rows = 1 + skip
        out = pd.DataFrame({
            "code": frame[r["code_column"]].astype("string").str.strip().to_numpy(),
            "period": (frame[r["period_column"]].astype(str).to_numpy() if r.get("period_column")
                       else str(r["period"])),
            "value": readers.to_number(frame[r["value_column"]], column=r["value_column"],
                                       path=path, header_rows=header_rows).to_numpy()
            * float(r.get("scale", 1)),
        })
        if r.get("weight_column"):
            out["weight"] = readers.to_number(frame[r["weight_column"]], column=r["weight_column"],
                                              path=path, header_rows=header_rows).to_numpy()
        blank = out["code"].isna() | (out["code"] == "")
        return out[~blank].reset_index(drop=True)


# -- the registry ------------------------------------------------------------------------
@dataclass
class Registry:
    plugins: dict[str, IndicatorPlugin] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, plugin: IndicatorPlugin, origin: str) -> None:
        if plugin.id in self.plugins:
            self.errors.append(f"{origin}: indicator id {plugin.id!r} is already defined by "
                               f"{self.origins[plugin.id]}")
            return
        self.plugins[plugin.id] = plugin
        self.origins[plugin.id] = origin

    def get(self, name: str) -> IndicatorPlugin:
        if name in self.plugins:
            return self.plugins[name]
        raise UnknownNameError(f"no indicator {name!r} (known: {', '.join(sorted(self.plugins)) or 'none'})")


def plugin_folders() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    return [builtin_dir(), *extra]


PACKAGE = "placeportrait_indicators"


def _plugin_package(*folders: Path):
    """A package over the plugin folders, so a plugin can import a helper module kept
    beside it (``from placeportrait_indicators import _common``); files whose names start
    with ``_`` are helpers, never plugins."""
    import types

    package = sys.modules.get(PACKAGE)
    if package is None:
        package = types.ModuleType(PACKAGE)
        package.__path__ = []
        sys.modules[PACKAGE] = package
    for folder in (*plugin_folders(), *folders):
        if folder.is_dir() and str(folder) not in package.__path__:
            package.__path__.append(str(folder))
    return package


def load_file(path: Path) -> list[IndicatorPlugin]:
    """Plugins defined in one ``.py`` or ``.yaml`` file."""
    path = Path(path)
    where = str(path)
    if path.suffix in (".yaml", ".yml"):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidPluginError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
        return [DeclarativePlugin(spec, where)]
    if path.suffix == ".py":
        _plugin_package(path.parent)
        module_name = f"{PACKAGE}.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise InvalidPluginError(f"{where}: cannot import: {type(exc).__name__}: {exc}") from None
        return _plugins_in_module(module, where)
    raise InvalidPluginError(f"{where}: a plugin is a .py module or a .yaml file")


def _plugins_in_module(module, where: str) -> list[IndicatorPlugin]:
    classes = [obj for obj in vars(module).values()
               if isinstance(obj, type) and issubclass(obj, IndicatorPlugin)
               and obj.__module__ == module.__name__ and "metadata" in vars(obj)]
    if not classes:
        raise InvalidPluginError(f"{where}: defines no IndicatorPlugin subclass with metadata")
    out = []
    for cls in classes:
        cls.where = f"{where}:{cls.__name__}"
        out.append(cls())
    return out


def load_dotted(spec: str) -> list[IndicatorPlugin]:
    """``package.module`` or ``package.module:Class``."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise InvalidPluginError(f"{spec}: cannot import: {type(exc).__name__}: {exc}") from None
    if not attr:
        return _plugins_in_module(module, spec)
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, IndicatorPlugin)):
        raise InvalidPluginError(f"{spec}: is not an IndicatorPlugin subclass")
    cls.where = spec
    return [cls()]


LOCAL_DIMENSIONS_FILE = "local_dimensions.yaml"


def register_local_dimensions(path: Path) -> None:
    """A council's own dimensions, from a ``local_dimensions.yaml`` in a plugin folder::

        dimensions:
          - {id: green_space, label: Access to green space, ring: social}
    """
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = spec["dimensions"]
        for entry in entries:
            dimensions.register_local_dimension(entry["id"], entry["label"], entry["ring"])
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise InvalidPluginError(f"{path}: expected 'dimensions:' with id, label and ring "
                                 f"for each ({type(exc).__name__}: {exc})") from None
    except UnknownNameError as exc:
        raise InvalidPluginError(f"{path}: {exc}") from None


def discover() -> Registry:
    """Every plugin from the folders and entry points; broken ones are listed in ``errors``."""
    registry = Registry()
    for folder in plugin_folders():
        if (folder / LOCAL_DIMENSIONS_FILE).is_file():
            try:
                register_local_dimensions(folder / LOCAL_DIMENSIONS_FILE)
            except InvalidPluginError as exc:
                registry.errors.append(str(exc))
    for folder in plugin_folders():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if (path.name.startswith(("_", ".")) or path.suffix not in (".py", ".yaml", ".yml")
                    or path.name == LOCAL_DIMENSIONS_FILE):
                continue
            try:
                for plugin in load_file(path):
                    registry.add(plugin, str(path))
            except InvalidPluginError as exc:
                registry.errors.append(str(exc))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            for plugin in load_dotted(ep.value):
                registry.add(plugin, f"entry point {ep.name} ({ep.value})")
        except InvalidPluginError as exc:
            registry.errors.append(str(exc))
    return registry


def load(name_or_path: str) -> IndicatorPlugin:
    """A plugin by id, by file path, or by dotted path; ``InvalidPluginError`` if broken."""
    if Path(name_or_path).suffix in (".py", ".yaml", ".yml"):
        beside = Path(name_or_path).parent / LOCAL_DIMENSIONS_FILE
        if beside.is_file():
            register_local_dimensions(beside)
        plugins = load_file(Path(name_or_path))
        return plugins[0]
    if ":" in name_or_path or ("." in name_or_path and not ID_PATTERN.match(name_or_path)):
        return load_dotted(name_or_path)[0]
    registry = discover()
    if name_or_path not in registry.plugins:
        for error in registry.errors:
            if f"'{name_or_path}'" in error or f"/{name_or_path}." in error:
                raise InvalidPluginError(error)
    return registry.get(name_or_path)
