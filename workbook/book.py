"""``python -m workbook book``: the workbook as a static HTML book, with every chapter executed.

The book is Sphinx with MyST-NB and the Sphinx Book Theme (the engine of Jupyter Book 1),
configured in ``book/conf.py``. This module:

1. executes each chapter (``notebooks/NN_*.ipynb``, found in the folder) headless, or reuses
   its execution from a jupyter-cache when neither its code cells nor the project's code
   changed;
2. writes the book's pages into a cache folder: the README's introduction as the front page,
   the executed chapters, one page per exercise (task, hints and solution folded), the
   instructor's guide as an appendix;
3. runs Sphinx on them into the output folder (incremental: unchanged pages are not redone).

Diagrams use a local mermaid.js, kept in ``book/vendor/`` (from npm's mermaid@12.3.0, checked
against a pinned hash): building and reading the book need no network at all.
"""

import concurrent.futures
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from .paths import EXERCISES_DIR, NOTEBOOKS_DIR, PROJECT_DIR, REPO_DIR, SOLUTIONS_DIR

fcntl: ModuleType | None  # None where there is no fcntl (Windows)
try:
    import fcntl
except ImportError:  # Windows: no lock, one build at a time is then up to you
    fcntl = None

if TYPE_CHECKING:  # imported for real inside the functions: `workbook` starts fast without them
    from jupyter_cache.base import CacheBundleIn, JupyterCacheAbc
    from nbformat import NotebookNode

    from .exercises import Exercise

T = TypeVar("T")
Log = Callable[..., None]  # print, or anything called like it (with flush=True)

CONFIG_DIR = REPO_DIR / "book"
DEFAULT_OUTPUT = REPO_DIR / "artifacts" / "book"
CACHE_DIR = REPO_DIR / ".workbook" / "book-cache"  # git-ignored with the rest of .workbook/
CELL_TIMEOUT = 120
WORKERS = 2  # notebooks mostly wait on sockets; two at once halve the time on two cores

MERMAID_VERSION = "12.3.0"
# npm's "dist.integrity" of the mermaid@12.3.0 tarball that book/vendor/ was taken from,
MERMAID_NPM_INTEGRITY = (
    "sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw=="
)
# and the SHA-256 of its dist/mermaid.min.js as kept there.
MERMAID_SHA256 = "336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3"

# Links between notebooks that point at something that is not a chapter page of the book.
LINK_TARGETS = {"exercises.ipynb": "exercises/index.md"}


class BookError(Exception):
    """The book could not be built; the message says why and what to do."""


def chapters() -> list[Path]:
    """The chapter notebooks, in order: ``notebooks/NN_name.ipynb``."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


# --- executing the chapters, with a cache -------------------------------------------------


def project_hash() -> str:
    """A hash of the code the notebooks run: a change in it means executing them again."""
    digest = hashlib.sha256()
    roots = [REPO_DIR / "workbook", PROJECT_DIR, EXERCISES_DIR, SOLUTIONS_DIR]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if (
                not path.is_file()
                or "__pycache__" in path.parts
                or path.suffix not in {".py", ".html", ".js", ".css", ".toml", ".json", ".txt"}
                or path == Path(__file__)
            ):  # how the book is rendered changes no output
                continue
            digest.update(path.relative_to(REPO_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    digest.update((REPO_DIR / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:16]


def execution_cache(code_hash: str) -> "JupyterCacheAbc":
    """The jupyter-cache for this version of the project's code (older ones are removed)."""
    from jupyter_cache import get_cache

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for old in CACHE_DIR.glob("executed-*"):
        if old.name != f"executed-{code_hash}":
            shutil.rmtree(old, ignore_errors=True)
    return get_cache(CACHE_DIR / f"executed-{code_hash}")


def cached_outputs(cache: "JupyterCacheAbc", notebook: "NotebookNode") -> "NotebookNode | None":
    """``notebook`` with its outputs from the cache, or None when it was never executed so."""
    try:
        return cache.merge_match_into_notebook(notebook)[1]
    except KeyError:
        return None


@dataclass
class Failure:
    chapter: str
    message: str


def describe_failure(chapter: str, notebook: "NotebookNode", error: Exception) -> str:
    """Which cell failed, its first lines, and the error: what a reader of the build log needs."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    failed = None
    for index, cell in enumerate(notebook.cells, start=1):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.cell_type == "code" and errors and "raises-exception" not in cell.metadata.get("tags", []):
            failed = (index, cell, f"{errors[0].ename}: {first_lines(errors[0].evalue)}")
            break
    if failed is None:  # a timeout or a dead kernel leaves no error output: the last cell run
        ran = [
            (i, c) for i, c in enumerate(notebook.cells, start=1) if c.cell_type == "code" and c.get("execution_count")
        ]
        started = ran[-1] if ran else (1, notebook.cells[0])
        kind = (
            "timed out"
            if isinstance(error, CellTimeoutError)
            else "killed the kernel"
            if isinstance(error, DeadKernelError)
            else type(error).__name__
        )
        failed = (*started, f"{kind}: {strip_ansi(str(error)).strip().splitlines()[-1][:300]}")
    index, cell, reason = failed
    source = "\n".join(f"      {line}" for line in cell.source.splitlines()[:6])
    return (
        f"{chapter}: cell {index} (id {cell.get('id', '?')}) failed — {reason}\n{source}\n"
        "    (a cell may raise only when it is tagged raises-exception)"
    )


def first_lines(text: str, count: int = 12) -> str:
    """An error message short enough for a build log."""
    lines = strip_ansi(text).strip().splitlines()
    return "\n".join(lines[:count] + ([f"... ({len(lines) - count} more lines)"] if len(lines) > count else []))


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def execute_chapter(path: Path, data_dir: Path) -> "tuple[NotebookNode, str | None]":
    """Run one chapter in a fresh kernel; return ``(notebook, failure)``.

    ``failure`` is None, or a report naming the cell that failed; the notebook then holds the
    outputs up to that cell, the error included, and is rendered so.

    Any server the notebook leaves behind is reported and stopped: the build leaves nothing.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    run_id = f"book-{uuid.uuid4().hex}"
    # No timing metadata in the cells: jupyter-cache hashes cell metadata, and the executed
    # notebook must hash like its source to be found again.
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = {**os.environ, "WORKBOOK_DATA_DIR": str(data_dir), "WORKBOOK_NOTEBOOK_RUN": run_id}
    failure = None
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failure = describe_failure(path.name, notebook, error)
    except Exception as error:  # the kernel would not start, …: still one line for this chapter
        failure = f"{path.name}: could not be executed — {type(error).__name__}: {first_lines(str(error), 3)}"
    finally:
        left = leftover_processes(run_id)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
    if left:
        print(f"  warning: {path.name} left {len(left)} process(es) running; stopped them", flush=True)
    return notebook, failure


def leftover_processes(run_id: str) -> list[int]:
    """PIDs the notebook started that still run 10 s after its kernel stopped (Linux: /proc)."""
    from .processes import processes_with

    if not Path("/proc").is_dir():  # elsewhere the servers' guard stops them with the kernel
        return []
    deadline = time.monotonic() + 10
    while processes_with("WORKBOOK_NOTEBOOK_RUN", run_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with("WORKBOOK_NOTEBOOK_RUN", run_id)


def prepared_data_dir(parent: Path) -> Path:
    """A fresh data folder (database migrated, demo users in) for this build's notebooks."""
    data_dir = parent / "data"
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "setup"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "WORKBOOK_DATA_DIR": str(data_dir)},
        timeout=300,
    )
    if result.returncode != 0:
        raise BookError(f"preparing the database for the notebooks failed:\n{result.stderr[-2000:]}")
    return data_dir


def executed_chapters(paths: list[Path], log: Log = print) -> "tuple[dict[Path, NotebookNode], list[Failure]]":
    """``({path: executed notebook}, [Failure])``: from the cache where possible, else run."""
    import nbformat

    code_hash = project_hash()
    log(f"Project code {code_hash}: chapters run with it before are taken from the cache", flush=True)
    cache = execution_cache(code_hash)
    total = len(paths)
    done = {}
    to_run = []
    for number, path in enumerate(paths, start=1):
        merged = cached_outputs(cache, nbformat.read(path, as_version=4))
        if merged is None:
            to_run.append((number, path))
        else:
            done[path] = merged
            log(f"[{number}/{total}] {path.name}: cached", flush=True)
    if not to_run:
        return done, []
    failures = []
    timings = load_timings()
    # Longest first (as last measured, else the most code cells): two workers end together.
    to_run.sort(key=lambda item: -timings.get(item[1].name, code_cells(item[1])))
    with tempfile.TemporaryDirectory(prefix="workbook-book-") as temp:
        data_dir = prepared_data_dir(Path(temp))
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            started = {pool.submit(timed, execute_chapter, path, data_dir): (number, path) for number, path in to_run}
            for future in concurrent.futures.as_completed(started):
                number, path = started[future]
                (notebook, failure), seconds = future.result()
                timings[path.name] = round(seconds, 1)
                done[path] = notebook
                if failure:  # rendered as far as it ran, never cached
                    failures.append(Failure(path.name, failure))
                    log(f"[{number}/{total}] {path.name}: FAILED after {seconds:.1f} s", flush=True)
                    continue
                cache.cache_notebook_bundle(cache_bundle(notebook, path), check_validity=False, overwrite=True)
                log(f"[{number}/{total}] {path.name}: executed in {seconds:.1f} s", flush=True)
    save_timings(timings)
    return done, failures


def code_cells(path: Path) -> int:
    import nbformat

    return sum(cell.cell_type == "code" for cell in nbformat.read(path, as_version=4).cells)


def load_timings() -> dict:
    try:
        return json.loads((CACHE_DIR / "timings.json").read_text())
    except (OSError, ValueError):
        return {}


def save_timings(timings: dict) -> None:
    (CACHE_DIR / "timings.json").write_text(json.dumps(timings, indent=1, sort_keys=True))


def cache_bundle(notebook: "NotebookNode", path: Path) -> "CacheBundleIn":
    from jupyter_cache.base import CacheBundleIn

    return CacheBundleIn(notebook, path.resolve().as_posix())


def timed(function: Callable[..., T], *args: Any) -> tuple[T, float]:
    """``function(*args)`` and the seconds it took."""
    started = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - started


# --- the pages -----------------------------------------------------------------------------

LIVE_PAGE_NOTE = "*A live page from the notebook's server was embedded here; run the notebook to use it.*"


def book_notebook(notebook: "NotebookNode") -> "NotebookNode":
    """The executed notebook as the book shows it: links fixed, live iframes replaced by a note."""
    import nbformat

    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for old, new in LINK_TARGETS.items():
                cell.source = cell.source.replace(f"]({old})", f"]({new})")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "<iframe" in data.get("text/html", ""):  # its server stopped with the notebook
                output["data"] = {"text/markdown": LIVE_PAGE_NOTE}
    return notebook


def readme_introduction() -> str:
    """The README up to its first second-level heading."""
    text = (REPO_DIR / "README.md").read_text()
    return re.split(r"^## ", text, maxsplit=1, flags=re.M)[0].rstrip() + "\n"


def toctree(caption: str, entries: list[str]) -> str:
    lines = "\n".join(entries)
    return f"```{{toctree}}\n:caption: {caption}\n:hidden:\n\n{lines}\n```\n"


def front_page(chapter_names: list[str]) -> str:
    return "\n".join(
        [
            readme_introduction(),
            "This book shows every chapter as it ran, outputs included; to run the code yourself, "
            "open the notebooks with `python3.11 -m workbook lab`.\n",
            toctree("Chapters", chapter_names),
            toctree("Exercises", ["exercises/index"]),
            toctree("Appendix", ["instructors_guide"]),
        ]
    )


def fence(code: str, language: str) -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", code)), default=0))
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}\n"


def folded(summary: str, body_markdown: str) -> str:
    """A <details> block whose body is still MyST (code highlighted, searchable)."""
    return (
        '```{raw} html\n<details class="exercise-fold"><summary>'
        + escape_html(summary)
        + "</summary>\n```\n\n"
        + body_markdown
        + "\n```{raw} html\n</details>\n```\n"
    )


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown(text: str) -> str:
    """Prose from a docstring or the TOML: ``<username>`` must stay text, not become HTML."""
    return re.sub(r"([\\<*{}\[\]])", r"\\\1", text)


def exercise_task(source: str) -> str:
    """The module docstring of an exercise file: what to build."""
    import ast

    return ast.get_docstring(ast.parse(source)) or ""


def exercise_page(exercise: "Exercise") -> str:
    parts = [
        f"# {exercise.number}. {exercise.title}\n",
        f"Exercise `{exercise.id}`, on the **{exercise.stage}** stage. Documentation: <{exercise.docs}>\n",
    ]
    for name in exercise.files:
        source = (EXERCISES_DIR / name).read_text()
        task = exercise_task(source)
        if task:
            parts.append("## The task\n\n" + escape_markdown(task) + "\n")
        parts.append(f"## The file to edit: `exercises/{name}`\n\n" + fence(source, "python"))
    parts.append("## Hints\n")
    for level, text in enumerate(exercise.hints, start=1):
        parts.append(folded(f"Hint {level}", escape_markdown(text) + "\n"))
    parts.append("## Solution\n")
    for name in exercise.files:
        parts.append(folded(f"Show solution: solutions/{name}", fence((SOLUTIONS_DIR / name).read_text(), "python")))
    parts.append(f"Check your file: `python -m workbook check {exercise.id}`.\n")
    return "\n".join(parts)


def exercises_index(exercises: "list[Exercise]") -> str:
    rows = "\n".join(f"| {e.number} | [{e.title}]({e.id}.md) | `{e.id}` | {e.stage} |" for e in exercises)
    readme = (EXERCISES_DIR / "README.md").read_text()
    intro = re.split(r"^\| # ", readme, maxsplit=1, flags=re.M)[0].split("\n", 1)[1].strip()
    return "\n".join(
        [
            "# Exercises\n",
            intro + "\n",
            "| # | exercise | id | stage |\n|---|---|---|---|\n" + rows + "\n",
            "```{toctree}\n:hidden:\n\n" + "\n".join(e.id for e in exercises) + "\n```\n",
        ]
    )


def write_if_changed(path: Path, content: str | bytes) -> None:
    """Sphinx redoes a page whose file is newer: leave an unchanged page untouched."""
    data = content.encode() if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_sources(source_dir: Path, notebooks: dict) -> list[Path]:
    """Every page of the book into ``source_dir``; pages no longer in the book are removed."""
    import nbformat

    from .exercises import load_exercises

    exercises = load_exercises()
    pages = {
        "index.md": front_page([path.stem for path in notebooks]),
        "instructors_guide.md": (NOTEBOOKS_DIR / "README.md").read_text(),
        "exercises/index.md": exercises_index(exercises),
    }
    for exercise in exercises:
        pages[f"exercises/{exercise.id}.md"] = exercise_page(exercise)
    for path, notebook in notebooks.items():
        pages[path.name] = nbformat.writes(book_notebook(notebook))
    for name, content in pages.items():
        write_if_changed(source_dir / name, content)
    for stale in [p for p in source_dir.rglob("*") if p.is_file()]:
        if stale.relative_to(source_dir).as_posix() not in pages:
            stale.unlink()
    return [source_dir / name for name in pages]


# --- mermaid.js, local --------------------------------------------------------------------


def mermaid_dir() -> Path:
    """The folder with mermaid.min.js and its licence, shipped in the repository.

    mermaid.js is not on PyPI, and fetching it at build time would break "fully offline":
    the file from npm's ``mermaid@12.3.0`` (tarball integrity ``MERMAID_NPM_INTEGRITY``) is
    kept in ``book/vendor/``, and checked against its hash before every build.
    """
    folder = CONFIG_DIR / "vendor" / f"mermaid-{MERMAID_VERSION}"
    script = folder / "mermaid.min.js"
    if not script.is_file() or hashlib.sha256(script.read_bytes()).hexdigest() != MERMAID_SHA256:
        raise BookError(f"{script} is missing or changed: restore it with git checkout -- {script}")
    return folder


# --- the build ------------------------------------------------------------------------------


def run_sphinx(source_dir: Path, output: Path, doctrees: Path, static: list[Path], log: Log = print) -> list[str]:
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError

    status, warnings = io.StringIO(), io.StringIO()
    overrides = {"html_static_path": [str(CONFIG_DIR / "_static"), *map(str, static)]}
    try:
        app = Sphinx(
            str(source_dir),
            str(CONFIG_DIR),
            str(output),
            str(doctrees),
            "html",
            confoverrides=overrides,
            status=status,
            warning=warnings,
            freshenv=False,
        )
        app.build()
    except SphinxError as error:
        raise BookError(f"Sphinx stopped: {error}\n{warnings.getvalue()[-3000:]}") from None
    if app.statuscode:
        raise BookError(f"Sphinx failed:\n{warnings.getvalue()[-3000:]}")
    reported = [line for line in warnings.getvalue().splitlines() if line.strip()]
    for line in reported:
        log(f"  {line}", flush=True)
    return reported


def build(output: Path = DEFAULT_OUTPUT, log: Log = print) -> Path:
    """Build the book into ``output``; return the path of its ``index.html``."""
    output = Path(output).resolve()
    paths = chapters()
    if not paths:
        raise BookError(f"no chapter notebooks (NN_name.ipynb) in {NOTEBOOKS_DIR}")
    log(f"Executing {len(paths)} chapters", flush=True)
    notebooks, failures = executed_chapters(paths, log=log)
    notebooks = {path: notebooks[path] for path in paths}  # in chapter order
    source_dir = CACHE_DIR / "source"
    write_sources(source_dir, notebooks)
    static = [mermaid_dir()]
    log("Rendering the pages with Sphinx", flush=True)
    # Sphinx's own cache of parsed pages lives with the output it belongs to (as in _build/).
    run_sphinx(source_dir, output, output / ".doctrees", static, log=log)
    if failures:
        raise BookError(
            f"the book was built into {output}, but these chapters failed to execute "
            "(their pages end with the error):\n" + "\n".join(f"  {failure.message}" for failure in failures)
        )
    return output / "index.html"


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time per checkout: two would write the same pages and cache."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(CACHE_DIR / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("Another book build is running in this checkout; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(output: str | None = None) -> int:
    started = time.monotonic()
    try:
        with build_lock():
            index = build(Path(output) if output else DEFAULT_OUTPUT)
    except BookError as error:
        print(f"workbook book ({time.monotonic() - started:.1f} s): {error}", file=sys.stderr)
        return 1
    print(f"Book built in {time.monotonic() - started:.1f} s: {index}")
    return 0
