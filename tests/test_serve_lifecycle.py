"""``python -m workbook serve`` runs daphne without a guard process (it is in charge itself):
daphne must still never outlive it, however it ends, and a start-up warm-up must not change
what the server answers."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from workbook.processes import processes_tagged

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG (elsewhere serve keeps the guard)"
)


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def start_serve(stage="echo"):
    """serve in a session of its own, like a terminal's foreground job; returns it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "--stage", stage, "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    for line in process.stdout:
        match = re.search(r"websocket: ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            return process, int(match.group(1))
        assert time.monotonic() < deadline, "serve printed no URL in time"
    raise AssertionError(f"serve printed no URL; stderr: {process.stderr.read()}")


def port_open(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def daphne_of(serve_process):
    """serve's daphne: its direct child (no guard in between), found by the workbook's tag."""
    pids = processes_tagged(f"daphne-echo-{serve_process.pid}-")
    return [pid for pid in pids if pid != serve_process.pid]


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_serve_runs_daphne_directly_and_sigkill_leaves_no_orphan():
    serve, port = start_serve()
    try:
        (daphne,) = daphne_of(serve)
        assert parent_of(daphne) == serve.pid  # no guard interpreter in between
        assert port_open(port)
        serve.kill()  # SIGKILL: serve runs no clean-up code at all
        serve.wait(10)
        assert wait_until(lambda: not daphne_of(serve)), "daphne outlived a SIGKILLed serve"
        assert wait_until(lambda: not port_open(port))
    finally:
        serve.kill()


def test_ctrl_c_stops_serve_and_its_daphne_cleanly():
    serve, port = start_serve()
    try:
        os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        assert serve.wait(20) == 0
        assert "Server stopped." in serve.stdout.read()
        assert wait_until(lambda: not daphne_of(serve))
        assert not port_open(port)
    finally:
        serve.kill()
