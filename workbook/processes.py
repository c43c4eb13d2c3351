"""Starting guarded child processes (daphne, redis) and finding them again."""

import atexit
import contextlib
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Self

#: Every process the workbook starts carries this variable; its value names the run.
TAG_VARIABLE = "WORKBOOK_PROCESS_TAG"


def new_tag(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def start_guarded(
    command: list[str], *, env: dict, cwd: Path, log_dir: Path, log_prefix: str, tag: str, guard: bool = True
) -> tuple[subprocess.Popen, Path]:
    """Start ``command`` under ``workbook.guard`` with its output in a log file.

    Returns ``(process, log_path)``. The guard runs in a session of its own so a
    notebook interrupt (SIGINT to the kernel's process group) does not reach it.

    ``guard=False`` is for an owner that stays in charge until it stops the child
    itself (``python -m workbook serve``): on Linux the command then runs directly,
    in a session of its own, and the kernel SIGTERMs it if the owner dies
    (``PR_SET_PDEATHSIG``), which saves starting a second interpreter. Where that is
    not available the guard is used anyway.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    fd, log_name = tempfile.mkstemp(prefix=f"{log_prefix}-", suffix=".log", dir=log_dir)
    env = {**env, TAG_VARIABLE: tag}
    preexec = None
    if not guard:
        from .guard import tied_to_this_process

        preexec = tied_to_this_process()
    if preexec is None:
        command = [sys.executable, "-m", "workbook.guard", "--owner", str(os.getpid()), "--", *command]
    with os.fdopen(fd, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
        )
    return process, Path(log_name)


def stop_guarded(process: subprocess.Popen, timeout: float = 10.0, signalled: bool = False) -> None:
    """SIGTERM the guard (which stops its child) or the unguarded child, then make sure the
    whole group is gone. ``signalled``: the SIGTERM was sent already (``request_stop``)."""
    if process.poll() is None:
        if not signalled:
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):  # anything left in its session
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout)


def processes_with(variable: str, value_prefix: str) -> list[int]:
    """PIDs of live processes whose environment has ``variable`` starting with ``value_prefix``.

    Linux only (it reads /proc); used by tests to prove nothing was left running.
    """
    needle = f"{variable}={value_prefix}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "State:\tZ" in status:  # a zombie is already dead
            continue
        if any(item.startswith(needle) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def processes_tagged(tag_prefix: str) -> list[int]:
    """PIDs of live processes the workbook started whose tag starts with ``tag_prefix``."""
    return processes_with(TAG_VARIABLE, tag_prefix)


_running: set = set()  # guarded processes this Python process started and has not stopped


@dataclass(eq=False)  # eq=False: compare and hash by identity
class GuardedProcess:
    """A server started with ``start_guarded``; stopped at exit if nobody stops it first."""

    process: subprocess.Popen = field(repr=False)
    log_path: Path
    tag: str = field(default="", repr=False)  # the WORKBOOK_PROCESS_TAG of its processes
    _stop_requested: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        _running.add(self)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the server has printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def request_stop(self) -> None:
        """Ask the server to stop (SIGTERM) and return at once; ``stop()`` waits for it."""
        if self in _running and self.process.poll() is None and not self._stop_requested:
            self._stop_requested = True
            self.process.terminate()

    def stop(self) -> bool:
        """Stop the server. Returns False (and does nothing) if it was already stopped."""
        if self not in _running:
            return False
        _running.discard(self)
        stop_guarded(self.process, signalled=self._stop_requested)
        return True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def end_quickly() -> None:
    """Skip the garbage collection Python runs as it exits.

    That last collection walks every object still alive — after importing Django,
    daphne and IPython, about a million — only to free memory the operating system
    takes back anyway: 0.2 s at the end of every command. ``gc.freeze()`` at exit moves
    them out of its reach. Not for a notebook kernel: objects that are never collected
    include its ZeroMQ sockets, and the kernel then sometimes hangs at exit until
    Jupyter sends SIGTERM 2.5 s later (measured: 2 exits in 17).
    """
    atexit.register(gc.freeze)


@atexit.register
def stop_all() -> None:
    """Stop every server this process started (runs at interpreter and kernel shutdown)."""
    stopping = list(_running)
    for server in stopping:  # all at once: each takes a moment to shut down
        server.request_stop()
    for server in stopping:
        server.stop()


class StopRequest:
    """Notes Ctrl-C (SIGINT) or SIGTERM (a service manager, ``kill``), so that a long-running
    command stops its server and exits cleanly whenever the signal comes: a KeyboardInterrupt
    raised between two print() calls would skip the clean stop."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def run_until_stopped(
    process: GuardedProcess, command: str, what: str, stop: StopRequest, on_tick: Callable[[], None] | None = None
) -> int:
    """Keep ``process`` running until Ctrl-C or SIGTERM, then stop it (exit code 0); if it ends by
    itself, say so with the end of its log (exit code 1). ``on_tick`` runs every 0.2 s."""
    while process.running and not stop.requested:
        if on_tick is not None:
            on_tick()
        time.sleep(0.2)
    crashed = not process.running
    process.stop()
    if crashed:
        print(f"workbook {command}: the {what.lower()} stopped unexpectedly:\n{process.log_tail()}", file=sys.stderr)
        return 1
    print(f"{what} stopped.")
    return 0
