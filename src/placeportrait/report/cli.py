"""``placeportrait report``: ward reports as PDF or HTML files.

The main CLI registers :func:`report` as a command (``app.command("report")(report)``);
it is an ordinary Typer command function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def report(
    ctx: typer.Context,
    ward_codes: Optional[list[str]] = typer.Argument(
        None, metavar="WARD_CODE", help="Ward codes, e.g. E05015239. Or use --lad.", show_default=False),
    lad: Optional[str] = typer.Option(
        None, "--lad", metavar="LAD_CODE",
        help="Every ward of this local authority (e.g. E08000009), with an index.", show_default=False),
    boundary_set: Optional[str] = typer.Option(
        None, "--boundary-set", help="Boundary set (default: the only one with scores).",
        show_default=False),
    fmt: str = typer.Option(..., "--format", metavar="pdf|html",
                            help="pdf (A4, selectable text) or html (one self-contained file)."),
    out_dir: Path = typer.Option(..., "--out", metavar="DIR", help="Directory to write the reports to."),
    workers: int = typer.Option(2, "--workers", min=1, help="Processes rendering in parallel."),
):
    """Write one report per ward: its doughnut, locator map, indicators, sources and caveats."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from placeportrait.errors import InputError
    from placeportrait.report import FORMATS, write_reports
    from placeportrait.store import open_store

    fmt = fmt.lower().strip()
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}: use pdf or html")
    store = open_store((ctx.obj or {}).get("database_url"))
    progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True)
    task = None

    def on_start(total: int) -> None:
        nonlocal task
        progress.start()
        task = progress.add_task("reports", total=total)

    def on_file(path: Path) -> None:
        progress.update(task, advance=1, description=path.name)

    try:
        paths = write_reports(store, boundary_set, ward_codes or [], fmt, out_dir, lad=lad,
                              workers=workers, progress=on_file, on_start=on_start)
    finally:
        if task is not None:
            progress.stop()
    reports = [p for p in paths if not p.name.startswith("index.")]
    indexes = [p.name for p in paths if p.name.startswith("index.")]
    shown = reports[0] if len(reports) == 1 else out_dir
    extra = f" and {', '.join(indexes)}" if indexes else ""
    out.print(f"wrote {len(reports)} {fmt.upper()} report{'s' if len(reports) != 1 else ''}{extra} "
              f"to {shown}", markup=False, highlight=False)
