"""The server harness: free ports, clear start-up errors, and no orphan processes."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import REPO, wait_until

from workbook.client import Client
from workbook.processes import processes_tagged
from workbook.redis_server import ping, start_redis
from workbook.server import PortInUseError, ServerStartError, start_server


async def test_two_servers_side_by_side():
    with start_server("echo") as first, start_server("echo") as second:
        assert first.port != second.port
        for server in (first, second):
            async with await Client.connect(server) as client:
                assert await client.receive() == {"message": "WebSocket connected"}


def test_stop_is_idempotent_and_leaves_nothing():
    server = start_server("echo")
    tag = server.tag
    assert processes_tagged(tag)  # the guard and daphne
    assert server.stop() is True
    assert server.stop() is False
    assert not server.running
    assert wait_until(lambda: not processes_tagged(tag))


def test_a_broken_application_fails_with_its_log():
    with pytest.raises(ServerStartError) as failed:
        start_server("echo", application="no_such_module:application", timeout=20)
    assert "no_such_module" in str(failed.value)
    assert "exited during start-up" in str(failed.value)


def test_a_taken_port_is_reported_clearly():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            start_server("echo", port=port)


def test_unknown_stage_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="unknown stage 'chatt'"):
        start_server("chatt")


OWNER = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # like a kernel: survives an interrupt
    from workbook.server import start_server
    from workbook.redis_server import start_redis
    server = start_server("echo")
    redis = start_redis()
    print(server.tag, redis.tag, server.port, redis.port, flush=True)
    time.sleep(120)
""")


def start_owner():
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    server_tag, redis_tag, server_port, redis_port = owner.stdout.readline().split()
    return owner, [server_tag, redis_tag], int(server_port), int(redis_port)


def port_open(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_no_orphans_when_the_owner_is_killed():
    owner, tags, server_port, redis_port = start_owner()
    try:
        assert all(processes_tagged(tag) for tag in tags)
        assert port_open(server_port) and ping("127.0.0.1", redis_port)
        owner.kill()  # SIGKILL: no atexit, no clean-up code runs in the owner
        owner.wait()
        assert wait_until(lambda: not any(processes_tagged(tag) for tag in tags)), (
            f"orphans: {[processes_tagged(tag) for tag in tags]}"
        )
        assert not port_open(server_port)
    finally:
        owner.kill()


def test_servers_survive_an_interrupt_of_the_owners_process_group():
    owner, tags, server_port, _ = start_owner()
    try:
        os.killpg(owner.pid, signal.SIGINT)  # what Jupyter's "interrupt kernel" does
        time.sleep(0.5)
        assert port_open(server_port)
        assert all(processes_tagged(tag) for tag in tags)
        owner.terminate()  # a normal end: atexit stops the servers
        owner.wait(10)
        assert wait_until(lambda: not any(processes_tagged(tag) for tag in tags))
    finally:
        owner.kill()


def test_private_redis_answers_and_stops():
    with start_redis() as redis:
        assert ping(redis.host, redis.port)
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
    assert not ping(redis.host, redis.port)


def test_the_access_log_reaches_the_log_file_line_by_line(monkeypatch):
    """A learner's machine has no PYTHONUNBUFFERED (this one may): the server sets it itself,
    or daphne's access log would reach the file in 8 KiB blocks, long after the request."""
    import httpx

    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    with start_server("echo") as server:
        assert httpx.get(server.url("/test-ws/"), timeout=5).status_code == 200
        assert wait_until(lambda: '"GET /test-ws/' in server.log(), timeout=5), server.log_tail()


def test_the_guard_kills_a_child_that_ignores_sigterm():
    """A stop is passed on at once; a child that does not stop within the guard's grace
    (a consumer stuck in a thread, say) is killed, so no stop leaves a server behind."""
    from workbook.guard import STOP_GRACE_SECONDS

    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    guard = subprocess.Popen(
        [sys.executable, "-m", "workbook.guard", "--owner", str(os.getpid()), "--", sys.executable, "-c", stubborn],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert guard.stdout.readline() == "up\n"
        (child,) = _children(guard.pid)
        started = time.monotonic()
        guard.terminate()
        # The guard exits with its child's status: killed, -9, which an exit code shows as 247.
        assert guard.wait(STOP_GRACE_SECONDS + 5) == -signal.SIGKILL % 256
        assert STOP_GRACE_SECONDS - 0.5 < time.monotonic() - started < STOP_GRACE_SECONDS + 5
        assert not os.path.exists(f"/proc/{child}")  # killed, and reaped by the guard
    finally:
        guard.kill()
        guard.wait()


def _children(pid: int) -> list[int]:
    return [int(child) for child in open(f"/proc/{pid}/task/{pid}/children").read().split()]
