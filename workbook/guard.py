"""Run a server as a child and make sure it never outlives its owner.

``python -m workbook.guard --owner PID -- command ...``

The owner (a notebook kernel, a test run, a shell) may end in any way: a normal
exit, Ctrl-C, a kernel restart or a SIGKILL that runs no clean-up code at all.
A server started with plain ``Popen`` survives the last; one in the owner's
process group dies on a notebook *interrupt*, which is worse. So the harness
starts this small guard in a session of its own, and the guard:

- watches the owner's PID and stops the server as soon as the owner is gone;
- forwards SIGTERM/SIGINT to the server and waits for it;
- on Linux, asks the kernel to SIGTERM the server if the guard itself dies
  (``PR_SET_PDEATHSIG``), so not even a SIGKILL of the guard leaves an orphan.
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 5.0


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM me when my parent (the guard) dies. Linux only."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return  # not Linux: the guard's own watch still covers the owner's death
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def tied_to_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties a child to this process's life, or None where it cannot.

    For an owner that stays in charge itself (``python -m workbook serve``): the
    kernel SIGTERMs the child when this process dies, even by SIGKILL, so no guard
    process is needed. Linux only (``PR_SET_PDEATHSIG``); elsewhere None, and the
    caller falls back to the guard.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded here, not in the child
    except OSError:
        return None
    owner = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != owner:  # the owner died between fork and prctl: nobody would tell us
            os._exit(1)

    return preexec


def _owner_alive(owner_pid: int) -> bool:
    # When the owner dies, this process is re-parented (to init or a subreaper).
    return os.getppid() == owner_pid


def _stop(child: subprocess.Popen) -> int:
    if child.poll() is None:
        child.terminate()
        try:
            return child.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
    return child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbook.guard")
    parser.add_argument("--owner", type=int, required=True, help="PID whose death stops the server")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if not _owner_alive(args.owner):
        return 1  # the owner died before we even started

    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    child = subprocess.Popen(command, preexec_fn=preexec)

    stop_requested_at: list[float] = []

    def on_signal(signum: int, frame: object) -> None:
        # Pass the stop on at once, not at the next poll: a notebook stopping six servers
        # would otherwise wait up to POLL_SECONDS for each.
        if not stop_requested_at:
            stop_requested_at.append(time.monotonic())
            child.terminate()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while True:
        try:
            return child.wait(POLL_SECONDS)  # returns as soon as the child has exited
        except subprocess.TimeoutExpired:
            pass
        if stop_requested_at and time.monotonic() - stop_requested_at[0] > STOP_GRACE_SECONDS:
            child.kill()  # asked to stop and did not: no server outlives a stop
            return child.wait()
        if not _owner_alive(args.owner):
            return _stop(child)


if __name__ == "__main__":
    sys.exit(main())
