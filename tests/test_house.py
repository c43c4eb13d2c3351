"""The maintainer's habits, checked like behaviour: lint, format, types, and what may import what.

The tools and their settings are pinned in pyproject.toml ([tool.ruff], [tool.mypy]), so a
regression fails CI instead of piling up.
"""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import REPO

TOOLS = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOOLS / tool), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_tree_is_formatted():
    result = run("ruff", "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, "run: ruff format .\n" + result.stdout[-4000:]


@pytest.mark.timeout(300)
def test_mypy_accepts_the_helper_package():
    result = run("mypy", "--no-incremental")  # files and settings: pyproject.toml
    assert result.returncode == 0, result.stdout[-6000:]


def test_exercise_stubs_say_why_they_silence_the_linter():
    """A learner's stub may import what the learner will need; each such line says so."""
    for path in sorted((REPO / "exercises").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "# noqa" in line:
                reason = line.split("# noqa", 1)[1].split(":", 1)[-1]
                assert "(" in reason or "—" in reason or len(reason.split()) > 2, (
                    f"{path.relative_to(REPO)}:{number}: a noqa without its reason"
                )


def imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of_the_test_extra() -> set[str]:
    """Import names of the test extra's packages (what a learner's environment may lack)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    by_distribution = {
        "pytest-timeout": "pytest_timeout",
        "jupyterhub": "jupyterhub",
        "PyYAML": "yaml",
        "ruff": "ruff",
        "mypy": "mypy",
    }
    names = set()
    for requirement in project["optional-dependencies"]["test"]:
        distribution = requirement.split("==")[0]
        assert distribution in by_distribution, f"name the import of {distribution} here"
        names.add(by_distribution[distribution])
    return names


def test_the_runtime_package_imports_nothing_from_the_test_extra():
    forbidden = modules_of_the_test_extra()
    offenders = {
        path.relative_to(REPO).as_posix(): sorted(imported_top_level_modules(path) & forbidden)
        for path in sorted((REPO / "workbook").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}
