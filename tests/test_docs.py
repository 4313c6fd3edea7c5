"""The docs promise what the code does."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def quickstart_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quickstart_has_exactly_two_commands():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert "placeportrait demo" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = quickstart_commands()[1]
    assert test_command in ci


def test_every_module_is_in_the_architecture_doc():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    package = ROOT / "src" / "placeportrait"
    for path in package.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        dotted = ".".join(path.relative_to(package).with_suffix("").parts)
        assert f"`{dotted}`" in doc, f"{dotted} is not described in docs/architecture.md"
