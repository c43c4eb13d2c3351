"""No silent loss: when channels_redis drops a room message (a server's queue is full), the
server logs it and the sender gets ``room_overloaded``; everyone else still gets the message.

A real overload, made deterministic: two chat servers share Redis with a small layer capacity,
and one of them is paused (SIGSTOP), so nobody drains its queue in Redis."""

import asyncio
import os
import signal
import uuid

import pytest

from websocket_app.protocol import ROOM_OVERLOADED
from workbook.client import Client
from workbook.processes import processes_tagged
from workbook.redis_server import start_redis
from workbook.server import start_server

CAPACITY = 5
SENT = 12


def daphne_pid(server) -> int:
    (pid,) = [pid for pid in processes_tagged(server.tag) if pid != server.process.pid]
    return pid


@pytest.mark.timeout(120)
def test_a_full_server_queue_is_logged_and_the_sender_told(tokens):
    env = {"WORKBOOK_LAYER_CAPACITY": str(CAPACITY), "WORKBOOK_RATE_LIMIT_PER_SECOND": "0"}
    with (
        start_redis() as redis,
        start_server("chat", layer="redis", redis_url=redis.url, env=env) as busy,
        start_server("chat", layer="redis", redis_url=redis.url, env=env) as paused,
    ):
        room = f"ws/chat/overload-{uuid.uuid4().hex[:8]}/"

        async def scenario():
            alice = await Client.connect(busy, "alice", token=tokens["alice"], path=room)
            bob = await Client.connect(paused, "bob", token=tokens["bob"], path=room)
            await alice.receive_all(0.5)
            await bob.receive_all(0.5)
            os.kill(daphne_pid(paused), signal.SIGSTOP)  # its queue in Redis now only fills
            try:
                for number in range(SENT):
                    await alice.send(f"m{number}")
                alice_frames = await alice.receive_all(1.0)
            finally:
                os.kill(daphne_pid(paused), signal.SIGCONT)
            bob_frames = await bob.receive_all(1.5)
            await alice.close()
            await bob.close()
            return alice_frames, bob_frames

        alice_frames, bob_frames = asyncio.run(scenario())
        log = busy.log()

    told = [frame for frame in alice_frames if frame.get("error") == ROOM_OVERLOADED]
    alice_heard = [frame["message"] for frame in alice_frames if "message" in frame]
    bob_heard = [frame["message"] for frame in bob_frames if "message" in frame]
    # Alice's own server drained its queue: she heard every message, in order.
    assert alice_heard == [f"alice: m{number}" for number in range(SENT)]
    # The paused server's queue took CAPACITY messages (plus the one its waiting BZPOPMIN may
    # already have taken); the rest were dropped for bob...
    delivered = len(bob_heard)
    assert delivered in (CAPACITY, CAPACITY + 1), bob_heard
    assert bob_heard == [f"alice: m{number}" for number in range(delivered)]
    # ...and for each one dropped alice was told, and the server logged it: none silently.
    assert len(told) == SENT - delivered, alice_frames
    assert log.count(f"{ROOM_OVERLOADED}: the channel layer dropped a message") == SENT - delivered
    assert f"({SENT - delivered} messages dropped in this room since start)" in log
