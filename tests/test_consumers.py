"""Each stage's consumer in-process, through the same middleware stack as asgi.py.

These use channels' ``WebsocketCommunicator``; tests/test_live.py repeats the
important ones against a real daphne, where some behaviour differs.
"""

import json

import pytest
from helpers import ORIGIN_HEADERS, communicator

BAD_FRAMES = [
    ("not json", "invalid_json"),
    ("[1]", "not_an_object"),
    ('{"nope": 1}', "missing_message"),
    ('{"message": ["a"]}', "message_not_a_string"),
]


async def connected(stage, path="/ws/chat/"):
    comm = communicator(stage, path)
    accepted, _ = await comm.connect()
    assert accepted
    return comm


# --- Stage 1: echo ------------------------------------------------------------------
async def test_echo_greets_and_echoes():
    comm = await connected("echo")
    assert await comm.receive_json_from() == {"message": "WebSocket connected"}
    await comm.send_json_to({"message": "hello"})
    assert await comm.receive_json_from() == {"message": "You said: hello"}
    await comm.disconnect()


@pytest.mark.parametrize("stage", ["echo", "jwt", "chat"])
async def test_bad_frames_get_an_error_and_the_socket_stays_open(stage, tokens):
    path = "/ws/chat/" if stage == "echo" else f"/ws/chat/?token={tokens['alice']}"
    comm = await connected(stage, path)
    await comm.receive_json_from()  # greeting / join notice
    for frame, code in BAD_FRAMES:
        if stage == "jwt" and frame == "not json":
            continue  # plain text is a message at the jwt stage (tests/test_live.py)
        await comm.send_to(text_data=frame)
        assert (await comm.receive_json_from())["error"] == code
    await comm.send_to(bytes_data=b"\x00")
    assert (await comm.receive_json_from())["error"] == "binary_not_supported"
    await comm.send_json_to({"message": "still here"})
    assert "still here" in (await comm.receive_json_from())["message"]
    await comm.disconnect()


async def test_no_origin_is_refused():
    comm = communicator("echo", headers=[(b"host", b"127.0.0.1")])
    accepted, _ = await comm.connect()
    assert not accepted


async def test_foreign_origin_is_refused():
    comm = communicator("echo", headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")])
    accepted, _ = await comm.connect()
    assert not accepted


# --- Stage 2: JWT -------------------------------------------------------------------
async def test_jwt_greets_by_name(tokens):
    comm = await connected("jwt", f"/ws/chat/?token={tokens['alice']}")
    assert await comm.receive_json_from() == {"message": "Authenticated WebSocket connected"}
    await comm.send_json_to({"message": "hi"})
    assert await comm.receive_json_from() == {"message": "Hello alice, you sent: hi"}
    await comm.disconnect()


@pytest.mark.parametrize("kind", ["missing", "garbage", "refresh", "expired", "inactive", "deleted"])
@pytest.mark.parametrize("stage", ["jwt", "chat"])
async def test_bad_tokens_are_refused_with_4401(stage, kind, tokens):
    path = "/ws/chat/" if kind == "missing" else f"/ws/chat/?token={tokens[kind]}"
    comm = await connected(stage, path)  # accepted first, so the code reaches the client
    frame = await comm.receive_json_from()
    assert frame["error"] == "unauthenticated"
    assert tokens["alice"] not in json.dumps(frame)
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4401}


# --- Stage 3: group chat ------------------------------------------------------------
async def test_chat_broadcasts_to_the_room(tokens):
    alice = await connected("chat", f"/ws/chat/?token={tokens['alice']}")
    assert await alice.receive_json_from() == {"message": "👋 alice joined the chat"}
    bob = await connected("chat", f"/ws/chat/?token={tokens['bob']}")
    assert await bob.receive_json_from() == {"message": "👋 bob joined the chat"}
    assert await alice.receive_json_from() == {"message": "👋 bob joined the chat"}
    await alice.send_json_to({"message": "hi"})
    assert await bob.receive_json_from() == {"message": "alice: hi"}
    assert await alice.receive_json_from() == {"message": "alice: hi"}
    await alice.disconnect()
    assert await bob.receive_json_from() == {"message": "alice left the chat"}
    await bob.disconnect()


async def test_rooms_are_separate(tokens):
    alice = await connected("chat", f"/ws/chat/lobby/?token={tokens['alice']}")
    bob = await connected("chat", f"/ws/chat/kitchen/?token={tokens['bob']}")
    await alice.receive_json_from()
    await bob.receive_json_from()
    await alice.send_json_to({"message": "lobby only"})
    assert await alice.receive_json_from() == {"message": "alice: lobby only"}
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("room", ["h%C3%A9llo", "a.b", "x" * 51])
async def test_bad_room_names_are_refused_with_4400(room, tokens):
    comm = await connected("chat", f"/ws/chat/{room}/?token={tokens['alice']}")
    assert (await comm.receive_json_from())["error"] == "bad_room"
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4400}


async def test_disconnect_leaves_the_group(tokens):
    from channels.layers import get_channel_layer

    alice = await connected("chat", f"/ws/chat/leavers/?token={tokens['alice']}")
    await alice.receive_json_from()
    layer = get_channel_layer()
    assert len(layer.groups.get("chat_leavers", {})) == 1
    await alice.disconnect()
    assert not layer.groups.get("chat_leavers")


def test_origin_headers_match_allowed_hosts():
    from django.conf import settings

    assert ORIGIN_HEADERS[1][1].decode() in settings.ALLOWED_HOSTS
