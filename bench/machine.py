"""What machine a benchmark ran on, printed beside every table of figures."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def machine() -> dict:
    """Cores usable by this process, memory, CPU model, Python, platform and time."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": cores, "memory": f"{memory_gb:.1f} GiB", "memory_gb": round(memory_gb, 1),
            "cpu": cpu, "python": platform.python_version(), "platform": platform.platform(),
            "when": datetime.now(UTC).isoformat(timespec="seconds")}
