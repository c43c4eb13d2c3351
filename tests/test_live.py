"""Every stage against a real daphne, with the websockets and httpx clients a learner uses.

Some behaviour only shows up here: a consumer that closes before ``accept()``
reports its close code to ``WebsocketCommunicator`` but a real client sees HTTP
403; Origin is checked against what a real client actually sends.
"""

import json

import httpx
import pytest

from workbook.client import Client, HandshakeRefused, LoginFailed, Transcript, get_tokens, refresh_access_token


# --- Stage 1: echo ------------------------------------------------------------------
async def test_echo_round_trip(echo_server):
    async with await Client.connect(echo_server, "learner") as client:
        assert await client.receive() == {"message": "WebSocket connected"}
        await client.send("hello")
        assert await client.receive() == {"message": "You said: hello"}


async def test_echo_survives_every_kind_of_bad_frame(echo_server):
    async with await Client.connect(echo_server) as client:
        await client.receive()
        for raw, code in [
            ("nope", "invalid_json"),
            ("[]", "not_an_object"),
            ('{"message": 1}', "message_not_a_string"),
            (b"\x01", "binary_not_supported"),
            ('{"message": "\\ud800"}', "invalid_text"),
            ("[" * 30_000 + "]" * 30_000, "invalid_json"),
            ("[" * 50_000 + "]" * 50_000, "frame_too_large"),
        ]:
            await client.send(raw=raw)
            assert (await client.receive())["error"] == code
        await client.send("still open")
        assert await client.receive() == {"message": "You said: still open"}


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null"])
async def test_handshakes_from_other_origins_get_http_403(echo_server, origin):
    with pytest.raises(HandshakeRefused) as refused:
        await Client.connect(echo_server, origin=origin)
    assert refused.value.status == 403


async def test_localhost_origin_is_accepted(echo_server):
    origin = echo_server.http_url.replace("127.0.0.1", "localhost")
    async with await Client.connect(echo_server, origin=origin) as client:
        assert await client.receive() == {"message": "WebSocket connected"}


def test_test_page_is_served(echo_server):
    response = httpx.get(echo_server.url("/test-ws/"))
    assert response.status_code == 200
    assert "WebSocket test page" in response.text
    assert 'id="stage">echo<' in response.text
    assert "8000" not in response.text  # no hard-coded host or port
    # JupyterLab (another local origin) may embed it; other sites may not.
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Content-Security-Policy"] == (
        "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*"
    )


# --- Stage 2: JWT -------------------------------------------------------------------
def test_token_obtain_and_refresh(jwt_server, demo_passwords):
    tokens = get_tokens(jwt_server, "alice", demo_passwords["alice"])
    assert tokens.access.count(".") == 2 and tokens.refresh.count(".") == 2
    new_access = refresh_access_token(jwt_server, tokens.refresh)
    assert new_access.count(".") == 2
    with pytest.raises(LoginFailed):
        refresh_access_token(jwt_server, tokens.access)  # an access token is no refresh token


def test_wrong_password_is_refused(jwt_server):
    with pytest.raises(LoginFailed, match="401"):
        get_tokens(jwt_server, "alice", "wrong")


async def test_jwt_consumer_greets_the_user(jwt_server, demo_passwords):
    tokens = get_tokens(jwt_server, "bob", demo_passwords["bob"])
    async with await Client.connect(jwt_server, "bob", token=tokens.access) as bob:
        assert await bob.receive() == {"message": "Authenticated WebSocket connected"}
        await bob.send("hi")
        assert await bob.receive() == {"message": "Hello bob, you sent: hi"}


async def test_jwt_stage_speaks_plain_text_and_json(jwt_server, tokens):
    """The classic consumer echoed raw text; JSON clients get the JSON envelope."""
    import websockets

    url = f"{jwt_server.ws_url}?token={tokens['alice']}"
    async with websockets.connect(url, origin=jwt_server.origin) as raw:
        assert json.loads(await raw.recv()) == {"message": "Authenticated WebSocket connected"}
        await raw.send("yo")
        assert await raw.recv() == "Hello alice, you sent: yo"  # plain text, not JSON
        await raw.send(json.dumps({"message": "yo"}))
        assert json.loads(await raw.recv()) == {"message": "Hello alice, you sent: yo"}
        await raw.send("[1, 2]")  # JSON, but not an object: the JSON protocol's error frame
        assert json.loads(await raw.recv())["error"] == "not_an_object"
        await raw.send("x" * 5000)
        assert json.loads(await raw.recv())["error"] == "message_too_long"
        await raw.send("still here")
        assert await raw.recv() == "Hello alice, you sent: still here"


@pytest.mark.parametrize("kind", ["missing", "garbage", "refresh", "expired", "inactive", "deleted"])
async def test_real_clients_see_4401_for_bad_tokens(jwt_server, tokens, kind):
    token = None if kind == "missing" else tokens[kind]
    client = await Client.connect(jwt_server, token=token)
    assert (await client.receive())["error"] == "unauthenticated"
    code, _reason = await client.wait_closed()
    assert code == 4401


# --- Stage 3: group chat ------------------------------------------------------------
async def test_alice_says_hi_and_bob_hears_it(chat_server, demo_passwords):
    transcript = Transcript()
    alice_tokens = get_tokens(chat_server, "alice", demo_passwords["alice"])
    bob_tokens = get_tokens(chat_server, "bob", demo_passwords["bob"])
    alice = await Client.connect(chat_server, "alice", token=alice_tokens.access, transcript=transcript)
    assert await alice.receive() == {"message": "👋 alice joined the chat"}
    bob = await Client.connect(chat_server, "bob", token=bob_tokens.access, transcript=transcript)
    assert await bob.receive() == {"message": "👋 bob joined the chat"}
    assert await alice.receive() == {"message": "👋 bob joined the chat"}
    await alice.send("hi")
    assert await bob.receive() == {"message": "alice: hi"}
    await alice.close()
    assert await bob.receive() == {"message": "alice left the chat"}
    await bob.close()
    assert ("received", json.dumps({"message": "alice: hi"})) in transcript.events("bob")


async def test_one_clients_bad_frames_do_not_disturb_another(chat_server, tokens):
    alice = await Client.connect(chat_server, "alice", token=tokens["alice"], path="ws/chat/calm/")
    bob = await Client.connect(chat_server, "bob", token=tokens["bob"], path="ws/chat/calm/")
    await alice.receive_all()
    await bob.receive_all()
    await bob.send(raw=b"\x00" * 1000)
    await bob.send(raw="{{{")
    await alice.send("anyone?")
    assert await alice.receive() == {"message": "alice: anyone?"}
    assert [frame.get("error") or frame.get("message") for frame in await bob.receive_all()] == [
        "binary_not_supported",
        "invalid_json",
        "alice: anyone?",
    ]
    await alice.close()
    await bob.close()


async def test_bad_room_is_refused_with_4400(chat_server, tokens):
    client = await Client.connect(chat_server, token=tokens["alice"], path="ws/chat/no%20spaces/")
    assert (await client.receive())["error"] == "bad_room"
    assert (await client.wait_closed())[0] == 4400


async def test_closing_before_accept_is_a_403_for_real_clients():
    """Why the consumers accept first: the seed's close-before-accept hides its code."""
    from workbook.server import start_server

    with (
        start_server(
            "echo", application="websocket_project.close_before_accept_asgi:application", wait_for_handshake=False
        ) as server,
        pytest.raises(HandshakeRefused) as refused,
    ):
        await Client.connect(server)
    assert refused.value.status == 403  # the 1008 never reaches the client


async def test_the_communicator_reports_the_code_a_real_client_never_sees():
    from channels.testing import WebsocketCommunicator
    from helpers import ORIGIN_HEADERS

    from websocket_project.close_before_accept_asgi import websocket_application

    comm = WebsocketCommunicator(websocket_application, "/ws/chat/", headers=ORIGIN_HEADERS)
    assert await comm.connect() == (False, 1008)
