"""One chat across several daphne processes: in-memory layer (no) vs Redis layers (yes)."""

import asyncio
import time
import uuid

import httpx
import pytest

from workbook.client import Client, SocketClosed
from workbook.processes import processes_tagged
from workbook.redis_server import ping, start_redis
from workbook.server import start_server

REDIS_LAYERS = ["redis", "redis-pubsub"]


@pytest.fixture(scope="module")
def redis():
    with start_redis() as server:
        yield server


def new_room() -> str:
    return f"ws/chat/room-{uuid.uuid4().hex[:8]}/"


async def alice_speaks_bob_listens(server_a, server_b, tokens):
    room = new_room()
    alice = await Client.connect(server_a, "alice", token=tokens["alice"], path=room)
    bob = await Client.connect(server_b, "bob", token=tokens["bob"], path=room)
    await alice.receive_all(0.3)
    await bob.receive_all(0.3)
    await alice.send("hi from the other process")
    heard = await bob.receive_all(0.5)
    await alice.close()
    await bob.close()
    return heard


@pytest.mark.parametrize("layer", REDIS_LAYERS)
async def test_redis_layers_carry_messages_across_processes(layer, redis, tokens):
    with (
        start_server("chat", layer=layer, redis_url=redis.url) as a,
        start_server("chat", layer=layer, redis_url=redis.url) as b,
    ):
        assert await alice_speaks_bob_listens(a, b, tokens) == [{"message": "alice: hi from the other process"}]


async def test_in_memory_layer_stays_inside_one_process(tokens):
    with start_server("chat") as a, start_server("chat") as b:
        assert await alice_speaks_bob_listens(a, b, tokens) == []


async def test_idle_consumer_outlives_redis_py_read_timeout(redis, tokens):
    """redis-py 8 times reads out after 5 s; channels_redis waits longer than that when idle."""
    with (
        start_server("chat", layer="redis", redis_url=redis.url) as a,
        start_server("chat", layer="redis", redis_url=redis.url) as b,
    ):
        room = new_room()
        bob = await Client.connect(b, "bob", token=tokens["bob"], path=room)
        await bob.receive_all(0.3)
        await asyncio.sleep(6.5)  # longer than redis-py's 5 s socket timeout
        alice = await Client.connect(a, "alice", token=tokens["alice"], path=room)
        await alice.send("still there?")
        frames = await bob.receive_all(0.5)
        assert {"message": "alice: still there?"} in frames
        await alice.close()
        await bob.close()


@pytest.mark.timeout(180)
async def test_200_clients_over_two_processes_lose_nothing(redis, tokens):
    with (
        start_server("chat", layer="redis", redis_url=redis.url) as a,
        start_server("chat", layer="redis", redis_url=redis.url) as b,
    ):
        room = new_room()
        clients = []
        for number in range(200):
            server = a if number % 2 else b
            clients.append(await Client.connect(server, f"c{number}", token=tokens["bob"], path=room))
        await asyncio.gather(*(client.receive_all(1.0) for client in clients))  # the join notices
        senders = clients[:20]
        for number, sender in enumerate(senders):
            await sender.send(f"message {number}")
        expected = {f"bob: message {number}" for number in range(20)}
        received = await asyncio.gather(*(client.receive_all(1.5) for client in clients))
        for client, frames in zip(clients, received, strict=True):
            assert {frame["message"] for frame in frames} == expected, client.name
        await asyncio.gather(*(client.close() for client in clients))


async def test_redis_lost_and_back(tokens):
    """Redis dies: open sockets close with 4503, new ones are refused with 4503, the servers
    keep answering; Redis returns on the same port: chat works again without a restart."""
    redis = start_redis()
    port = redis.port
    try:
        with start_server("chat", layer="redis", redis_url=redis.url) as server:
            alice = await Client.connect(server, "alice", token=tokens["alice"])
            await alice.receive_all(0.3)
            redis.stop()
            started = time.monotonic()
            code, _ = await alice.wait_closed(timeout=10)
            assert code == 4503
            late = await Client.connect(server, "bob", token=tokens["bob"], timeout=10)
            assert (await late.wait_closed(timeout=10))[0] == 4503
            assert time.monotonic() - started < 15
            assert httpx.get(server.url("/test-ws/")).status_code == 200  # the server still answers
            assert server.running

            redis = start_redis(port=port)
            deadline = time.monotonic() + 10
            while True:  # what the test page does: reconnect with backoff
                bob = await Client.connect(server, "bob", token=tokens["bob"])
                try:
                    frames = await bob.receive_all(0.5)
                except SocketClosed:
                    assert time.monotonic() < deadline, "chat did not recover after Redis came back"
                    await asyncio.sleep(0.5)
                    continue
                break
            assert frames == [{"message": "👋 bob joined the chat"}]
            await bob.close()
    finally:
        redis.stop()
    assert not ping("127.0.0.1", port)


def test_serve_with_redis_layer_starts_and_stops_its_own_redis(tmp_path):
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "--stage", "chat", "--port", "0", "--layer", "redis", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        while "websocket:" not in line:
            line = process.stdout.readline()
            assert line, "serve exited before printing its URL"
        assert processes_tagged(f"redis-{process.pid}-"), "serve --layer redis started no Redis"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        deadline = time.monotonic() + 10
        while processes_tagged(f"redis-{process.pid}-") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_tagged(f"redis-{process.pid}-")
    finally:
        process.kill()
