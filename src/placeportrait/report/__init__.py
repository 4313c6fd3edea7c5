"""Ward reports: one ward's doughnut portrait as a self-contained HTML file or an A4 PDF.

:func:`render_ward_report` is what the app calls for a download; :func:`write_reports`
writes many (an authority's wards, in parallel) with an index. The content comes from
:mod:`placeportrait.report.content`, the graphics from :mod:`.doughnut_svg` and
:mod:`.locator_svg`, the page from ``templates/``. Heavy imports (WeasyPrint, Jinja2,
the store) wait until a report is rendered, so importing this package is cheap.
"""

from __future__ import annotations

import gc
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from placeportrait import missing, regular_files
from placeportrait.errors import InputError, UnknownNameError

FORMATS = ("pdf", "html")

__all__ = ["FORMATS", "html_to_pdf", "render_ward_report", "report_html", "resolve_codes", "ward_pdf",
           "write_reports"]


# ----------------------------------------------------------------------------- rendering

def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("placeportrait.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


_ENV = None


def _env():
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


_CSS_TEXT: str | None = None


def _css() -> str:
    global _CSS_TEXT
    if _CSS_TEXT is None:
        from importlib import resources

        _CSS_TEXT = (resources.files("placeportrait.report") / "templates" / "report.css").read_text("utf-8")
    return _CSS_TEXT


# WeasyPrint's start-up work, done once per thread and process: the Fontconfig font map
# (its caches of fonts and font sets stay warm from one PDF to the next) and the report's
# stylesheet, parsed once, with its selectors compiled once. Per thread, because a Pango
# font map must not be shared between threads (the app renders in request threads); per
# process, because a forked worker must not reuse its parent's.
_TOOLS = threading.local()


def _tools():
    tools = getattr(_TOOLS, "value", None)
    if tools is None or tools[0] != os.getpid():
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        stylesheet = weasyprint.CSS(string=_css(), font_config=font_config)
        tools = _TOOLS.value = (os.getpid(), font_config, stylesheet)
    return tools[1], tools[2]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}: use {' or '.join(FORMATS)}")
    return fmt


def _svg_image(svg: str, alt: str, css_class: str) -> str:
    """An SVG as an ``<img>`` with a ``data:`` URL and alt text, for the PDF: WeasyPrint
    then lays out fewer elements, and the tagged PDF carries the alt text."""
    import base64
    from html import escape

    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{css_class}" alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def _svg_alt(svg: str) -> str:
    import re
    from html import unescape

    parts = re.findall(r"<(title|desc) id=[^>]*>(.*?)</\1>", svg, flags=re.S)
    return unescape(". ".join(text for _, text in parts))


def report_html(data, code: str, *, generated_at: datetime | None = None,
                include_provenance: bool = True, for_pdf: bool = False) -> tuple[str, dict]:
    """The report of ``code`` as one self-contained HTML page, and its content.

    ``include_provenance=False`` leaves out the sources, licences and methods, which are
    the same for every ward of the set: the PDF renders them once and appends them.
    ``for_pdf=True`` embeds the two SVGs as images with alt text instead of inline, and
    leaves out the stylesheet, which :func:`_layout` applies already parsed.
    """
    from markupsafe import Markup

    from placeportrait.report import content, doughnut_svg, locator_svg

    report = content.gather(data, code, generated_at=generated_at)
    area = data.area(code)
    parent = area.get("parent_code")
    if isinstance(parent, str) and parent:
        areas = data.areas[data.areas["parent_code"] == parent]
    else:
        areas = data.areas[data.areas["code"] == code]
    codes = tuple(areas["code"])
    if code not in codes:
        raise InputError(f"the geometry of {code} was not loaded: pass codes=[...] including it "
                         "to content.load_set, or none")
    key = ("locator", codes)  # projected and simplified once per authority
    if key not in data._cache:
        data._cache[key] = locator_svg.prepare(areas)
    locator = locator_svg.render(None, code, ward_name=report["name"], authority=report["authority"],
                                 prepared=data._cache[key], for_pdf=for_pdf)
    doughnut = doughnut_svg.render(report["wedges"], report["name"], for_pdf=for_pdf)
    if for_pdf:
        locator = _svg_image(locator, _svg_alt(locator), "locator")
        doughnut = _svg_image(doughnut, _svg_alt(doughnut), "doughnut")
    html = _env().get_template("report.html.j2").render(
        r=report, p=content.provenance(data), include_provenance=include_provenance,
        css=Markup("" if for_pdf else _css()), locator_svg=Markup(locator), doughnut_svg=Markup(doughnut),
        trends_html=Markup(report["trends_html"]),
        key=doughnut_svg.lens_key(report["dimensions"]), status_text=content.STATUS_TEXT)
    return html, report


def _refuse_fetch(url, *args, **kwargs):
    """Reports are self-contained: nothing is fetched while rendering a PDF. Only the
    report's own ``data:`` URLs (its two SVGs) are read."""
    if str(url).startswith("data:"):
        import weasyprint

        return weasyprint.default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"report rendering fetches nothing (refused {url!r})")


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _layout(html: str, *, stylesheet: bool = False):
    """Lay out ``html``; ``stylesheet=True`` applies the report's stylesheet, parsed once
    per process, to a page that leaves it out (``report_html(..., for_pdf=True)``)."""
    import weasyprint

    font_config, css = _tools()
    return weasyprint.HTML(string=html, url_fetcher=_refuse_fetch).render(
        font_config=font_config, stylesheets=[css] if stylesheet else None)


def _write(document, pages=None) -> bytes:
    """Write the PDF, tagged for screen readers (headings, tables, figures in the structure
    tree). Tagging is WeasyPrint's newest feature and can fail on unusual page breaks; the
    report is then written untagged rather than not at all."""
    if pages is not None:
        document = document.copy(pages)
    try:
        return document.write_pdf(pdf_tags=True)
    except (ValueError, KeyError, AttributeError, IndexError, TypeError):
        return document.write_pdf()


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while WeasyPrint works, then collect once.

    A PDF makes hundreds of thousands of short-lived objects (boxes, styles, PDF objects),
    and the collector would otherwise walk them, and every long-lived object besides,
    dozens of times per report: about a sixth of its time. What the report leaves in
    cycles is all in the youngest generation, so one collection of it afterwards frees
    the same memory. If the collector is already off (another thread is rendering, or
    the caller turned it off), it is left as it is. The rendering must have dropped its
    layout when the block ends (call a function inside it), or the collection would keep
    the layout, promoted to an older generation, instead of freeing it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def html_to_pdf(html: str) -> bytes:
    """Any of these HTML pages as an A4 PDF with real, selectable text (WeasyPrint). A page
    without its stylesheet (``report_html(..., for_pdf=True)``) gets the parsed one."""
    with _gc_paused():
        return _write(_layout(html, stylesheet="<style>" not in html))


def _provenance_pages(data, first_page: int):
    """The set's sources, licences and methods, laid out once per first page number, and
    drawn once too (:mod:`.paint_cache`): every PDF replays their drawing."""
    from markupsafe import Markup

    from placeportrait.report import content, paint_cache

    document = data._documents.get(first_page)
    if document is None:
        running = _css_string(f"Sources, licences and methods · boundary set {data.boundary_set}")
        html = _env().get_template("provenance_pdf.html.j2").render(
            p=content.provenance(data), running=Markup(running), first_page=first_page)
        document = data._documents[first_page] = _layout(html, stylesheet=True)
        for page in document.pages:
            paint_cache.install(page)
    return document.pages


def ward_pdf(data, code: str, *, generated_at: datetime | None = None) -> tuple[bytes, dict]:
    """One ward's A4 PDF, and its content.

    The ward's own pages are laid out for each ward; the pages of sources, licences and
    methods, the same for every ward of the set, are laid out once and appended.
    """
    with _gc_paused():  # collects once the ward's layout, no longer referenced, is garbage
        return _ward_pdf(data, code, generated_at)


def _ward_pdf(data, code: str, generated_at: datetime | None) -> tuple[bytes, dict]:
    html, report = report_html(data, code, generated_at=generated_at, include_provenance=False,
                               for_pdf=True)
    document = _layout(html, stylesheet=True)
    pages = document.pages + _provenance_pages(data, len(document.pages) + 1)
    return _write(document, pages), report


def render_ward_report(store, boundary_set: str | None, code: str, fmt: str = "pdf", *, data=None):
    """One ward's report: ``bytes`` for ``fmt="pdf"``, ``str`` for ``fmt="html"``.

    ``boundary_set=None`` means the only set with scores. ``data`` (from
    :func:`placeportrait.report.content.load_set`) skips reading the store again when
    rendering many wards of one set. Unknown sets or codes raise ``UnknownNameError``.
    """
    from placeportrait.report import content

    _check_format(fmt)
    if boundary_set is None and data is None:
        boundary_set = content.default_boundary_set(store)
    if data is None:
        data = content.load_set(store, boundary_set, codes=[code])
    data.area(code)  # unknown code: one-line UnknownNameError
    if fmt == "html":
        return report_html(data, code)[0]
    return ward_pdf(data, code)[0]


# ----------------------------------------------------------------------------- writing

def _write_atomic(path: Path, payload) -> None:
    """Write beside ``path`` and rename over it: a failure never leaves half a report."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    regular_files.check_output(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def resolve_codes(table, boundary_set: str, codes: Sequence[str] | None,
                  lad: str | None) -> list[str]:
    """The wards to report: ``codes``, or every ward of ``lad``; anything unknown raises.

    ``table`` is the set's area table (``store.read_area_table``).
    """
    from placeportrait.report import content

    codes = list(dict.fromkeys(codes or []))
    if lad and codes:
        raise InputError("give ward codes or --lad, not both")
    if lad:
        chosen = sorted(table.loc[table["parent_code"] == lad, "code"])
        if not chosen:
            parents = sorted(set(table["parent_code"].dropna()))
            known = ", ".join(parents[:5]) + (" …" if len(parents) > 5 else "")
            raise UnknownNameError(f"no wards of authority {lad!r} in boundary set "
                                   f"{boundary_set!r} (authorities: {known or 'none recorded'})")
        return chosen
    if not codes:
        raise InputError("give one or more ward codes, or --lad LAD_CODE")
    known = set(table["code"])
    for code in codes:
        if code not in known:
            raise content.unknown_ward(table, boundary_set, code)
    return codes


def _pool_context():
    """``fork`` on Linux: workers start at once with the modules already imported (the pool
    forks them all at the first submit, before any progress thread starts). ``spawn``
    elsewhere, where fork is unsafe or missing; the calling script then needs the usual
    ``if __name__ == "__main__":`` guard."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


# Worker state: each worker process has the set's data, read once.
_WORKER: dict = {}


def _worker_init(location, boundary_set: str, codes: list[str], data=None) -> None:
    """``data`` is the parent's, inherited by a forked worker without being copied or read
    again; a spawned worker gets ``None`` and opens its own store."""
    if data is None:
        from placeportrait.report import content
        from placeportrait.store import open_store

        store = open_store(location)
        data = content.load_set(store, boundary_set, codes=codes)
        if store.kind == "postgis":
            store.engine().dispose()
    _WORKER["data"] = data
    _tools()  # WeasyPrint imported, fonts found and the stylesheet parsed, once per worker


def _render_to_file(code: str, fmt: str, out_dir: str, generated_at: datetime,
                    data=None) -> tuple[str, dict]:
    from placeportrait.report import content

    data = data if data is not None else _WORKER["data"]
    if fmt == "html":
        payload, report = report_html(data, code, generated_at=generated_at)
    else:
        payload, report = ward_pdf(data, code, generated_at=generated_at)
    path = Path(out_dir) / content.report_filename(code, report["name"], fmt)
    _write_atomic(path, payload)
    return str(path), content.index_entry(report, path.name)


def _index_html(data, entries: list[dict], lad: str, generated_at: datetime, kind: str) -> str:
    from markupsafe import Markup

    from placeportrait import __version__
    from placeportrait.report import content

    authority = data.authorities.get(lad, lad)
    entries = sorted(entries, key=lambda e: (e["name"], e["code"]))
    return _env().get_template("index.html.j2").render(
        css=Markup(_css() if kind == "html" else ""), title=f"Ward reports: {authority} ({lad})",
        heading=f"{authority}: ward reports", entries=entries, boundary_set=data.boundary_set,
        vintage=missing.text(data.meta.get("vintage"), "unknown"), version=__version__,
        generated=content.fmt_date(generated_at.isoformat()), link=(kind == "html"))


def _index_pdf(entries: list[dict], lad: str, generated_at: datetime, data=None) -> bytes:
    """The index as PDF bytes; in a worker, with the worker's data and warm fonts."""
    data = data if data is not None else _WORKER["data"]
    with _gc_paused():
        return _write(_layout(_index_html(data, entries, lad, generated_at, "pdf"), stylesheet=True))


def _write_index(data, entries: list[dict], fmt: str, out_dir: Path, lad: str,
                 generated_at: datetime, pdf: bytes | None = None) -> list[Path]:
    """``index.html``, and ``index.pdf`` for PDFs (``pdf``: already rendered)."""
    written = []
    for kind in (("html", "pdf") if fmt == "pdf" else ("html",)):
        path = out_dir / f"index.{kind}"
        if kind == "html":
            payload = _index_html(data, entries, lad, generated_at, kind)
        else:
            payload = pdf if pdf is not None else _index_pdf(entries, lad, generated_at, data)
        _write_atomic(path, payload)
        written.append(path)
    return written


def _index_entries(data, codes: list[str], fmt: str) -> list[dict]:
    """The index's lines, computed from the set's data as the reports compute them."""
    from placeportrait.report import content

    entries = []
    for code in codes:
        report = content.gather(data, code)
        entries.append(content.index_entry(report, content.report_filename(code, report["name"], fmt)))
    return entries


def _check_unique_file_names(areas, chosen: list[str], fmt: str) -> None:
    """Two wards whose reports would share a file name (ignoring case, as some file
    systems do) would silently overwrite one another: refuse before writing anything."""
    from placeportrait.report import content

    names = areas.set_index("code")["name"]
    seen: dict[str, str] = {}
    for code in chosen:
        name = names.get(code)
        file_name = content.report_filename(code, name if isinstance(name, str) else code, fmt)
        other = seen.setdefault(file_name.lower(), code)
        if other != code:
            raise InputError(f"wards {other!r} and {code!r} would both be written to {file_name}; "
                             "reload the boundary set (codes are now checked at load)")


def write_reports(store, boundary_set: str | None, codes: Iterable[str] | None, fmt: str,
                  out_dir, lad: str | None = None, workers: int = 2,
                  progress: Callable[[Path], None] | None = None,
                  on_start: Callable[[int], None] | None = None) -> list[Path]:
    """Write one report per ward (``codes``, or every ward of ``lad``) into ``out_dir``.

    Everything is checked before anything is written: an unknown boundary set, ward or
    authority raises a one-line error and leaves ``out_dir`` untouched. With ``lad`` an
    index (``index.html``, and ``index.pdf`` for PDFs) lists the wards. With more than
    one ward and ``workers > 1``, reports render in a process pool; forked workers share
    the set read here, spawned ones open their own store. The PDF index renders in the
    pool too, beside the last reports, and is written once every report is.
    ``on_start(n)`` is called with the number of files to write, ``progress(path)`` after
    each one. Returns the paths written, reports first.
    """
    from placeportrait.report import content

    _check_format(fmt)
    if boundary_set is None:
        boundary_set = content.default_boundary_set(store)
    areas = store.read_area_table(boundary_set)
    chosen = resolve_codes(areas, boundary_set, list(codes or []), lad)
    _check_unique_file_names(areas, chosen, fmt)
    data = content.load_set(store, boundary_set, codes=chosen)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    total = len(chosen) + ((2 if fmt == "pdf" else 1) if lad else 0)
    generated_at = datetime.now(timezone.utc)
    results: dict[str, tuple[str, dict]] = {}
    entries, index_pdf = None, None
    workers = max(1, min(int(workers or 1), len(chosen)))
    if workers == 1:
        if on_start:
            on_start(total)
        for code in chosen:
            results[code] = _render_to_file(code, fmt, str(out_dir), generated_at, data=data)
            if progress:
                progress(Path(results[code][0]))
    else:
        ctx = _pool_context()
        forked = ctx.get_start_method() == "fork"
        if forked and store.kind == "postgis":
            store.engine().dispose()  # no pooled connection may be shared with the children
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(store.location, boundary_set, chosen,
                                           data if forked else None)) as pool:
            futures = {pool.submit(_render_to_file, code, fmt, str(out_dir), generated_at): code
                       for code in chosen}
            if on_start:  # after the workers exist: a progress thread is never forked
                on_start(total)
            index_future = None
            if lad and fmt == "pdf":  # queued behind the reports: it fills the last gap
                entries = _index_entries(data, chosen, fmt)
                index_future = pool.submit(_index_pdf, entries, lad, generated_at)
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if progress:
                    progress(Path(results[futures[future]][0]))
            if index_future is not None:
                index_pdf = index_future.result()
    paths = [Path(results[code][0]) for code in chosen]
    if lad:
        if entries is None:
            entries = [results[c][1] for c in chosen]
        for path in _write_index(data, entries, fmt, out_dir, lad, generated_at, pdf=index_pdf):
            paths.append(path)
            if progress:
                progress(path)
    return paths
