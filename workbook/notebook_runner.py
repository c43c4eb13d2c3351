"""Running a notebook headless (tests and benchmarks), the way nbclient does in CI."""

import os
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT = 60


def run_notebook(
    path: Path, cell_timeout: int = CELL_TIMEOUT, env: dict[str, str] | None = None, code_cells: int | None = None
) -> tuple[nbformat.NotebookNode, float, str]:
    """Execute ``path`` in a fresh kernel; return ``(notebook, seconds, run_id)``.

    Cells may raise only where tagged ``raises-exception``; others stop the run.
    ``WORKBOOK_NOTEBOOK_RUN`` marks every process the kernel starts, so callers can
    prove afterwards that none is left. ``code_cells=N`` runs only the first N code cells.
    """
    notebook = nbformat.read(path, as_version=4)
    if code_cells is not None:
        code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        notebook.cells = notebook.cells[: code[code_cells - 1] + 1]
    run_id = uuid.uuid4().hex
    client = NotebookClient(
        notebook, timeout=cell_timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.monotonic()
    client.execute(env={**os.environ, **(env or {}), "WORKBOOK_NOTEBOOK_RUN": run_id})
    return notebook, time.monotonic() - started, run_id


def error_cells(notebook: nbformat.NotebookNode) -> list[tuple[Any, list[Any], bool]]:
    """``(cell, errors, expected)`` for every code cell whose errors differ from its tags."""
    wrong = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [output for output in cell.outputs if output.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        if bool(errors) != expected:
            wrong.append((cell, errors, expected))
    return wrong
