"""Every shell block in the README, indicators/README.md and docs/ runs as written.

A worked example that names a file that does not exist, or a set the demo already makes,
fails here instead of in an analyst's first hour. The blocks of one page run in order, in
a fresh PLACEPORTRAIT_HOME, from a folder where the repository's ``tests/`` and
``indicators/`` are at hand (so outputs never land in the checkout). A block that cannot
run in a test (it installs packages, needs Docker, a server or national data) says so on
the line above its fence: ``<!-- not run in tests: REASON -->``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", ROOT / "indicators" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:^<!-- not run in tests: (?P<reason>[^>]*?) -->\n)?^```sh\n(?P<body>.*?)^```",
                   re.M | re.S)


def blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(line, body, reason not run) of every ```sh block of ``page``."""
    text = page.read_text()
    return [(text[:m.start("body")].count("\n"), m.group("body"), m.group("reason"))
            for m in BLOCK.finditer(text)]


def test_every_sh_block_is_found_and_each_skip_has_a_reason():
    for page in PAGES:
        fences = page.read_text().count("```sh\n")
        found = blocks(page)
        assert len(found) == fences, f"{page}: a ```sh block the pattern missed"
        for line, _, reason in found:
            assert reason is None or len(reason.strip()) > 10, f"{page}:{line}: give a reason"


RUNNABLE = [page for page in PAGES if any(reason is None for _, _, reason in blocks(page))]


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_commands_of_a_page_run_as_written(page, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("tests", "indicators"):
        (work / name).symlink_to(ROOT / name)
    env = {**os.environ, "PLACEPORTRAIT_HOME": str(tmp_path / "home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "80"}
    for key in ("PLACEPORTRAIT_DATABASE_URL", "PLACEPORTRAIT_INDICATORS_PATH"):
        env.pop(key, None)
    for line, body, reason in blocks(page):
        if reason is not None:
            continue
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (f"{page.relative_to(ROOT)}:{line} failed:\n{body}\n"
                                      f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        assert "Traceback" not in done.stderr, done.stderr
