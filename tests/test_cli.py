"""``python -m workbook serve``: the shell contract other tooling relies on."""

import asyncio
import re
import signal
import socket
import subprocess
import sys

from workbook.client import Client, get_tokens


def serve(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_ws_url(process, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    for line in process.stdout:
        match = re.search(r"websocket: (ws://\S+)", line)
        if match:
            return match.group(1)
        assert time.monotonic() < deadline
    raise AssertionError(f"no URL printed; stderr: {process.stderr.read()}")


def test_serve_chat_alice_says_hi_to_bob(demo_passwords):
    process = serve("--stage", "chat", "--port", "0")
    try:
        ws_url = read_ws_url(process)
        http_url = ws_url.replace("ws://", "http://").removesuffix("/ws/chat/")

        async def conversation():
            alice = await Client.connect(
                http_url, "alice", token=get_tokens(http_url, "alice", demo_passwords["alice"]).access
            )
            bob = await Client.connect(http_url, "bob", token=get_tokens(http_url, "bob", demo_passwords["bob"]).access)
            await alice.receive_all()
            await bob.receive_all()
            await alice.send("hi")
            received = await bob.receive()
            await alice.close()
            await bob.close()
            return received

        assert asyncio.run(conversation()) == {"message": "alice: hi"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        process.kill()


def test_serve_on_a_taken_port_exits_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve("--stage", "echo", "--port", str(port))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.strip().count("\n") == 0
    assert err.startswith(f"workbook serve: port {port} on 127.0.0.1 is already in use")


def test_help_lists_the_stable_commands():
    out = subprocess.run(
        [sys.executable, "-m", "workbook", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("serve", "lab", "test", "setup", "check", "hint", "solution", "reset", "list", "bench"):
        assert f"    {command} " in out, command


def test_serve_that_cannot_start_says_why_in_one_line():
    """A broken setting: daphne exits while importing the project; the cause is on the line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "--stage", "echo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "WORKBOOK_ACCESS_TOKEN_SECONDS": "five"},
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().count("\n") == 0, err
    assert err.startswith("workbook serve: the echo server exited during start-up (code 1): ValueError")
    assert "'five'" in err
