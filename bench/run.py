"""Run the benchmark suite and write ``bench/results/latest.{md,json}``.

    python bench/run.py [--database-url postgresql+psycopg://…] [--only load,harmonise]

Each step runs in a fresh process, so its peak memory (max RSS) is its own. Steps:
``load`` (bench/store.py), ``harmonise``, ``scoring``, and, where present, ``app``
and ``reports``. Figures are measurements on this machine, printed with its cores and
memory; nothing here is asserted by the tests.
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
from bench.machine import machine  # noqa: E402
STEPS = ["load", "harmonise", "scoring", "app", "reports"]
MODULES = {"load": "bench.store", "harmonise": "bench.harmonise", "scoring": "bench.scoring",
           "app": "bench.app", "reports": "bench.reports"}


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
    except Exception as exc:  # a failed step is reported, the others still run
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PLACEPORTRAIT_BENCH_DATABASE_URL"))
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    context = {"database_url": args.database_url}
    results, ctx = [], mp.get_context("spawn")
    for step in args.only.split(","):
        module = MODULES[step]
        if not (HERE / f"{module.split('.')[1]}.py").exists():
            continue
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(module, context, queue))
        proc.start()
        outcome = queue.get()
        proc.join()
        if "error" in outcome:
            results.append({"step": step, "case": "FAILED", "note": outcome["error"]})
            continue
        for row in outcome["rows"]:
            results.append({**row, "peak_mb": round(outcome["peak_mb"])})
    info = machine()
    lines = [f"# placeportrait benchmarks", "",
             f"{info['cores']} cores, {info['memory_gb']} GB, Python {info['python']}, {info['when']}", "",
             "| step | case | seconds | vs peer | peak MB (step) | note |", "|---|---|---:|---|---:|---|"]
    for r in results:
        ratio = f"{r['ratio']:.1f}× faster than {r['peer']}" if r.get("ratio") else ""
        seconds = f"{r['seconds']:.4f}" if isinstance(r.get("seconds"), float) else str(r.get("value", ""))
        lines.append(f"| {r['step']} | {r['case']} | {seconds} | {ratio} | {r.get('peak_mb', '')} | {r.get('note', '')} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text("\n".join(lines) + "\n")
    (out / "latest.json").write_text(json.dumps({"machine": info, "results": results}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
