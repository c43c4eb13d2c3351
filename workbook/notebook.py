"""Helpers for the notebooks: show the real source, one server per stage, readable tables.

Everything here is ordinary Python a learner can read; the notebooks call it so
their cells stay about WebSockets rather than plumbing.
"""

import ast
import html
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.display import HTML, Code, IFrame, display

from .paths import PROJECT_DIR
from .server import Server, start_server

if TYPE_CHECKING:
    from .checker.outcome import Outcome

_servers: dict[str, Server] = {}  # the server this kernel runs for each stage
_Result = TypeVar("_Result")


# --- Showing code -------------------------------------------------------------------
def show_source(path: str, *names: str, match: str | None = None) -> Code:
    """A file of ``tutorial_project/``, or the definitions ``names`` in it, read from disk.

    A name is a class, function or assignment (``"CHANNEL_LAYERS"``) or one method of a
    class (``"ChatConsumer.connect"``). A name assigned in several places (settings.py
    sets ``CHANNEL_LAYERS`` once per layer) needs ``match``: the one containing that text
    (names defined once ignore it).
    Read at display time, so the notebook never shows a copy that could drift.
    """
    source = (PROJECT_DIR / path).read_text()
    if names:
        parts, current_class = [], None
        for name in names:
            owner, _, method = name.rpartition(".")
            code = definition_source(source, name, path, match)
            if owner and owner != current_class:  # methods appear under their class's first line
                parts.append(_class_line(source, owner) + "\n    ...")
            parts.append(textwrap.indent(code, "    ") if owner else code)
            current_class = owner or None
        source = "\n\n".join(parts)
    return Code(source, language="python")


def _class_line(source: str, name: str) -> str:
    node = next(_definitions(ast.parse(source).body, name.split(".")))
    return _segment(source, node).splitlines()[0]


def _segment(source: str, node: ast.stmt, padded: bool = False) -> str:
    """The source of ``node``; parsed from ``source``, it always has its positions."""
    segment = ast.get_source_segment(source, node, padded=padded)
    if segment is None:
        raise LookupError(f"no source positions for a {type(node).__name__}")
    return segment


def definition_source(source: str, name: str, path: str = "the file", match: str | None = None) -> str:
    """The source of one definition (see ``show_source``), dedented."""
    found = list(_definitions(ast.parse(source).body, name.split(".")))
    if len(found) > 1 and match is not None:  # ``match`` only chooses among several
        found = [node for node in found if match in _segment(source, node)]
    if not found:
        raise LookupError(f"{path} has no definition called {name!r}" + (f" containing {match!r}" if match else ""))
    if len(found) > 1:
        raise LookupError(f"{path} defines {name!r} {len(found)} times: pass match='<text in the one to show>'")
    return textwrap.dedent(_segment(source, found[0], padded=True))


def defined_names(source: str) -> set[str]:
    """Every name ``show_source`` could show in ``source`` (methods as ``Class.method``)."""
    names = set()
    for node in _statements(ast.parse(source).body):
        names.update(_names_of(node))
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}.{name}" for child in node.body for name in _names_of(child))
    return names


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a module or class body, looking inside ``if``/``try`` blocks."""
    for node in body:
        if isinstance(node, (ast.If, ast.Try)):
            yield from _statements(node.body + node.orelse + getattr(node, "finalbody", []))
        else:
            yield node


def _names_of(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _definitions(body: list[ast.stmt], parts: list[str]) -> Iterator[ast.stmt]:
    for node in _statements(body):
        if parts[0] in _names_of(node):
            if len(parts) == 1:
                yield node
            elif isinstance(node, ast.ClassDef):
                yield from _definitions(node.body, parts[1:])


# --- One server per stage -----------------------------------------------------------
def serve(stage: str, key: str | None = None, **options: Any) -> Server:
    """Start ``stage``'s server for this notebook; a server started earlier is replaced.

    Running the cell twice therefore never leaves two servers behind. ``key`` names a
    server when a notebook runs several of one stage (default: the stage).
    """
    server = _replace_server(key or stage, lambda: start_server(stage, **options))
    print(f"Started: {server}")
    print(f"  websocket URL: {server.ws_url}")
    return server


def _replace_server(key: str, start: Callable[[], Server]) -> Server:
    """Stop the server this kernel started under ``key`` (if any), then ``start()`` a new one."""
    previous = _servers.pop(key, None)
    if previous is not None and previous.stop():
        print(f"Stopped the {previous.stage} server started earlier (port {previous.port}).")
    _servers[key] = server = start()
    return server


def stop(server: Server) -> None:
    """Stop a server, saying what happened (stopping twice is fine)."""
    if server.stop():
        print(f"Stopped the {server.stage} server on port {server.port}.")
    else:
        print(f"The {server.stage} server on port {server.port} was already stopped.")
    for key, running in list(_servers.items()):
        if running is server:
            del _servers[key]


def stop_all() -> None:
    """Stop every server this kernel started with ``serve`` (and the notebook demos)."""
    for server in _servers.values():  # all at once: each takes a moment to shut down
        server.request_stop()
    for server in list(_servers.values()):
        stop(server)


def still_running() -> None:
    """The last cell of a notebook: what keeps running, and how to stop it.

    Servers are left running on purpose, so that a test page above still works after
    "Run All". The kernel stops them when it shuts down or restarts.
    """
    running = [server for server in _servers.values() if server.running]
    if not running:
        print("No server of this notebook is running.")
        return
    print("Still running, so that a test page above keeps working after Run All:")
    for server in running:
        print(f"  {server}")
    print("To stop them: stop_all() (from workbook.notebook), or restart or shut down the kernel.")


def jupyter_proxy_prefix() -> str | None:
    """Jupyter's base URL when the browser cannot reach the server's port directly.

    Under JupyterHub or Binder (``JUPYTERHUB_SERVICE_PREFIX`` is set) the browser
    runs elsewhere, and jupyter-server-proxy forwards ``<prefix>proxy/<port>/`` to
    the server. ``WORKBOOK_JUPYTER_PROXY`` overrides: ``0`` (never), ``1`` (always,
    prefix ``/``) or a prefix such as ``/user/alice/``.
    """
    override = os.environ.get("WORKBOOK_JUPYTER_PROXY", "")
    if override == "0":
        return None
    if override not in ("", "1"):
        return override if override.endswith("/") else override + "/"
    hub_prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if override == "1" or hub_prefix:
        return hub_prefix or "/"
    return None


def page_url(server: Server, path: str = "/test-ws/") -> str:
    """Where a browser finds ``path`` of ``server``: directly, or through Jupyter's proxy."""
    prefix = jupyter_proxy_prefix()
    if prefix is None:
        return server.url(path)
    return f"{prefix}proxy/{server.port}/{path.lstrip('/')}"


TEST_PAGE_HEIGHT = 520  #: px; the page lays itself out to show the conversation at this height


def test_page(server: Server, height: int = TEST_PAGE_HEIGHT) -> IFrame:
    """The server's own test page, embedded. It is served by the server (so its Origin is
    allowed), through Jupyter's proxy when JupyterLab runs remotely."""
    return IFrame(page_url(server), width="100%", height=height)


# --- Tables -------------------------------------------------------------------------
def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> HTML:
    head = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def close_codes() -> HTML:
    """The close codes of ``protocol.py`` as a table (the one place they are defined)."""
    from .django_env import setup_django

    setup_django()
    from websocket_app.protocol import CLOSE_CODES, HANDSHAKE_REFUSALS

    rows = [(code, error, meaning) for code, (error, meaning) in CLOSE_CODES.items()]
    rows += [("—", situation, seen) for situation, seen in HANDSHAKE_REFUSALS.items()]
    return table(rows, ["close code", "error frame / situation", "meaning / what the client sees"])


# --- The environment check of notebook 00 -------------------------------------------
PINNED = [
    "Django",
    "channels",
    "daphne",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "websockets",
    "httpx",
    "jupyterlab",
    "ipykernel",
    "nest-asyncio",
    "channels-redis",
]


def _in_a_thread(function: Callable[[], _Result]) -> _Result:
    """Run synchronous Django code from a kernel (whose event loop forbids it in-thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def prepare() -> None:
    """Migrate the database and create the demo users if that is not done yet, and say so.

    Every notebook's first cell calls this, so a notebook works wherever it is opened
    (JupyterHub, Binder, VS Code) without anyone running ``python -m workbook setup``.
    """
    from .django_env import prepare_database

    print(_in_a_thread(prepare_database))


def _database_state() -> list[tuple[str, str, str]]:
    from django.contrib.auth import get_user_model

    from websocket_app.management.commands.create_demo_users import DEMO_USERS

    from .django_env import prepare_database

    try:
        done = prepare_database()  # fixes what it can: pending migrations, missing users
    except Exception as error:  # noqa: BLE001 — report it with its fix, never crash the check
        return [
            (
                "database",
                f"{type(error).__name__}: {error}",
                "run: python -m workbook setup (in a terminal) and read its message",
            )
        ]
    present = set(get_user_model().objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    missing = sorted(set(DEMO_USERS) - present)
    return [
        ("database", done.removeprefix("Ready: "), ""),
        (
            "demo users",
            ", ".join(sorted(present)) or "none",
            "" if not missing else f"missing {', '.join(missing)}: run python -m workbook setup",
        ),
    ]


def environment_report() -> None:
    """Versions and database state, with a fix next to anything that is not right.

    What it can fix (pending migrations, missing demo users) it fixes, and says so.
    """
    rows = [("Python", sys.version.split()[0], "" if sys.version_info >= (3, 11) else "use Python 3.11 or newer")]
    for package in PINNED:
        try:
            rows.append((package, metadata.version(package), ""))
        except metadata.PackageNotFoundError:
            rows.append((package, "missing", "run: python3.11 -m workbook lab (it installs it)"))
    try:
        from .django_env import setup_django

        setup_django()
        rows += _in_a_thread(_database_state)
    except Exception as error:  # noqa: BLE001 — e.g. Django missing: the rows above say why
        rows.append(
            ("Django project", f"{type(error).__name__}: {error}", "fix the rows above, then restart the kernel")
        )
    problems = [row for row in rows if row[2]]
    display(table(rows, ["what", "found", "fix"]))
    print("Everything is ready." if not problems else f"{len(problems)} problem(s): see 'fix'.")


# --- Exercises: check(), hint(), solution() in the style of Kaggle's learntools ---------
def check(exercise_id: str) -> "Outcome":
    """Check an exercise in a fresh process (so your latest edits count) and show the outcome.

    The result is an ``Outcome``: it shows itself in colour here, and prints as text.
    """
    import json
    import subprocess

    from .checker.outcome import ERROR, Outcome
    from .paths import REPO_DIR

    shipped = _as_shipped(exercise_id)
    if shipped is not None:  # nothing of yours to run yet: no need for a fresh process
        return shipped
    try:
        result = subprocess.run(
            [sys.executable, "-m", "workbook", "check", exercise_id, "--json"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        return Outcome(
            exercise_id, ERROR, "the check did not finish in 90 s", "look for a loop without await in your code"
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        problem = (result.stderr.strip().splitlines() or ["the checker printed nothing"])[-1]
        return Outcome(exercise_id, ERROR, problem, "run python -m workbook check in a terminal to see more")
    try:
        return Outcome.from_json(lines[-1])
    except (TypeError, ValueError, json.JSONDecodeError) as error:
        return Outcome(exercise_id, ERROR, f"the checker's answer could not be read: {error}", "")


def _as_shipped(exercise_id: str) -> "Outcome | None":
    """NOT ATTEMPTED (recorded like any check) while the exercise's files are as shipped."""
    from .checker import keep_outcome, shipped_outcome
    from .exercises import UnknownExercise, files_hash, find_exercise

    try:
        exercise = find_exercise(exercise_id)
    except UnknownExercise:
        return None  # the checker's own process says so, in its words
    checked_hash = files_hash(exercise)
    outcome = shipped_outcome(exercise)
    if outcome is not None:
        keep_outcome(exercise, outcome, checked_hash)
    return outcome


def progress() -> HTML:
    """Where you stand: a bar, n of N passed, each exercise's status and the next one to do."""
    from .progress import bar, next_row, next_step, progress_rows

    rows = progress_rows()
    upcoming = next_row(rows)
    done = sum(row.passed for row in rows)
    cells = [
        ("→" if row is upcoming else "", row.exercise.number, row.exercise.id, row.status, row.exercise.title)
        for row in rows
    ]
    heading = (
        f"<p><progress value='{done}' max='{len(rows)}'></progress> "
        f"<b>{html.escape(bar(done, len(rows)).split('] ')[1])}</b></p>"
    )
    steps = html.escape(next_step(upcoming)).replace("\n", "<br>")
    return HTML(heading + table(cells, ["", "#", "exercise", "status", "title"]).data + f"<p>{steps}</p>")


def hint(exercise_id: str, level: int = 1) -> None:
    from .exercises import HintLevelError, find_exercise
    from .exercises import hint as hint_text

    try:
        print(hint_text(find_exercise(exercise_id), level))
    except HintLevelError as error:
        print(error)


def solution(exercise_id: str) -> Code:
    from .exercises import find_exercise, solution_text

    return Code(solution_text(find_exercise(exercise_id)), language="python")


def serve_exercise(exercise_id: str, solutions: bool = False) -> Server:
    """Run your consumer for an exercise in a real daphne, to talk to it yourself."""
    from .exercises import find_exercise
    from .paths import EXERCISES_DIR, SOLUTIONS_DIR

    exercise = find_exercise(exercise_id)
    if exercise.id == "jwt_middleware":
        raise ValueError("jwt_middleware is a middleware, not a consumer: use check('jwt_middleware')")
    if exercise.kind == "tests":
        raise ValueError(f"{exercise.id} is tests, not a consumer: use check({exercise.id!r})")
    learner_file = exercise.main_file(SOLUTIONS_DIR if solutions else EXERCISES_DIR)
    server = _replace_server(
        f"exercise:{exercise.id}",
        lambda: start_server(
            exercise.stage,
            application="workbook.exercise_asgi:application",
            env={"WORKBOOK_EXERCISE_FILE": str(learner_file), "WORKBOOK_EXERCISE_CONSUMER": exercise.entry_point},
            wait_for_handshake=False,
        ),
    )
    print(f"Started your {exercise.entry_point} from {learner_file.name} at {server.ws_url}")
    print(f"  if your code raises, its traceback is in the server log: {server.log_path}")
    return server


# --- The workshop board (notebook 08) ----------------------------------------------------
def join(url: str, code: str, name: str) -> None:
    """Join the instructor's workshop board: from now on every check() is reported to it.

    The same as ``python -m workbook join URL --code CODE --name NAME``. Returns nothing, so
    the cell never shows the attendee token that is kept under ``.workbook/``.
    """
    from .board.client import join as join_board

    join_board(url, code, name)


def leave() -> None:
    """Stop reporting to the workshop board (``python -m workbook leave``)."""
    from .board.client import leave as leave_board

    leave_board()
