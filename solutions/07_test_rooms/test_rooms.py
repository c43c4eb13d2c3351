"""Exercise test_rooms — write the tests that catch a broken group chat.

The group chat consumer of notebook 03 (ws/chat/<room>/?token=<access token>) should:

- greet everyone in the room, the newcomer too: {"message": "👋 alice joined the chat"};
- send each {"message": "hi"} from alice to everyone in her room, her too, as
  {"message": "alice: hi"}; people in other rooms hear nothing;
- on leaving, tell the others {"message": "bob left the chat"} and leave the channel
  layer group (the in-memory layer lists each group's channels in
  get_channel_layer().groups["chat_<room>"]);
- refuse anyone without a valid *access* token (a refresh token is not one): an error
  frame {"error": "unauthenticated", ...}, then close code UNAUTHENTICATED.

The checker runs your tests against that consumer (they must all pass) and against
broken versions of it: each broken one must make at least one of your tests fail.

Fixtures: ``chat_application`` (the consumer under test) and ``tokens`` (access tokens
for "alice", "bob", "carol", and alice's refresh token as "refresh"):
    alice = WebsocketCommunicator(chat_application, f"/ws/chat/lobby/?token={tokens['alice']}")

Check it:  python -m workbook check test_rooms    Run it:  .venv/bin/python -m pytest exercises/07_test_rooms
"""

from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from websocket_app.protocol import UNAUTHENTICATED


async def join(application, room, token):
    """A connected communicator that has read its own join notice."""
    communicator = WebsocketCommunicator(application, f"/ws/chat/{room}/?token={token}")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.receive_json_from(timeout=1)
    return communicator


async def test_a_message_reaches_the_room(chat_application, tokens):
    alice = await join(chat_application, "lobby", tokens["alice"])
    bob = await join(chat_application, "lobby", tokens["bob"])
    assert await alice.receive_json_from(timeout=1) == {"message": "👋 bob joined the chat"}
    await alice.send_json_to({"message": "hi"})
    assert await bob.receive_json_from(timeout=1) == {"message": "alice: hi"}
    assert await alice.receive_json_from(timeout=1) == {"message": "alice: hi"}
    await alice.disconnect()
    await bob.disconnect()


async def test_another_room_hears_nothing(chat_application, tokens):
    alice = await join(chat_application, "lobby", tokens["alice"])
    carol = await join(chat_application, "kitchen", tokens["carol"])
    await alice.send_json_to({"message": "hi"})
    assert await alice.receive_json_from(timeout=1) == {"message": "alice: hi"}
    assert await carol.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await carol.disconnect()


async def test_a_socket_that_left_is_out_of_the_group(chat_application, tokens):
    alice = await join(chat_application, "lobby", tokens["alice"])
    bob = await join(chat_application, "lobby", tokens["bob"])
    await bob.disconnect()
    assert await alice.receive_json_from(timeout=1) == {"message": "👋 bob joined the chat"}
    assert await alice.receive_json_from(timeout=1) == {"message": "bob left the chat"}
    assert len(get_channel_layer().groups.get("chat_lobby", {})) == 1  # alice only
    await alice.disconnect()


async def test_a_refresh_token_is_refused(chat_application, tokens):
    communicator = WebsocketCommunicator(chat_application, f"/ws/chat/lobby/?token={tokens['refresh']}")
    connected, _ = await communicator.connect()
    assert connected  # accepted first, so that a real client sees the close code
    assert (await communicator.receive_json_from(timeout=1))["error"] == "unauthenticated"
    assert await communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": UNAUTHENTICATED}
