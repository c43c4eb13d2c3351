"""The set-up a new user relies on: pins, environment.yml, README and CI agree."""

import re
import tomllib

import yaml
from helpers import REPO


def pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def normalise(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


def test_every_dependency_is_pinned_exactly():
    project = pyproject()["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", requirement), requirement


def test_environment_yml_matches_the_pins():
    project = pyproject()["project"]
    pinned = {normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [item for item in environment["dependencies"] if isinstance(item, str)]
    pip = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    assert {normalise(r) for r in pip if "==" in r} == pinned
    assert "-e ." in pip
    python_floor = project["requires-python"].removeprefix(">=")
    assert f"python={python_floor}" in conda


def readme_commands():
    readme = (REPO / "README.md").read_text()
    return re.findall(r"^(python3\.11 -m workbook \w+)$", readme, flags=re.M)


def test_readme_has_exactly_two_setup_commands():
    assert readme_commands() == ["python3.11 -m workbook lab", "python3.11 -m workbook test"]


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci/run").read_text()
    commands = [line.strip() for line in script.splitlines() if "python" in line and not line.startswith("#")]
    assert commands == [readme_commands()[1]]  # the last step, and the only Python one
    assert script.rstrip().endswith(readme_commands()[1])


def test_demo_passwords_in_readme_are_the_real_ones(demo_passwords):
    readme = (REPO / "README.md").read_text()
    for username, password in demo_passwords.items():
        assert f"| `{username}` | `{password}` |" in readme


def test_readme_documents_every_close_code():
    from websocket_app.protocol import CLOSE_CODES

    readme = (REPO / "README.md").read_text()
    for code, (error, _meaning) in CLOSE_CODES.items():
        assert str(code) in readme and f"`{error}`" in readme, code
