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

from channels.layers import get_channel_layer  # noqa: F401  (you will need these)
from channels.testing import WebsocketCommunicator

from websocket_app.protocol import UNAUTHENTICATED  # noqa: F401  (you will need it)


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
    # TODO: alice says "hi": check that bob and alice both get {"message": "alice: hi"}.
    await alice.disconnect()
    await bob.disconnect()


# TODO: a test that someone in another room hears nothing (receive_nothing()).
# TODO: a test that a socket that left is no longer in the group.
# TODO: a test that a refresh token is refused with an error frame and close code UNAUTHENTICATED.
