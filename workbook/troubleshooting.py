"""Helpers for notebook 07: show a mistake as a diff, run it, find its symptom in a log.

The broken variants live in ``tutorial_project/troubleshooting/``; the real project
is never changed. Each runs in a process of its own (``start_server`` with another
application, or ``start_runserver`` with other settings).
"""

import ast
import difflib
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from IPython.display import Code

from .paths import PROJECT_DIR, data_dir
from .processes import GuardedProcess, new_tag, start_guarded
from .server import Server, server_environment

BROKEN_ASGI = "troubleshooting.asgi:application"  # the real chat routes plus broken consumers


# --- Showing a mistake --------------------------------------------------------------
def _definition(path: str, qualified_name: str) -> str:
    """The source of ``Class.method`` (or a top-level name) in a ``tutorial_project`` file."""
    source = (PROJECT_DIR / path).read_text()
    nodes = ast.parse(source).body
    node: ast.stmt | None = None
    for part in qualified_name.split("."):
        node = next((n for n in nodes if getattr(n, "name", None) == part), None)
        if node is None:
            raise LookupError(f"{path} has no {qualified_name}")
        nodes = getattr(node, "body", [])
    segment = ast.get_source_segment(source, node, padded=True) if node is not None else None
    if segment is None:  # an empty name, or a node without positions: neither happens for real code
        raise LookupError(f"{path} has no {qualified_name}")
    indent = len(segment) - len(segment.lstrip(" "))
    return "\n".join(line[indent:] for line in segment.splitlines()) + "\n"


def diff_text(real: str, broken: str, real_name: str = "real", broken_name: str = "broken") -> str:
    lines = difflib.unified_diff(
        real.splitlines(keepends=True), broken.splitlines(keepends=True), fromfile=real_name, tofile=broken_name
    )
    return "".join(lines)


def show_text_diff(real: str, broken: str, real_name: str = "right", broken_name: str = "the mistake") -> Code:
    return Code(
        diff_text(real.rstrip("\n") + "\n", broken.rstrip("\n") + "\n", real_name, broken_name), language="diff"
    )


def show_diff(real_path: str, broken_path: str, real_name: str | None = None, broken_name: str | None = None) -> Code:
    """The mistake as a unified diff: a real file (or ``path:Class.method``) against its
    broken variant in ``tutorial_project/troubleshooting/``."""
    return Code(
        diff_text(_source_of(real_path), _source_of(broken_path), real_name or real_path, broken_name or broken_path),
        language="diff",
    )


def _source_of(spec: str) -> str:
    """A ``tutorial_project`` file (``path``), or one definition in it (``path:Class.method``)."""
    path, _, name = spec.partition(":")
    return _definition(path, name) if name else (PROJECT_DIR / path).read_text()


def log_lines(text: str, *needles: str) -> str:
    """The lines of a log that contain any of ``needles`` (what a learner should look for)."""
    return "\n".join(line for line in text.splitlines() if any(n in line for n in needles))


def installed_apps_diff() -> Code:
    """Case 2's mistake: INSTALLED_APPS of the real settings vs ``settings_no_daphne``."""
    import importlib

    for module in ("websocket_project.settings", "troubleshooting.settings_no_daphne"):
        importlib.import_module(module)
    real = sys.modules["websocket_project.settings"].INSTALLED_APPS
    broken = sys.modules["troubleshooting.settings_no_daphne"].INSTALLED_APPS

    def as_text(apps: list[str]) -> str:
        return "INSTALLED_APPS = [\n" + "".join(f"    {app!r},\n" for app in apps) + "]\n"

    return Code(
        diff_text(
            as_text(real), as_text(broken), "websocket_project/settings.py", "troubleshooting/settings_no_daphne.py"
        ),
        language="diff",
    )


# --- Django's runserver, with other settings ------------------------------------------
@dataclass(eq=False)
class DevServer(GuardedProcess):
    """``manage.py runserver`` in its own process (stopped like every workbook server)."""

    port: int = 0
    settings: str = ""

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __str__(self) -> str:
        return f"runserver with {self.settings} on {self.http_url}"


def _free_port() -> int:
    """runserver cannot report a port 0 it was given, so pick a free one first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_runserver(settings: str, timeout: float = 30.0) -> DevServer:
    """``python manage.py runserver --noreload 127.0.0.1:<free port>`` with ``settings``."""
    port = _free_port()
    env = {**server_environment("chat"), "DJANGO_SETTINGS_MODULE": settings, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"]
    tag = new_tag("runserver")
    process, log_path = start_guarded(
        command, env=env, cwd=PROJECT_DIR, log_dir=data_dir() / "logs", log_prefix="runserver", tag=tag
    )
    server = DevServer(process, log_path, tag, port=port, settings=settings)
    deadline = time.monotonic() + timeout
    while "Quit the server with" not in server.log():
        if process.poll() is not None or time.monotonic() > deadline:
            log = server.log()
            server.stop()
            raise RuntimeError(f"runserver did not start. Its log:\n{log[-2000:]}")
        time.sleep(0.05)
    _wait_until_port_open(port, deadline)
    return server


def _wait_until_port_open(port: int, deadline: float) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# --- The servers of notebook 07 -------------------------------------------------------
def serve_broken(**options: Any) -> Server:
    """The real chat routes plus the broken consumers, in a daphne of its own.

    Running the cell again replaces the server this kernel started before.
    """
    from .notebook import _replace_server
    from .server import start_server

    server = _replace_server("troubleshooting", lambda: start_server("chat", application=BROKEN_ASGI, **options))
    print(f"Started: the troubleshooting server on {server.http_url}")
    return server


def import_traceback(module: str) -> str:
    """Import ``module`` in a fresh Python, as daphne does first thing; the traceback, or ''."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env=server_environment("chat"),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if done.returncode == 0 else done.stderr


def import_check(module: str) -> str:
    """``import <module>: ok``, or the last line of its traceback."""
    traceback = import_traceback(module)
    return f"import {module}: " + ((traceback.strip().splitlines() or ["failed"])[-1] if traceback else "ok")
