"""Hostile tokens, expiry on open sockets, Origin, bad frames, token transport, flooding —
each against a real daphne, with the close code or error frame a real client sees."""

import asyncio
import base64
import json
import time
from datetime import timedelta

import httpx
import jwt as pyjwt
import pytest

from workbook.client import Client, HandshakeRefused, SocketClosed, get_tokens


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def hostile_tokens(tokens):
    """Forged tokens: each must be refused although it looks like a JWT."""
    from django.contrib.auth import get_user_model

    header, payload, signature = tokens["alice"].split(".")
    claims = pyjwt.decode(tokens["alice"], options={"verify_signature": False})
    bob_id = str(get_user_model().objects.get(username="bob").id)
    return {
        "tampered payload (user_id changed to bob)": f"{header}.{b64({**claims, 'user_id': bob_id})}.{signature}",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "signed with another key": pyjwt.encode(claims, "another-key-" + "x" * 40, algorithm="HS256"),
        "truncated signature": tokens["alice"][:-5],
    }


@pytest.mark.parametrize(
    "forgery",
    ["tampered payload (user_id changed to bob)", "alg none", "signed with another key", "truncated signature"],
)
async def test_forged_tokens_are_refused(jwt_server, hostile_tokens, forgery):
    client = await Client.connect(jwt_server, token=hostile_tokens[forgery])
    assert (await client.receive())["error"] == "unauthenticated"
    assert (await client.wait_closed())[0] == 4401


async def test_untyped_token_would_have_accepted_a_refresh_token(tokens):
    """Why the consumers use JWTAuthentication: UntypedToken validates any token type."""
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken, UntypedToken

    assert UntypedToken(tokens["refresh"])["token_type"] == "refresh"  # accepted!
    with pytest.raises(TokenError):
        AccessToken(tokens["refresh"])


@pytest.mark.parametrize("stage", ["jwt", "chat"])
async def test_socket_is_closed_when_its_token_expires(stage, jwt_server, chat_server):
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    server = {"jwt": jwt_server, "chat": chat_server}[stage]
    alice = await asyncio.to_thread(get_user_model().objects.get, username="alice")
    short = AccessToken.for_user(alice)
    short.set_exp(lifetime=timedelta(seconds=2))
    client = await Client.connect(server, token=str(short))
    await client.receive()  # greeting / join notice
    started = time.monotonic()
    frames = []
    with pytest.raises(SocketClosed) as closed:
        while True:
            frames.append(await client.receive(timeout=5))
    assert closed.value.code == 4408
    assert frames[-1]["error"] == "token_expired"
    assert 0.5 < time.monotonic() - started < 4


@pytest.mark.parametrize("origin", ["http://127.0.0.1.evil.example", "https://evil.example", "http://localhost.evil"])
async def test_cross_site_origins_are_refused(chat_server, tokens, origin):
    with pytest.raises(HandshakeRefused) as refused:
        await Client.connect(chat_server, token=tokens["alice"], origin=origin)
    assert refused.value.status == 403


BAD_FRAMES = [
    ("", "invalid_json"),
    ("not json", "invalid_json"),
    ("[1, 2]", "not_an_object"),
    ('{"text": "hi"}', "missing_message"),
    ('{"message": {"nested": true}}', "message_not_a_string"),
    (b"\x00\xff", "binary_not_supported"),
    ("[" * 30_000 + "]" * 30_000, "invalid_json"),
    ("[" * 40_000 + "]" * 40_000, "frame_too_large"),
    (json.dumps({"message": "x" * 2001}), "message_too_long"),
    ('{"message": "\\ud800"}', "invalid_text"),
]


async def test_bad_frames_are_answered_and_others_chat_on(chat_server, tokens):
    room = "ws/chat/hardening/"
    mallory = await Client.connect(chat_server, "mallory", token=tokens["bob"], path=room)
    alice = await Client.connect(chat_server, "alice", token=tokens["alice"], path=room)
    await mallory.receive_all(0.3)
    await alice.receive_all(0.3)
    for frame, code in BAD_FRAMES:
        await mallory.send(raw=frame)
        assert (await mallory.receive())["error"] == code, frame[:30]
    await alice.send("did anything happen?")
    assert await alice.receive() == {"message": "alice: did anything happen?"}
    assert (await mallory.receive())["message"] == "alice: did anything happen?"
    await alice.close()
    await mallory.close()


async def test_above_daphnes_message_limit_only_that_socket_drops(chat_server, tokens):
    mallory = await Client.connect(chat_server, "mallory", token=tokens["bob"], path="ws/chat/big/")
    alice = await Client.connect(chat_server, "alice", token=tokens["alice"], path="ws/chat/big/")
    await mallory.receive_all(0.3)
    await alice.receive_all(0.3)
    await mallory.send(raw=json.dumps({"message": "x" * (1536 * 1024)}))  # 1.5 MiB
    code, _ = await mallory.wait_closed()
    assert code in (1006, 1009)
    await alice.send("still fine")
    frames = await alice.receive_all(0.5)
    assert frames[-2:] == [{"message": "bob left the chat"}, {"message": "alice: still fine"}]
    assert chat_server.running
    await alice.close()


@pytest.mark.parametrize("room", ["a%20b", "a.b", "%2e%2e", "x" * 51, "h%C3%A9"])
async def test_invalid_room_names_are_refused_with_4400(chat_server, tokens, room):
    client = await Client.connect(chat_server, token=tokens["alice"], path=f"ws/chat/{room}/")
    assert (await client.receive())["error"] == "bad_room"
    assert (await client.wait_closed())[0] == 4400


# --- Token transport: a one-time ticket instead of a JWT in the URL ----------------------
def get_ticket(server, access_token):
    return httpx.post(server.url("/api/ws-ticket/"), headers={"Authorization": f"Bearer {access_token}"})


async def test_ticket_opens_one_socket_once(chat_server, demo_passwords):
    tokens = get_tokens(chat_server, "alice", demo_passwords["alice"])
    response = get_ticket(chat_server, tokens.access)
    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert response.json()["expires_in"] == 30
    alice = await Client.connect(chat_server, "alice", path=f"ws/chat/?ticket={ticket}")
    assert await alice.receive() == {"message": "👋 alice joined the chat"}
    await alice.close()
    replay = await Client.connect(chat_server, "replay", path=f"ws/chat/?ticket={ticket}")
    assert (await replay.receive())["error"] == "unauthenticated"
    assert (await replay.wait_closed())[0] == 4401


def test_ticket_needs_an_access_token(chat_server, tokens):
    assert httpx.post(chat_server.url("/api/ws-ticket/")).status_code == 401
    assert get_ticket(chat_server, tokens["refresh"]).status_code == 401
    assert get_ticket(chat_server, tokens["expired"]).status_code == 401


async def test_stale_ticket_is_refused(chat_server, tokens):
    from datetime import timedelta

    from django.utils import timezone

    from websocket_app.models import WebSocketTicket

    ticket = get_ticket(chat_server, tokens["alice"]).json()["ticket"]
    await asyncio.to_thread(lambda: WebSocketTicket.objects.update(created=timezone.now() - timedelta(seconds=31)))
    stale = await Client.connect(chat_server, path=f"ws/chat/?ticket={ticket}")
    assert (await stale.wait_closed())[0] == 4401


# --- Flooding -----------------------------------------------------------------------------
async def test_flooding_is_limited_then_closed_and_others_are_fine(echo_server):
    flooder = await Client.connect(echo_server, "flooder")
    calm = await Client.connect(echo_server, "calm")
    await flooder.receive()
    await calm.receive()
    for number in range(30):
        await flooder.send(f"spam {number}")
    replies = [await flooder.receive() for _ in range(30)]
    answered = [frame for frame in replies if "message" in frame]
    limited = [frame for frame in replies if frame.get("error") == "rate_limited"]
    # A burst of 20 passes; the bucket refills 10/s, so a slow machine lets a few more through.
    assert 20 <= len(answered) <= 25 and len(limited) >= 5 and len(answered) + len(limited) == 30
    with pytest.raises(SocketClosed) as closed:
        for number in range(60):
            await flooder.send(f"more spam {number}")
        while True:
            await flooder.receive()
    assert closed.value.code == 4429
    await calm.send("hello")
    assert await calm.receive() == {"message": "You said: hello"}
    await calm.close()


# --- Nothing secret in the logs -------------------------------------------------------------
async def test_no_token_ticket_or_password_in_any_server_log(jwt_server, chat_server, demo_passwords):
    secrets = []
    for server in (jwt_server, chat_server):
        tokens = get_tokens(server, "alice", demo_passwords["alice"])
        ticket = get_ticket(server, tokens.access).json()["ticket"]
        secrets += [tokens.access, tokens.refresh, ticket]
        with_token = await Client.connect(server, token=tokens.access)
        with_ticket = await Client.connect(server, path=f"ws/chat/?ticket={ticket}")
        await with_token.receive_all(0.2)
        await with_ticket.receive_all(0.2)
        await with_token.close()
        await with_ticket.close()
        await (await Client.connect(server, token=tokens.refresh)).wait_closed()
    secrets.append(demo_passwords["alice"])
    for server in (jwt_server, chat_server):
        log = server.log()
        assert "WSCONNECT /ws/chat/" in log  # the log is really there
        for secret in secrets:
            assert secret not in log and secret[:40] not in log


async def test_reauthentication_keeps_the_socket_past_its_first_token(chat_server, tokens):
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    alice = await asyncio.to_thread(get_user_model().objects.get, username="alice")
    short = AccessToken.for_user(alice)
    short.set_exp(lifetime=timedelta(seconds=2))
    client = await Client.connect(chat_server, token=str(short), path="ws/chat/reauth/")
    await client.receive()
    await client.send({"type": "reauthenticate", "token": tokens["bob"]})  # someone else's
    assert (await client.receive())["error"] == "reauthentication_failed"
    await client.send({"type": "reauthenticate", "token": "garbage"})
    assert (await client.receive())["error"] == "reauthentication_failed"
    await client.send({"type": "reauthenticate", "token": tokens["alice"]})
    renewed = await client.receive()
    assert renewed["event"] == "reauthenticated" and renewed["expires_at"] > time.time() + 60
    await asyncio.sleep(2.5)  # past the first token's expiry
    await client.send("still here")
    assert await client.receive() == {"message": "alice: still here"}
    await client.close()
