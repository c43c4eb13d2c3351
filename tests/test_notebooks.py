"""Every notebook runs headless from top to bottom, and leaves no server behind.

A cell may fail only if it is tagged ``raises-exception`` (it shows an error on
purpose). Committed notebooks carry no outputs.
"""
import time
from pathlib import Path

import nbformat
import pytest

from workbook.notebook_runner import error_cells, run_notebook
from workbook.processes import processes_with

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    path for folder in ("notebooks", "exercises", "solutions") for path in (REPO / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)


def notebook_id(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_headless_and_cleans_up(path):
    notebook, seconds, run_id = run_notebook(path)
    print(f"{notebook_id(path)}: {seconds:.1f} s")
    for cell, errors, expected in error_cells(notebook):
        raise AssertionError(
            f"cell {cell.id} {'did not raise' if expected else 'raised'}: {cell.source[:200]}\n"
            + "".join(f"{error.ename}: {error.evalue}" for error in errors))
    # The kernel has shut down: nothing it started may still run.
    deadline = time.monotonic() + 10
    while processes_with("WORKBOOK_NOTEBOOK_RUN", run_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with("WORKBOOK_NOTEBOOK_RUN", run_id) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_committed_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: cell {cell.id}"


def test_the_staged_notebooks_are_all_there():
    names = [path.name for path in sorted((REPO / "notebooks").glob("*.ipynb"))]
    assert [name[:3] for name in names[:4]] == ["00_", "01_", "02_", "03_"]
