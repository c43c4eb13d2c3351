"""Helpers for notebook 07: show a mistake as a diff, run it, find its symptom in a log.

The broken variants live in ``tutorial_project/troubleshooting/``; the real project
is never changed. Each runs in a process of its own (``start_server`` with another
application, or ``start_runserver`` with other settings). The notebook starts its
servers in the background, a case ahead of the one that uses them
(``start_in_background``): a start is mostly a new Python importing Django, and the
cases mostly wait, so the processor has time for both.
"""

import ast
import difflib
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_all
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.display import Code

from .paths import PROJECT_DIR, data_dir
from .processes import GuardedProcess, new_tag, start_guarded
from .server import Server, server_environment, start_server

if TYPE_CHECKING:
    from .redis_server import RedisServer

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


#: Put first in the ``python -c`` of the processes started here. Python's last garbage
#: collection at exit walks every object Django and daphne created: ~0.3 s for each
#: process to end. Frozen objects are skipped, so it ends at once; nothing else changes.
#: (The workbook's own commands do the same: ``processes.end_quickly``; a kernel must not.)
FREEZE_AT_EXIT = "import atexit, gc; atexit.register(gc.freeze)"
#: ``python manage.py``, ending quickly.
MANAGE_PY = (
    f"{FREEZE_AT_EXIT}; import runpy, sys; sys.argv[0] = 'manage.py'; runpy.run_path('manage.py', run_name='__main__')"
)


def start_runserver(settings: str, timeout: float = 30.0) -> DevServer:
    """``python manage.py runserver --noreload 127.0.0.1:<free port>`` with ``settings``."""
    port = _free_port()
    env = {**server_environment("chat"), "DJANGO_SETTINGS_MODULE": settings}  # its log line by line too
    command = [sys.executable, "-c", MANAGE_PY, "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"]
    tag = new_tag("runserver")
    process, log_path = start_guarded(
        command, env=env, cwd=PROJECT_DIR, log_dir=data_dir() / "logs", log_prefix="runserver", tag=tag
    )
    server = DevServer(process, log_path, tag, port=port, settings=settings)
    deadline = time.monotonic() + timeout
    try:
        while "Quit the server with" not in server.log():  # printed just before it listens
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"runserver did not start. Its log:\n{server.log()[-2000:]}")
            time.sleep(0.01)  # reading a short log is cheap; every 10 ms here delays "ready"
        _wait_until_port_open(port, deadline)
    except BaseException:  # also KeyboardInterrupt: never leave a half-started server
        server.stop()
        raise
    return server


def _wait_until_port_open(port: int, deadline: float) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


# --- The servers of notebook 07, started (and stopped) at once -------------------------
_started: dict[str, Any] = {}  # what start_in_background started in this kernel, by name


class Starting:
    """Calls running in background threads; ``wait()`` returns their results.

    For work that mostly waits: a server starting (a new Python importing Django), a
    login (the server hashing a password). ``names``, if given, name the results:
    ``wait()`` then prints what runs where and remembers it for ``start_in_background``.
    """

    def __init__(self, calls: list[Callable[[], Any]], names: list[str] | None = None) -> None:
        self.names = names
        self._pool = ThreadPoolExecutor(max_workers=len(calls))
        self._futures = [self._pool.submit(call) for call in calls]

    def wait(self) -> list[Any]:
        """The results in order, once all are there. If a call failed, or the wait is
        interrupted, what the other calls started is stopped and the error is raised."""
        try:
            wait_for_all(self._futures)
        except BaseException:  # an interrupt: let the calls finish, then stop what they started
            self._pool.shutdown(wait=True)
            self._stop_results()
            raise
        self._pool.shutdown()
        errors = [error for future in self._futures if (error := future.exception()) is not None]
        if errors:
            self._stop_results()
            raise errors[0]
        results = [future.result() for future in self._futures]
        if self.names:
            _started.update(zip(self.names, results, strict=True))
            for name, result in zip(self.names, results, strict=True):
                print(f"{name + ':':<10} {result}")
        return results

    def _stop_results(self) -> None:
        stop_at_once(*(future.result() for future in self._futures if future.exception() is None), quiet=True)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in parallel threads and return their results, in order."""
    return Starting(list(calls)).wait()


def start_in_background(**starts: Callable[[], Any]) -> Starting:
    """``name=start`` pairs, all started now in background threads; ``.wait()`` returns them.

    Meanwhile the cell goes on (the notebook prepares its database). Running the cell
    again first stops what it started the time before, by name, so it never leaves a
    second set of servers behind.
    """
    stop_at_once(*(_started.pop(name) for name in starts if name in _started), quiet=True)
    return Starting(list(starts.values()), names=list(starts))


def stop_at_once(*processes: Any, quiet: bool = False) -> None:
    """Stop servers (or anything with a ``stop()``) in parallel threads: as long as the slowest."""
    stoppable = [process for process in processes if hasattr(process, "stop")]
    if not stoppable:
        return
    stopped = at_once(*(process.stop for process in stoppable))
    for name, process in list(_started.items()):
        if any(process is other for other in stoppable):
            del _started[name]
    if not quiet:
        for process, did_stop in zip(stoppable, stopped, strict=True):
            print(f"Stopped: {process}" if did_stop is not False else f"Already stopped: {process}")


def broken_server(env: dict[str, str] | None = None, **options: Any) -> Server:
    """The real chat routes plus the broken consumers, in a daphne of its own."""
    return start_server("chat", application=BROKEN_ASGI, env=env, **options)


@dataclass(eq=False)
class ServersOnRedis:
    """Chat servers in separate processes sharing one Redis channel layer (case 5's fix)."""

    redis: "RedisServer"
    servers: list[Server] = field(default_factory=list)

    def stop(self) -> bool:
        """Stop Redis and the servers at once (no client is connected any more)."""
        return any(at_once(self.redis.stop, *(server.stop for server in self.servers)))

    def __str__(self) -> str:
        ports = ", ".join(str(server.port) for server in self.servers)
        return f"{len(self.servers)} chat servers (ports {ports}) on the Redis at {self.redis.url}"


def start_on_redis(count: int = 2) -> ServersOnRedis:
    """A private Redis, then ``count`` chat servers on it, started at once."""
    from .redis_server import start_redis

    redis = start_redis()
    try:
        servers = at_once(*[lambda: start_server("chat", layer="redis", redis_url=redis.url)] * count)
    except BaseException:
        redis.stop()
        raise
    return ServersOnRedis(redis, servers)


def log_until(server: GuardedProcess, text: str, start: int = 0, timeout: float = 5.0) -> str:
    """What ``server`` logged after position ``start``, once ``text`` is in it.

    A server writes a request's log lines as it ends, a moment *after* the client got
    its answer: wait for the line that matters instead of sleeping for a fixed time.
    """
    deadline = time.monotonic() + timeout
    while text not in (new := server.log()[start:]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} did not appear in the log of {server} within {timeout} s:\n{new[-1000:]}")
        time.sleep(0.005)
    return new


def import_traceback(module: str) -> str:
    """Import ``module`` in a fresh Python, as daphne does first thing; the traceback, or ''."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", f"{FREEZE_AT_EXIT}; import {module}"],
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
