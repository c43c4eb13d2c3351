"""Every notebook runs headless from top to bottom, and leaves no server behind.

A cell may fail only if it is tagged ``raises-exception`` (it shows an error on
purpose). Committed notebooks carry no outputs.
"""
import os
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from workbook.processes import processes_with

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    path for folder in ("notebooks", "exercises", "solutions") for path in (REPO / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)
CELL_TIMEOUT = 60


def notebook_id(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_headless_and_cleans_up(path):
    notebook = nbformat.read(path, as_version=4)
    run_id = uuid.uuid4().hex
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.monotonic()
    client.execute(env={**os.environ, "WORKBOOK_NOTEBOOK_RUN": run_id})
    elapsed = time.monotonic() - started
    print(f"{notebook_id(path)}: {elapsed:.1f} s")
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [out for out in cell.outputs if out.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, (
            f"cell {cell.id} {'raised' if errors else 'did not raise'}: {cell.source[:200]}\n"
            + "".join(f"{e.ename}: {e.evalue}" for e in errors)
        )
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
