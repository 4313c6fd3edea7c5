"""Run the benchmark suite and write ``bench/results/latest.{md,json}``.

    python bench/run.py [--database-url postgresql+psycopg://…] [--only load,harmonise]

Each step runs in a fresh process, so its peak memory (max RSS) is its own (a step that
runs its cases in processes of their own reports each case's peak). Steps: ``load``
(bench/store.py), ``harmonise``, ``scoring``, ``refresh`` (every built-in indicator and
scoring on the UK ward sets), ``first_render`` (the app in headless Chromium) and, where
present, ``app`` and ``reports``. The results files are merged by step: ``--only X``
replaces X's rows and keeps the others', each with the time and load average of its run.
Figures are measurements on this machine, printed with its cores and memory; nothing here
is asserted by the tests. A step that runs again shows each case's seconds as a multiple
of its last run ("vs last run"), so a second run shows the noise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing as mp
import os
import resource
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench.machine import machine

STEPS = ["load", "harmonise", "scoring", "refresh", "app", "first_render", "reports"]
MODULES = {"load": "bench.store", "harmonise": "bench.harmonise", "scoring": "bench.scoring",
           "refresh": "bench.refresh", "app": "bench.app", "first_render": "bench.first_render",
           "reports": "bench.reports"}


def _child(module: str, context: dict, queue) -> None:
    sys.path.insert(0, str(HERE.parent))
    try:
        mod = importlib.import_module(module)
        if not hasattr(mod, "run"):
            queue.put({"error": f"no run(context) yet: run `python {mod.__file__}` on its own"})
            return
        rows = mod.run(context)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put({"rows": rows, "peak_mb": peak})
    except Exception as exc:  # noqa: BLE001 - a failed step is reported, the others still run
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def _load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _previous(out: Path) -> tuple[list[dict], dict]:
    """The results and step runs already in ``latest.json`` (none if there is no such file)."""
    try:
        data = json.loads((out / "latest.json").read_text())
    except (OSError, ValueError):
        return [], {}
    runs = data.get("runs") or {}
    for r in data.get("results", []):  # files written before runs were recorded
        runs.setdefault(r.get("step"), {"when": data.get("machine", {}).get("when", "")})
    return data.get("results", []), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PLACEPORTRAIT_BENCH_DATABASE_URL"))
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    context = {"database_url": args.database_url}
    out = Path(args.out)
    results, runs = _previous(out)
    ctx = mp.get_context("spawn")
    for step in args.only.split(","):
        module = MODULES[step]
        if not (HERE / f"{module.split('.')[1]}.py").exists():
            continue
        info = machine()
        runs[step] = {"when": info["when"], "load_before": _load_average(),
                      "database": "postgis" if args.database_url else "none"}
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(module, context, queue))
        proc.start()
        outcome = queue.get()
        proc.join()
        runs[step]["load_after"] = _load_average()
        rows = ([{"step": step, "case": "FAILED", "note": outcome["error"]}] if "error" in outcome
                else [{"peak_mb": round(outcome["peak_mb"]), **row} for row in outcome["rows"]])
        before = {r.get("case"): r.get("seconds") for r in results if r.get("step") == step}
        for row in rows:  # a re-run shows how far it lands from the last one
            last = before.get(row.get("case"))
            if isinstance(last, (int, float)) and isinstance(row.get("seconds"), (int, float)) and last > 0:
                row["last_seconds"] = last
        results = [r for r in results if r.get("step") != step] + rows
    order = {step: i for i, step in enumerate(STEPS)}
    results.sort(key=lambda r: order.get(r.get("step"), len(order)))  # stable: rows keep their order
    info = machine()
    lines = ["# placeportrait benchmarks", "",
             f"{info['cores']} cores, {info['memory_gb']} GB, Python {info['python']}, written {info['when']}", "",
             "| step | ran at | load average (1/5/15 min) before → after |", "|---|---|---|"]
    for step in sorted(runs, key=lambda s: order.get(s, len(order))):
        run = runs[step]
        load = f"{run['load_before']} → {run['load_after']}" if run.get("load_before") else ""
        lines.append(f"| {step} | {run.get('when', '')} | {load} |")
    lines += ["", "| step | case | seconds | vs last run | vs peer | peak MB (step) | note |",
              "|---|---|---:|---:|---|---:|---|"]
    for r in results:
        ratio = r.get("ratio")
        versus = ("" if not ratio else f"{ratio:.1f}× faster than {r['peer']}" if ratio >= 1
                  else f"{1 / ratio:.1f}× slower than {r['peer']}")
        seconds = f"{r['seconds']:.4f}" if isinstance(r.get("seconds"), float) else str(r.get("value", ""))
        last = f"{r['seconds'] / r['last_seconds']:.2f}×" if r.get("last_seconds") else ""
        lines.append(f"| {r['step']} | {r['case']} | {seconds} | {last} | {versus} | "
                     f"{r.get('peak_mb', '')} | {r.get('note', '')} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text("\n".join(lines) + "\n")
    (out / "latest.json").write_text(json.dumps({"machine": info, "runs": runs, "results": results}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
