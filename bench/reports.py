"""Benchmark: ward reports (issue #7). Seconds per ward PDF, and a whole authority in parallel.

    python bench/reports.py                      # builds the demo store in a temporary folder
    python bench/reports.py --database-url URL   # a store that already holds the scored demo
    python bench/reports.py --skip-serial        # leave out the one-process run of the authority
    python bench/reports.py --rounds 3           # time every ward's reports three times (steadier medians)

It prints a Markdown table with the machine (cores, memory, load) beside each figure;
``bench/run.py`` calls :func:`run` for its ``reports`` step. It measures and never asserts:
the target in the issue is at most 1 s per ward PDF. Rendering is CPU-bound, so other work
on the machine slows it: read the load average printed beside the figures.

What is timed:

- one ward, in one warm process: its HTML report (numbers, doughnut, locator map,
  template) and its PDF report (the ward's pages laid out, the set's pages of sources
  appended, written tagged), over every ward of the authority (``--rounds`` times), with
  the PDF's CPU time beside its wall time;
- the first report of a fresh process (imports, store read, fonts), in a subprocess;
- the whole authority (21 Trafford wards plus the index) with ``write_reports`` and 2 worker
  processes, each opening its own store, with the workers' CPU time; and, for comparison,
  in one process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import machine  # noqa: E402

WARDS = "trafford-wards-2023"
LAD = "E08000009"


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def count_pages(pdf: bytes) -> int | None:
    try:
        from io import BytesIO

        from pypdf import PdfReader
    except ImportError:  # pypdf is a test dependency
        return None
    return len(PdfReader(BytesIO(pdf)).pages)


def build_demo(url: str) -> None:
    from placeportrait.cli import main

    try:
        main(["--database-url", url, "demo", "--no-serve"])
    except SystemExit as exc:
        if exc.code:
            raise SystemExit(f"demo failed with exit code {exc.code}")


def first_report_seconds(url: str) -> float:
    """A fresh interpreter: import, read the set, render Altrincham's PDF."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from placeportrait.store import open_store\n"
        "from placeportrait.report import render_ward_report\n"
        f"render_ward_report(open_store({url!r}), {WARDS!r}, 'E05015239', 'pdf')\n"
        "print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def _demo_store(url: str | None, tmp: str) -> str:
    """``url`` if it already holds the scored demo set; else the demo built in ``tmp``."""
    from placeportrait.store import open_store

    if url:
        store = open_store(url)
        try:
            if not store.read_scores(WARDS).empty:
                return url
        except Exception:  # noqa: BLE001 - no such set: build the demo instead
            pass
        finally:
            if store.kind == "postgis":
                store.engine().dispose()
    path = str(Path(tmp) / "store" / "placeportrait.gpkg")
    os.environ["PLACEPORTRAIT_HOME"] = str(Path(tmp) / "home")
    build_demo(path)
    return path


def measure(url: str | None = None, serial: bool = True, rounds: int = 1) -> dict:
    """Time the reports; returns every figure with the machine and its load."""
    from placeportrait import __version__
    from placeportrait.report import content, report_html, ward_pdf, write_reports
    from placeportrait.store import open_store

    with tempfile.TemporaryDirectory(prefix="placeportrait-bench-") as tmp:
        url = _demo_store(url, tmp)
        store = open_store(url)
        result = {"version": __version__, "store": store.kind, "machine": machine(),
                  "load_before": load()}
        data = content.load_set(store, WARDS)
        codes = data.codes_of_authority(LAD)
        ward_pdf(data, codes[0])  # warm: fonts, caches, the set's pages of sources
        html_s, pdf_s, pdf_cpu, pages = [], [], [], []
        cpu_start = time.process_time()
        for code in codes * max(1, rounds):
            t0 = time.perf_counter()
            report_html(data, code)
            t1 = time.perf_counter()
            c1 = time.process_time()
            pdf, _ = ward_pdf(data, code)
            pdf_cpu.append(time.process_time() - c1)
            t2 = time.perf_counter()
            html_s.append(t1 - t0)
            pdf_s.append(t2 - t1)
            pages.append(count_pages(pdf))
        result.update(wards=len(codes), html=html_s, pdf=pdf_s, pdf_cpu=pdf_cpu,
                      pages=[p for p in pages if p],
                      cpu_per_ward=(time.process_time() - cpu_start) / len(html_s),
                      first=first_report_seconds(url))

        out = Path(tmp) / "out"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        written = write_reports(store, WARDS, None, "pdf", out / "parallel", lad=LAD, workers=2)
        result["parallel"] = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["worker_cpu"] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        result["files"] = len(written)
        result["serial"] = None
        if serial:
            t0 = time.perf_counter()
            write_reports(store, WARDS, None, "pdf", out / "serial", lad=LAD, workers=1)
            result["serial"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_reports(store, WARDS, None, "html", out / "html", lad=LAD, workers=2)
        result["html_parallel"] = time.perf_counter() - t0
        result["load_after"] = load()
        if store.kind == "postgis":
            store.engine().dispose()
    return result


def run(context) -> list[dict]:
    """Rows for ``bench/run.py`` (step ``reports``)."""
    r = measure(context.get("database_url"), serial=False)
    n = r["wards"]
    load_note = f"load average {r['load_before']} before"
    return [
        {"step": "reports", "case": "one ward, HTML", "seconds": statistics.median(r["html"]),
         "note": f"median of {n} Trafford wards"},
        {"step": "reports", "case": "one ward, PDF (target ≤ 1 s)", "seconds": statistics.median(r["pdf"]),
         "note": f"median of {n}; min {min(r['pdf']):.2f}, max {max(r['pdf']):.2f}; "
                 f"CPU median {statistics.median(r['pdf_cpu']):.2f}; {load_note}"},
        {"step": "reports", "case": "first report of a fresh process", "seconds": r["first"]},
        {"step": "reports", "case": f"authority, {n} PDFs + index, 2 workers", "seconds": r["parallel"],
         "note": f"workers' CPU {r['worker_cpu']:.1f} s"},
        {"step": "reports", "case": f"authority, {n} HTML + index, 2 workers", "seconds": r["html_parallel"]},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a store with the demo loaded (default: build one)")
    parser.add_argument("--skip-serial", action="store_true", help="skip the one-process authority run")
    parser.add_argument("--rounds", type=int, default=1, help="time every ward's reports this many times")
    args = parser.parse_args()
    r = measure(args.database_url, serial=not args.skip_serial, rounds=args.rounds)

    def stats(values):
        return (f"{statistics.median(values):.2f} (min {min(values):.2f}, "
                f"max {max(values):.2f})")

    info, n = r["machine"], r["wards"]
    print(f"## Ward reports: placeportrait {r['version']}, {r['store']} store\n")
    print(f"Machine: {info['cores']} cores ({info['cpu']}), {info['memory']} memory, "
          f"Python {info['python']}. Load average (1/5/15 min) {r['load_before']} before, "
          f"{r['load_after']} after.\n")
    print("| measure | seconds | note |")
    print("|---|---|---|")
    pages = f"{statistics.median(r['pages']):.0f} A4 pages, tagged" if r["pages"] else "tagged"
    times = f"{len(r['pdf']) // n} × the {n} wards" if len(r["pdf"]) > n else f"the {n} wards"
    print(f"| one ward, HTML report (numbers, SVGs, template) | {stats(r['html'])} | "
          f"median over {times} of {LAD}, warm process |")
    print(f"| **one ward, PDF report** | **{stats(r['pdf'])}** | target ≤ 1 s; {pages}; "
          f"CPU {stats(r['pdf_cpu'])} for the PDF, {r['cpu_per_ward']:.2f} s per ward "
          f"for HTML and PDF |")
    print(f"| first report of a fresh process | {r['first']:.2f} | imports, store read, fonts |")
    print(f"| authority, PDF, 2 workers | {r['parallel']:.1f} | {n} reports + index.html + index.pdf "
          f"({r['files']} files); {r['parallel'] / n:.2f} s per ward; workers' CPU "
          f"{r['worker_cpu']:.1f} s, so {r['worker_cpu'] / 2:.1f} s on 2 idle cores |")
    if r["serial"] is not None:
        print(f"| authority, PDF, 1 process | {r['serial']:.1f} | {r['serial'] / n:.2f} s per ward; "
              f"speed-up with 2 workers {r['serial'] / r['parallel']:.2f}× |")
    print(f"| authority, HTML, 2 workers | {r['html_parallel']:.1f} | {n} reports + index.html |")


if __name__ == "__main__":
    main()
