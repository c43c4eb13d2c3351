"""Exercise test_echo — write the tests that catch a broken echo consumer.

This time you write tests, not a consumer. The echo consumer of notebook 01 should:

- accept the socket and greet it:            {"message": "WebSocket connected"}
- answer {"message": "hi"} with              {"message": "You said: hi"}
- answer a frame it cannot use (text that is not JSON, or no "message") with an error
  frame {"error": "<code>", "detail": "..."} and keep the connection open.

The checker runs your tests against that consumer (they must all pass) and against
broken versions of it: each broken one must make at least one of your tests fail.

The ``echo_application`` fixture is the consumer under test, routed at ws/chat/:
    communicator = WebsocketCommunicator(echo_application, "/ws/chat/")
Every receive needs a timeout (receive_json_from(timeout=1)): a test must never hang.

Check it:  python -m workbook check test_echo     Run it:  .venv/bin/python -m pytest exercises/06_test_echo
"""

from channels.testing import WebsocketCommunicator


async def test_greets_on_connect(echo_application):
    communicator = WebsocketCommunicator(echo_application, "/ws/chat/")
    connected, _ = await communicator.connect()
    assert connected
    # TODO: receive the greeting and check it.
    await communicator.disconnect()


# TODO: a test that {"message": "hi"} gets {"message": "You said: hi"}.
# TODO: a test that a frame that is not JSON gets an error frame, and the socket still answers afterwards.
