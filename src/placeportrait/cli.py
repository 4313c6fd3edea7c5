"""The ``placeportrait`` command."""

from __future__ import annotations

import contextlib
import sys
from importlib import resources
from pathlib import Path
from typing import Optional

import click
import typer
import typer.main
from rich.console import Console
from rich.table import Table

from placeportrait import __version__
from placeportrait.errors import PlacePortraitError

app = typer.Typer(
    help="Doughnut-economics portraits of UK wards: load boundaries and open data, "
    "harmonise onto wards, score against the social foundation and ecological ceiling.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, upgrade and inspect the store.", no_args_is_help=True)
boundaries_app = typer.Typer(help="Load and list boundary sets (wards, LADs, LSOAs).",
                             no_args_is_help=True)
indicators_app = typer.Typer(help="List, check and run indicator plugins.", no_args_is_help=True)
app.add_typer(db_app, name="db")
similar_app = typer.Typer(help="Each ward's most similar wards in its nation, by context "
                          "(2021 Output Area Classification and rurality).", no_args_is_help=True)
app.add_typer(boundaries_app, name="boundaries")
app.add_typer(indicators_app, name="indicators")
app.add_typer(similar_app, name="similar")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEMO_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2023."
)


def _version(value: bool):
    if value:
        out.print(f"placeportrait {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    database_url: Optional[str] = typer.Option(
        None, "--database-url",
        help="postgresql+psycopg://… for PostGIS, or a path to a .gpkg file. "
        "Default: $PLACEPORTRAIT_DATABASE_URL, else the embedded GeoPackage.",
        show_default=False,
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
):
    ctx.obj = {"database_url": database_url}


def _store(ctx: typer.Context):
    from placeportrait.store import open_store

    return open_store((ctx.obj or {}).get("database_url"))


# -- db ---------------------------------------------------------------------------------
@db_app.command("init")
def db_init(ctx: typer.Context):
    """Create the store, or upgrade its schema in place to the latest version."""
    store = _store(ctx)
    applied = store.init()
    for m in applied:
        out.print(f"applied migration {m.version}: {m.description}")
    out.print(f"{store.describe()} is at schema version {store.schema_version()}")


@db_app.command("status")
def db_status(ctx: typer.Context):
    """Show the store, its schema version, pending migrations and row counts."""
    status = _store(ctx).status()
    out.print(status["store"])
    if not status["exists"]:
        out.print("not created yet: run `placeportrait db init`")
        return
    out.print(f"schema version {status['schema_version']} (latest {status['latest_version']})")
    if status["pending"]:
        out.print(f"pending migrations: {', '.join(map(str, status['pending']))}: "
                  "run `placeportrait db init`")
    for name, count in status["counts"].items():
        out.print(f"  {name}: {count:,} rows")


# -- boundaries -------------------------------------------------------------------------
@boundaries_app.command("load")
def boundaries_load(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="A file or URL pyogrio reads (GeoJSON, GeoPackage, "
                                 "zipped Shapefile, ONS service), or a catalogue name such as wards-2024."),
    set_name: Optional[str] = typer.Option(None, "--set", help="Name of the boundary set "
                                           "(default: the catalogue name)."),
    level: Optional[str] = typer.Option(None, help="Geography level: ward, lad, lsoa, msoa, oa, …"),
    code_field: Optional[str] = typer.Option(None, help="Column of area codes (ONS WDyyCD etc. detected)."),
    name_field: Optional[str] = typer.Option(None, help="Column of area names."),
    parent_field: Optional[str] = typer.Option(None, help="Column of parent codes (e.g. LADyyCD)."),
    layer: Optional[str] = typer.Option(None, help="Layer to read from a multi-layer file."),
    vintage: Optional[str] = typer.Option(None, help="Boundary vintage, e.g. 2023 (detected from WD23CD)."),
    licence: Optional[str] = typer.Option(None, help="Licence of the boundaries."),
    attribution: Optional[str] = typer.Option(None, help="Attribution text to show with them."),
):
    """Load a boundary set, replacing any set of the same name atomically."""
    from placeportrait import boundaries

    entry = None
    looks_like_path = "/" in source or Path(source).suffix != ""
    if not Path(source).exists() and "://" not in source and not looks_like_path:
        entry = boundaries.catalogue_entry(source)
    if entry:
        level = level or entry["level"]
        set_name = set_name or entry["name"]
        code_field = code_field or entry.get("code_field")
        name_field = name_field or entry.get("name_field")
        parent_field = parent_field or entry.get("parent_field")
        vintage = vintage or entry.get("vintage")
        licence = licence or entry.get("licence")
        attribution = attribution or entry.get("attribution")
    if not set_name:
        raise click.UsageError("--set is required for a file or URL")
    if not level:
        raise click.UsageError("--level is required for a file or URL")
    _load_boundaries(ctx, source, entry, set_name=set_name, level=level, code_field=code_field,
                     name_field=name_field, parent_field=parent_field, layer=layer,
                     vintage=vintage, licence=licence, attribution=attribution)


def _load_boundaries(ctx, source, entry=None, *, layer=None, **options):
    from placeportrait import boundaries

    store = _store(ctx)
    with err.status(f"reading {source}"):
        if entry:
            gdf, source = boundaries.fetch_catalogue_source(entry)
        else:
            gdf = boundaries.read_source(source, layer=layer)
    with err.status(f"checking {len(gdf):,} features"):
        prepared = boundaries.prepare(gdf, source=source, name=options.pop("set_name"), **options)
    if prepared.repaired:
        shown = ", ".join(prepared.repaired[:10])
        err.print(f"repaired {len(prepared.repaired)} invalid geometries with make_valid: {shown}")
    with err.status(f"writing {len(prepared.areas):,} areas to {store.describe()}"):
        store.replace_boundary_set(prepared.meta, prepared.areas)
    out.print(f"loaded boundary set {prepared.meta['name']!r}: {len(prepared.areas):,} "
              f"{prepared.meta['level']} areas into {store.describe()}")
    return store, prepared


@boundaries_app.command("list")
def boundaries_list(ctx: typer.Context):
    """List the boundary sets in the store, with their area counts."""
    from placeportrait.missing import text

    store = _store(ctx)
    if not store.exists() or not store.schema_version():
        out.print("no boundary sets: the store is empty (run `placeportrait boundaries load`)")
        return
    sets = store.boundary_sets()
    if sets.empty:
        out.print("no boundary sets loaded")
        return
    table = Table("name", "level", "vintage", "areas", "loaded (UTC)", "licence",
                  caption=store.describe(), caption_justify="left", box=None, pad_edge=False,
                  padding=(0, 1, 0, 0))
    table.columns[0].no_wrap = True  # set names are typed into commands
    table.columns[3].justify = "right"
    for row in sets.itertuples():
        table.add_row(row.name, row.level, text(row.vintage), f"{row.area_count:,}",
                      text(row.loaded_at)[:16].replace("T", " "), text(row.licence, "not recorded"))
    out.print(table)


@boundaries_app.command("delete")
def boundaries_delete(ctx: typer.Context, name: str = typer.Argument(..., help="Boundary set name.")):
    """Delete a boundary set with its areas, indicator values and scores."""
    _store(ctx).delete_boundary_set(name)
    out.print(f"deleted boundary set {name!r}")


@boundaries_app.command("catalogue")
def boundaries_catalogue():
    """List the ONS boundary sets `boundaries load NAME` can download."""
    from placeportrait import boundaries

    table = Table("name", "level", "vintage", "title", title=str(boundaries.catalogue_path()))
    for entry in boundaries.load_catalogue().values():
        table.add_row(entry["name"], entry["level"], entry.get("vintage", ""), entry.get("title", ""))
    out.print(table)


# -- indicators ---------------------------------------------------------------------------
@indicators_app.command("list")
def indicators_list(ctx: typer.Context):
    """List indicator plugins: id, dimension, geography, last run and (when wide) source."""
    from placeportrait import plugins

    registry = plugins.discover()
    out.print(_indicator_table(registry.plugins, _last_runs(_store(ctx)), out.width))
    for error in registry.errors:
        err.print(f"invalid plugin: {error}", markup=False, highlight=False)
    if registry.errors:
        raise typer.Exit(1)


WIDE_TERMINAL = 140


def _last_runs(store) -> dict[str, tuple[str, str, str]]:
    """plugin id -> (status, start time, boundary set) of its latest run."""
    if not (store.exists() and store.schema_version()):
        return {}
    last: dict[str, tuple[str, str, str]] = {}
    for row in store.runs().itertuples():  # newest first
        last.setdefault(row.plugin, (row.status, row.started_at[:16].replace("T", " "),
                                     row.boundary_set))
    return last


def _indicator_table(plugins_by_id: dict, last: dict, width: int) -> Table:
    """One row per plugin, grouped by ring; one line a row in an 80-column terminal.

    Narrow, a run shows its date (a failed or unfinished one says so); wide, its time,
    boundary set and the source's publisher too (`indicators show ID` always has them).
    """
    wide = width >= WIDE_TERMINAL
    columns = ["id", "dimension", "geography", "last run"] + (["source"] if wide else [])
    table = Table(*columns, box=None, pad_edge=False, padding=(0, 1, 0, 0),
                  caption=None if wide else "Source and method: placeportrait indicators show ID",
                  caption_justify="left")
    for column in table.columns[:3]:
        column.no_wrap = True  # ids and dimensions are typed into commands and YAML
    for ring in ("social", "ecological"):
        members = sorted((pid, p) for pid, p in plugins_by_id.items() if p.meta.ring == ring)
        if not members:
            continue
        table.add_row(f"[bold]{ring.capitalize()}[/bold]")
        for pid, plugin in members:
            row = [pid, plugin.meta.dimension, plugin.meta.geography,
                   _run_cell(last.get(pid), wide)]
            table.add_row(*row, *([plugin.meta.publisher] if wide else []))
        table.add_row()
    return table


def _run_cell(run: tuple[str, str, str] | None, wide: bool) -> str:
    if run is None:
        return "never"
    status, started, boundary_set = run
    when = f"{started} ({boundary_set})" if wide else started[:10]
    return when if status == "succeeded" else f"{status} {when}"


@indicators_app.command("show")
def indicators_show(indicator: str = typer.Argument(..., help="Indicator id.")):
    """Show a plugin's metadata: what it measures, its threshold and its source."""
    from dataclasses import asdict

    from placeportrait import plugins

    plugin = plugins.load(indicator)
    out.print(f"[bold]{plugin.meta.title}[/bold] ({plugin.id}) from {plugin.where}")
    for key, value in asdict(plugin.meta).items():
        if key not in ("id", "title") and value not in (None, {}, ()):
            out.print(f"  {key}: {value}", markup=False, highlight=False)


@indicators_app.command("validate")
def indicators_validate(
    path: Optional[str] = typer.Argument(None, help="A plugin file, dotted path or id; "
                                         "default: every discovered plugin."),
    inputs: list[str] = typer.Option([], "--input", metavar="ID=PATH",
                                     help="Also read this file with the plugin and check the "
                                     "table it gives (columns, codes, numbers); nothing is "
                                     "written. ID.NAME=PATH for an extra source."),
):
    """Check plugins' metadata and shape without running them; with --input, their source too."""
    from placeportrait import plugins

    given = _parse_inputs(inputs)
    if path:
        chosen, errors = [plugins.load(path)], []
    else:
        registry = plugins.discover()
        chosen, errors = [registry.plugins[pid] for pid in sorted(registry.plugins)], registry.errors
    for plugin in chosen:
        out.print(f"ok: {plugin.id} ({plugin.where})" + _read_check(plugin, given),
                  markup=False, highlight=False)
    for error in errors:
        err.print(f"invalid plugin: {error}", markup=False, highlight=False)
    if errors:
        raise typer.Exit(1)


def _read_check(plugin, given: dict[str, str]) -> str:
    """Read the plugin's --input file as a run would, without writing: what it holds."""
    from placeportrait import indicator_run

    if plugin.id not in given:
        return ""
    main, extras = indicator_run.resolve_sources(plugin, given)
    table = plugin.load(main.path, **{name: source.path for name, source in extras.items()})
    periods = sorted(table["period"].astype(str).unique())
    suppressed = int(table["value"].isna().sum())
    return (f"; {main.origin}: {len(table):,} rows, {table['code'].nunique():,} areas, "
            f"periods {', '.join(periods)}"
            + (f", {suppressed:,} suppressed or missing (no data)" if suppressed else ""))


def _parse_inputs(values: list[str]) -> dict[str, str]:
    parsed = {}
    for value in values:
        key, sep, path = value.partition("=")
        if not sep or not key or not path:
            raise click.BadParameter(f"{value!r} is not ID=PATH", param_hint="--input")
        parsed[key] = path
    return parsed


@indicators_app.command("run")
def indicators_run(
    ctx: typer.Context,
    indicators: Optional[list[str]] = typer.Argument(None, help="Indicator ids (or plugin files)."),
    all_: bool = typer.Option(False, "--all", help="Run every discovered plugin."),
    boundary_set: str = typer.Option(..., "--boundary-set", metavar="NAME",
                                     help="Boundary set to harmonise onto."),
    inputs: list[str] = typer.Option([], "--input", metavar="ID=PATH",
                                     help="A local file instead of the download (.gz and "
                                     "one-file .zip are read as they are); ID.NAME=PATH for a "
                                     "plugin's extra source."),
    source_boundaries: list[str] = typer.Option(
        [], "--source-boundaries", metavar="NAME", help="A boundary set holding source geometry (e.g. lsoa-2011, "
        "or wards of an older vintage), for areal interpolation; repeatable. Each plugin uses "
        "the set holding its source's codes."),
    lookups: list[str] = typer.Option(
        [], "--lookup", metavar="[FROM:TO=]PATH", help="An ONS best-fit lookup CSV (e.g. LSOA11CD:WD19CD="
        "lookup.csv); repeatable. Used instead of areal interpolation by each plugin whose "
        "source codes it holds; columns are detected when not given."),
    explain: bool = typer.Option(False, "--explain", help="Print each plugin's plan (the route "
                                 "from its source to the set, and why) without running it or "
                                 "writing anything."),
):
    """Run plugins: read each source, harmonise it onto wards and store the values atomically."""
    from placeportrait import indicator_run, plugins

    if all_ == bool(indicators):
        raise click.UsageError("give indicator ids or --all (not both)")
    run_lookups = [indicator_run.RunLookup.parse(spec) for spec in lookups]
    registry = plugins.discover()
    chosen = (list(registry.plugins.values()) if all_
              else [plugins.load(name) for name in indicators])
    options = {"inputs": _parse_inputs(inputs), "source_boundaries": source_boundaries,
               "lookups": run_lookups}
    store = _store(ctx)
    if explain:
        return _explain(store, chosen, boundary_set, options, all_)
    # several plugins: on the GeoPackage one work copy for them all, not two a run, as in
    # `refresh` (a failed plugin is reported and the others still land)
    with store.batch() if len(chosen) > 1 else contextlib.nullcontext():
        failures, not_run = _run_plugins(store, chosen, boundary_set, options, all_)
    if not_run:
        err.print(f"{len(not_run)} of {len(chosen)} indicators not run for want of source "
                  f"geometry or a lookup ({', '.join(not_run)})")
    if failures:
        err.print(f"{failures} of {len(chosen)} indicators failed; their previous values are unchanged")
        raise typer.Exit(1)


@app.command("refresh")
def refresh_command(
    ctx: typer.Context,
    boundary_set: str = typer.Option(..., "--boundary-set", metavar="NAME",
                                     help="The loaded ward set to refresh."),
    data_dir: Path = typer.Option(..., "--data-dir", metavar="DIR",
                                  help="A folder of downloaded source files (searched "
                                  "recursively; .gz and .zip are read as they are)."),
):
    """Run every indicator whose source is in DIR onto a ward set, offline, then score it.

    Each plugin's file is found by its published file name or an alias it documents;
    source geometry (LSOA, data zone and SOA boundaries) and best-fit lookups found in DIR
    are used too. One line per indicator: ok (with coverage), not run, or failed (with why).
    Exits 1 if one failed; the others still run and keep their values.
    """
    from placeportrait import indicator_run, plugins, refresh, vector_tiles

    store = _store(ctx)
    store.require_current()
    store.boundary_set(boundary_set)
    plan = refresh.plan_refresh(plugins.discover().plugins.values(), data_dir)
    # on the GeoPackage, one copy of the file, not two a run; source geometry's crosswalks
    # onto the set, then its tiles, are built in a second process meanwhile
    with store.batch(), vector_tiles.BuiltAlongside(store, _note) as tiles:
        sets = refresh.load_geometry(store, plan, _note, tiles)
        with indicator_run.crosswalks_ahead(store, boundary_set, sets, tiles.submit):
            tiles.start()
            lookups = [indicator_run.RunLookup.parse(spec) for spec in plan.lookups]
            failed = _refresh_runs(store, plan, boundary_set, data_dir, sets, lookups)
            failed += _refresh_similar(store, plan, boundary_set, data_dir, sets, lookups)
    # each run scored its own values in its write (scoring.score_new_values)
    out.print(_score_summary(store.score_counts(boundary_set),
                             len(store.read_area_table(boundary_set))),
              markup=False, highlight=False)
    if failed:
        err.print(f"{failed} indicators failed; their previous values are unchanged")
        raise typer.Exit(1)


def _refresh_runs(store, plan, boundary_set: str, data_dir: Path, sets, lookups) -> int:
    """Each plugin of a refresh plan, one line each; returns how many failed."""
    from placeportrait import indicator_run, refresh
    from placeportrait.errors import MissingGeographyError

    failed = 0
    for item in plan.plugins:
        pid = item.plugin.id
        if not item.runnable:
            out.print(f"not run  {pid}: no {'; no '.join(item.missing)} in {data_dir}",
                      markup=False, highlight=False)
            continue
        for inputs in item.releases:  # one run per release of the source found
            try:
                result = indicator_run.run_indicator(store, item.plugin, boundary_set,
                                                     inputs=inputs, source_boundaries=sets,
                                                     lookups=lookups)
            except MissingGeographyError as exc:
                out.print(f"not run  {pid}: {exc}", markup=False, highlight=False)
            except PlacePortraitError as exc:
                failed += 1
                out.print(f"failed   {pid}: {exc}", markup=False, highlight=False)
            else:
                out.print(refresh.coverage_line(result), markup=False, highlight=False)
    return failed


def _refresh_similar(store, plan, boundary_set: str, data_dir: Path, sets, lookups) -> int:
    """Similar wards from the classification files in the folder; 1 if it failed."""
    from placeportrait import similar_wards, ward_context

    if not plan.context_runnable:
        wanted = [" or ".join(s.file_names) for s in ward_context.SOURCES
                  if s.required and s.name not in plan.context]
        out.print(f"not run  similar wards: no {'; no '.join(wanted)} in {data_dir}",
                  markup=False, highlight=False)
        return 0
    try:
        result = similar_wards.build(store, boundary_set, plan.context, source_sets=sets,
                                     lookups=lookups, reuse=True)
    except PlacePortraitError as exc:
        out.print(f"failed   similar wards: {exc}", markup=False, highlight=False)
        return 1
    out.print(f"ok       {result.summary()}", markup=False, highlight=False)
    return 0


def _run_plugins(store, chosen, boundary_set, options, all_) -> tuple[int, list[str]]:
    """Run each plugin, printing its summary and plan; with ``--all`` a failure is
    reported and the others still run. Returns (failures, plugins not run)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from placeportrait import indicator_run
    from placeportrait.errors import MissingGeographyError

    failures, not_run = 0, []
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=len(chosen) < 2) as progress:
        task = progress.add_task("indicators", total=len(chosen))
        for plugin in chosen:
            progress.update(task, description=plugin.id)
            try:
                result = indicator_run.run_indicator(
                    store, plugin, boundary_set, **options,
                    progress=err if len(chosen) < 2 else None)
            except MissingGeographyError as exc:
                if not all_:
                    raise
                not_run.append(plugin.id)
                err.print(f"not run: {exc}", markup=False, highlight=False)
                continue
            except PlacePortraitError as exc:
                if not all_:
                    raise
                failures += 1
                err.print(f"error: {exc}", markup=False, highlight=False)
                continue
            finally:
                progress.advance(task)
            out.print(result.summary(), markup=False, highlight=False)
            _print_plan(result.plan)
            for message in result.warnings:
                err.print(f"  warning: {message}", markup=False, highlight=False)
    return failures, not_run


def _print_plan(lines: list[str]) -> None:
    """A plan's steps, indented under their plugin and wrapped to the terminal."""
    import textwrap

    width = max(out.width, 40)
    for line in lines:
        out.print(textwrap.fill(line, width=width, initial_indent="  ", subsequent_indent="     "),
                  markup=False, highlight=False)


def _explain(store, chosen, boundary_set, options, all_) -> None:
    """Each plugin's plan, read from its source and the store; nothing is written."""
    from placeportrait import indicator_run
    from placeportrait.errors import MissingGeographyError

    for plugin in chosen:
        try:
            plan = indicator_run.explain(store, plugin, boundary_set, **options)
        except (MissingGeographyError, PlacePortraitError) as exc:
            if not all_:
                raise
            label = "not run" if isinstance(exc, MissingGeographyError) else "error"
            err.print(f"{plugin.id}: {label}: {exc}", markup=False, highlight=False)
            continue
        out.print(f"{plugin.id}: by {plan.method}", markup=False, highlight=False)
        _print_plan(plan.describe())
        for message in plan.warnings:
            err.print(f"  warning: {message}", markup=False, highlight=False)


# -- similar wards -------------------------------------------------------------------------
@similar_app.command("build")
def similar_build(
    ctx: typer.Context,
    boundary_set: str = typer.Option(..., "--boundary-set", metavar="NAME",
                                     help="The loaded ward set."),
    data_dir: Optional[Path] = typer.Option(
        None, "--data-dir", metavar="DIR", help="A folder of downloads holding the "
        "classification, the OA lookups and the rural-urban file (found by name, as refresh "
        "does), with any LSOA-to-ward lookup and small-area boundaries."),
    inputs: list[str] = typer.Option([], "--input", metavar="NAME=PATH",
                                     help="A local file for one source: classification, "
                                     "oa_lookup, rural or ni_lookup."),
    lookups: list[str] = typer.Option([], "--lookup", metavar="[FROM:TO=]PATH",
                                      help="A best-fit LSOA-to-ward lookup; repeatable."),
    source_boundaries: list[str] = typer.Option(
        [], "--source-boundaries", metavar="NAME", help="A loaded set of small-area "
        "boundaries (lsoa-2021, sdz-2021) for wards no lookup reaches; repeatable."),
):
    """Profile every ward by context and store its 10 most similar wards in its nation."""
    from placeportrait import indicator_run, refresh, similar_wards, ward_context

    given = _parse_inputs(inputs)
    unknown = sorted(set(given) - set(ward_context.SOURCE_NAMES))
    if unknown:
        raise click.UsageError(f"--input {unknown[0]}: expected one of "
                               f"{', '.join(ward_context.SOURCE_NAMES)}")
    store = _store(ctx)
    store.require_current()
    store.boundary_set(boundary_set)
    if data_dir is not None:
        plan = refresh.plan_refresh([], data_dir)
        given = {**plan.context, **given}
        lookups = [*plan.lookups, *lookups]
        source_boundaries = [*refresh.load_geometry(store, plan, _note), *source_boundaries]
    result = similar_wards.build(store, boundary_set, given, source_sets=source_boundaries,
                                 lookups=[indicator_run.RunLookup.parse(x) for x in lookups])
    out.print(result.summary(), markup=False, highlight=False)


def _note(line: str) -> None:
    err.print(line, markup=False, highlight=False)


@similar_app.command("show")
def similar_show(
    ctx: typer.Context,
    ward: str = typer.Argument(..., metavar="WARD", help="A ward code of the set."),
    boundary_set: str = typer.Option(..., "--boundary-set", metavar="NAME",
                                     help="The loaded ward set."),
):
    """A ward's context and its most similar wards, nearest first."""
    from placeportrait import similar_wards
    from placeportrait.errors import InputError
    from placeportrait.report.content import shipped_authority_names

    store = _store(ctx)
    store.require_current()
    areas = store.read_area_table(boundary_set)
    if ward not in set(areas["code"]):
        raise InputError(f"ward {ward!r} is not in boundary set {boundary_set!r}")
    found = similar_wards.neighbours(store.read_similar_wards(boundary_set),
                                     similar_wards.context_table(
                                         store.read_ward_context(boundary_set)), areas, ward,
                                     shipped_authority_names())
    if found is None:
        reason = similar_wards.missing_reason(store.read_similar_wards(boundary_set), ward)
        raise InputError(f"{ward} has no similar wards. {reason}")
    name = areas.set_index("code").at[ward, "name"]
    out.print(f"{name} ({ward}): {found.profile}", markup=False, highlight=False)
    table = Table("#", "ward", "code", "context", box=None)
    for rank, (code, label, words) in enumerate(found.wards, start=1):
        table.add_row(str(rank), label, code, words)
    out.print(table)


# -- scoring and export --------------------------------------------------------------------
@app.command("score")
def score(
    ctx: typer.Context,
    boundary_set: str = typer.Option(..., "--boundary-set", help="Boundary set to score."),
    thresholds: Optional[Path] = typer.Option(
        None, "--thresholds", help="A council's YAML file overriding thresholds (see docs/scoring.md)."),
):
    """Score every stored value against its threshold and store the scores."""
    from placeportrait import scoring

    scored = scoring.score_boundary_set(_store(ctx), boundary_set, thresholds)
    counted = scored.groupby(["indicator", "period", "status"]).size().rename("n").reset_index()
    out.print(_score_summary(counted, scored["area_code"].nunique()), markup=False,
              highlight=False)


def _score_summary(counted, areas: int) -> str:
    """'scored 1,449 values of 23 indicators on 21 areas, periods 2005 to 2023 (38): ...'
    from scores counted by ``indicator, period, status`` (``n``)."""
    from placeportrait.indicator_run import periods_text

    counts = counted.groupby("status")["n"].sum().sort_values(ascending=False, kind="stable")
    return (f"scored {int(counted['n'].sum()):,} values of {counted['indicator'].nunique()} "
            f"indicators on {areas:,} areas, {periods_text(counted['period'].unique())}: "
            + ", ".join(f"{n:,} {s}" for s, n in counts.items()))


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: str = typer.Option("csv", "--format", help="csv, geojson or gpkg."),
    out_path: Path = typer.Option(..., "--out", help="File to write."),
    boundary_set: Optional[str] = typer.Option(
        None, "--boundary-set", help="Boundary set (default: the only one with scores)."),
    period: str = typer.Option("all", "--period", help="Periods: latest, all or a year YYYY "
                               "(the periods ending in it)."),
):
    """Export scores tidy: one row per area, indicator and period, with provenance and each
    series' direction of travel."""
    from placeportrait import export as exporting

    store = _store(ctx)
    if boundary_set is None:
        names = [n for n in store.boundary_sets()["name"] if not store.read_scores(n).empty]
        if len(names) != 1:
            raise click.UsageError(f"choose --boundary-set (sets with scores: {', '.join(names) or 'none'})")
        boundary_set = names[0]
    rows = exporting.export_scores(store, boundary_set, fmt, out_path, period)
    out.print(f"wrote {rows:,} rows of {boundary_set!r} to {out_path}")


# -- reports ------------------------------------------------------------------------------
from placeportrait.report.cli import report as report_command  # noqa: E402

app.command("report")(report_command)


# -- serve --------------------------------------------------------------------------------
@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8050, help="Port to listen on."),
    boundary_set: str | None = typer.Option(
        None, "--boundary-set", help="Boundary set shown first (default: a scored ward set)."),
    behind_proxy: bool = typer.Option(
        False, "--behind-proxy",
        help="A reverse proxy in front authenticates users: allow a --host other than loopback "
        "without PLACEPORTRAIT_APP_USER/PLACEPORTRAIT_APP_PASSWORD."),
):
    """Run the Dash app on the store, read-only (for production: gunicorn placeportrait_app.wsgi:server).

    With PLACEPORTRAIT_APP_USER and PLACEPORTRAIT_APP_PASSWORD set, every page asks for them
    (HTTP Basic auth). A --host other than loopback needs them, or --behind-proxy.
    """
    import ipaddress

    from placeportrait_app import auth, create_app

    from placeportrait.errors import ConfigError

    behind_proxy = behind_proxy is True  # demo() calls this function without the option
    credentials = auth.from_environment()
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host.lower() == "localhost"
    if not loopback and credentials is None and not behind_proxy:
        raise ConfigError(
            f"--host {host} is reachable from other machines and no password is set: set "
            f"{auth.USER_ENV} and {auth.PASSWORD_ENV}, or pass --behind-proxy if a reverse "
            "proxy authenticates users")
    dash_app = create_app((ctx.obj or {}).get("database_url"), boundary_set=boundary_set)
    if credentials is not None:
        access = "HTTP Basic auth on every page"
    elif behind_proxy:
        access = "no built-in auth: the reverse proxy must authenticate users"
    else:
        access = "no password, this machine only"
    out.print(f"placeportrait app on http://{host}:{port}/ reading {dash_app.placeportrait.store.describe()}"
              f" (read-only; {access}); Ctrl+C stops it", markup=False, highlight=False)
    if not loopback:
        err.print("note: plain HTTP sends passwords and data in clear; terminate TLS at a reverse proxy",
                  markup=False, highlight=False)
    dash_app.run(host=host, port=port, debug=False, dev_tools_ui=False, dev_tools_hot_reload=False)


# -- demo ---------------------------------------------------------------------------------
@app.command("demo")
def demo(
    ctx: typer.Context,
    serve_app: bool = typer.Option(True, "--serve/--no-serve",
                                   help="Serve the app on 127.0.0.1:8050 when the portrait is built."),
):
    """Build the demo place (Trafford) offline: boundaries, every demo indicator, scores; then serve the app."""
    import yaml

    from placeportrait import doughnut, indicator_run, plugins, scoring, similar_wards

    folder = resources.files("placeportrait") / "data" / "demo"
    with resources.as_file(folder) as demo_dir:
        manifest = yaml.safe_load((demo_dir / "demo.yaml").read_text())
        store = _store(ctx)
        store.init()
        for entry in manifest["boundaries"]:
            _load_boundaries(
                ctx, str(demo_dir / entry["file"]), set_name=entry["set"], level=entry["level"],
                code_field=entry.get("code_field"), name_field=entry.get("name_field"),
                parent_field=None, vintage=entry.get("vintage"),
                licence="Open Government Licence v3.0", attribution=DEMO_ATTRIBUTION)
        target = manifest["boundary_set"]
        lookups = [indicator_run.RunLookup.parse(str(demo_dir / name))
                   for name in manifest.get("lookups", [])]
        for pid, releases in manifest["indicators"].items():
            # a list holds one input mapping per release (period) of the source
            for inputs in releases if isinstance(releases, list) else [releases]:
                result = indicator_run.run_indicator(
                    store, plugins.load(pid), target,
                    inputs={k: str(demo_dir / v) for k, v in inputs.items()}, lookups=lookups,
                    progress=err)
                out.print(result.summary(), markup=False, highlight=False)
        similar = similar_wards.build(
            store, target, {k: str(demo_dir / v) for k, v in manifest["similar_wards"].items()},
            lookups=lookups)
        out.print(similar.summary(), markup=False, highlight=False)
    scored = scoring.score_boundary_set(store, target)
    summary = doughnut.summarise(scored)
    out.print(f"demo place: {manifest['place']}, {summary['area_code'].nunique()} wards, boundary set {target!r}; "
              f"{scored['indicator'].nunique()} indicators scored")
    if store.kind == "geopackage":
        out.print(f"open it in QGIS (one layer per boundary set, e.g. portrait_{target}), "
                  f"or `ogrinfo {store.location.display()}`", markup=False, highlight=False)
    if serve_app:
        serve(ctx, host="127.0.0.1", port=8050, boundary_set=target)


# Typer 0.2x parses with its own copy of click, whose errors are not click's.
USAGE_ERRORS = (click.exceptions.ClickException, *(
    (typer.TyperException,) if hasattr(typer, "TyperException") else ()))


def _with_readable_types(command: click.Command) -> click.Command:
    """Help that says what to type: `TEXT`, `PATH`, `INTEGER`, nothing for a flag.

    Typer shows Python annotations (`<bool>`, `<list[str]>`) where a user expects a
    placeholder; an explicit ``metavar`` on an option still wins.
    """
    help_option = command.get_help_option(command.context_class(command))
    for param in [*command.params, *([help_option] if help_option else [])]:
        if param.param_type_name == "argument":
            # An argument's help shows its name and its type: keep the name, fix the type.
            shown = _placeholder(param)
            param.display_type = lambda ctx, shown=shown: shown
        elif param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else _placeholder(param)
    for sub in getattr(command, "commands", {}).values():
        _with_readable_types(sub)
    return command


PLACEHOLDERS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH",
                "bool": "", "file": "PATH", "directory": "DIR"}


def _placeholder(param) -> str:
    label = param.display_type(ctx=None).strip("<>")
    repeated = label.startswith("list[")
    label = label.removeprefix("list[").removesuffix("]")
    word = PLACEHOLDERS.get(label, label.upper())
    return f"{word}..." if repeated else word


def main(argv: list[str] | None = None) -> None:
    """Entry point: the project's own errors become one line on stderr and exit 1."""
    command = _with_readable_types(typer.main.get_command(app))
    try:
        code = command.main(args=argv, prog_name="placeportrait", standalone_mode=False)
    except PlacePortraitError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except USAGE_ERRORS as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        err.print("aborted")
        sys.exit(130)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
