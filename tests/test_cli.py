"""The command line as a user meets it."""

import os
import subprocess
import sys

import pytest

from placeportrait.cli import app

from test_boundaries import run


def _commands(group, prefix=()):
    import typer.main

    cmd = typer.main.get_command(group)
    stack = [(prefix, cmd)]
    while stack:
        path, c = stack.pop()
        yield path
        for name, sub in getattr(c, "commands", {}).items():
            stack.append((path + (name,), sub))


@pytest.mark.parametrize("path", list(_commands(app)), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(capsys, path):
    code, out, _ = run(capsys, *path, "--help")
    assert code == 0
    assert "Usage" in out and len(out.splitlines()) > 3


def test_version(capsys):
    from placeportrait import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "placeportrait.cli", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "placeportrait" in result.stdout


def test_demo_on_the_embedded_default(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--no-serve")
    assert code == 0, err
    assert "Trafford, 21 wards" in out and "32 indicators scored" in out
    for pid in ("fuel_poverty", "imd_most_deprived", "gigabit_broadband"):
        assert f"{pid}: 21 of 21 areas have data" in out
    assert (tmp_path / "home" / "placeportrait.gpkg").exists()
    code, out, _ = run(capsys, "db", "status")
    assert "schema version 9" in out and "areas: 298 rows" in out and "scores: 1,659 rows" in out
    assert "similar_wards: 210 rows" in out  # 10 for each of the 21 wards
    # Running the demo again replaces, never duplicates.
    assert run(capsys, "demo", "--no-serve")[0] == 0
    again = run(capsys, "db", "status")[1]
    assert "scores: 1,659 rows" in again and "similar_wards: 210 rows" in again


def test_db_status_before_init(capsys):
    code, out, _ = run(capsys, "db", "status")
    assert code == 0 and "not created yet" in out


def test_a_usage_error_is_a_short_message_not_a_traceback(tmp_path):
    """Typer 0.2x parses with its own copy of click; its errors still end as a usage line."""
    result = subprocess.run([sys.executable, "-m", "placeportrait.cli", "boundaries", "load",
                             "x.geojson", "--no-such-option"], capture_output=True, text=True,
                            env={**os.environ, "PLACEPORTRAIT_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "No such option: --no-such-option" in result.stderr
    assert "Traceback" not in result.stderr
