"""Every notebook runs headless from top to bottom, and leaves no server behind.

A cell may fail only if it is tagged ``raises-exception`` (it shows an error on
purpose). Committed notebooks carry no outputs.
"""

import re
import time
from pathlib import Path

import nbformat
import pytest
from helpers import REPO

from workbook.notebook_runner import error_cells, run_notebook
from workbook.processes import processes_with

NOTEBOOKS = sorted(
    path
    for folder in ("notebooks", "exercises", "solutions")
    for path in (REPO / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)


#: Headless time of each notebook, kernel start included; shown in the run's summary.
NOTEBOOK_SECONDS: dict[str, float] = {}


def notebook_id(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def learner_data_dir(tmp_path_factory):
    """One data folder for all the notebooks, empty at first: the way a learner runs them.
    (That any notebook opened first prepares an empty folder is tested below.)"""
    return tmp_path_factory.mktemp("learner") / "data"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_headless_and_cleans_up(path, learner_data_dir, monkeypatch):
    # The password hasher a learner has (the other tests use a fast one): logins cost what they cost.
    monkeypatch.delenv("WORKBOOK_FAST_PASSWORD_HASHER", raising=False)
    notebook, seconds, run_id = run_notebook(path, env={"WORKBOOK_DATA_DIR": str(learner_data_dir)})
    NOTEBOOK_SECONDS[notebook_id(path)] = seconds  # printed at the end of the run (conftest.py)
    for cell, errors, expected in error_cells(notebook):
        raise AssertionError(
            f"cell {cell.id} {'did not raise' if expected else 'raised'}: {cell.source[:200]}\n"
            + "".join(f"{error.ename}: {error.evalue}" for error in errors)
        )
    assert_nothing_left(run_id)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_the_first_cell_prepares_an_empty_data_folder(path, tmp_path, monkeypatch):
    """As on a hub or Binder where nobody ran `python -m workbook setup`, and the learner opens
    this notebook first: its first cell migrates the database and creates the demo users."""
    monkeypatch.delenv("WORKBOOK_FAST_PASSWORD_HASHER", raising=False)
    notebook, _, run_id = run_notebook(path, env={"WORKBOOK_DATA_DIR": str(tmp_path / "data")}, code_cells=1)
    assert not error_cells(notebook)
    said = _all_output_text(notebook)
    assert re.search(r"applied \d+ database migrations and created the demo users alice, bob, carol", said), said
    assert_nothing_left(run_id)


def assert_nothing_left(run_id: str) -> None:
    """The kernel has shut down: nothing it started may still run."""
    deadline = time.monotonic() + 10
    while processes_with("WORKBOOK_NOTEBOOK_RUN", run_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with("WORKBOOK_NOTEBOOK_RUN", run_id) == []


def _all_output_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(value) for value in output.get("data", {}).values())
    return "\n".join(texts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_committed_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: cell {cell.id}"


def test_the_staged_notebooks_are_all_there():
    names = [path.name for path in sorted((REPO / "notebooks").glob("*.ipynb"))]
    assert [name[:3] for name in names[:4]] == ["00_", "01_", "02_", "03_"]


@pytest.mark.timeout(300)
def test_two_runs_side_by_side_do_not_collide():
    """Two learners (or two CI jobs) running the same notebooks at once on one machine."""
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from workbook.notebook_runner import error_cells, run_notebook; "
        "notebook, seconds, _ = run_notebook(Path(sys.argv[1])); "
        "sys.exit(1 if error_cells(notebook) else 0)"
    )
    paths = [
        REPO / "notebooks" / "03_group_chat.ipynb",
        REPO / "notebooks" / "03_group_chat.ipynb",
        REPO / "notebooks" / "01_echo_consumer.ipynb",
    ]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for path in paths
    ]
    for run in runs:
        output, _ = run.communicate(timeout=240)
        assert run.returncode == 0, output[-2000:]
