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
    assert await communicator.receive_json_from(timeout=1) == {"message": "WebSocket connected"}
    await communicator.disconnect()


async def test_echoes_a_message(echo_application):
    communicator = WebsocketCommunicator(echo_application, "/ws/chat/")
    await communicator.connect()
    await communicator.receive_json_from(timeout=1)  # the greeting
    await communicator.send_json_to({"message": "hi"})
    assert await communicator.receive_json_from(timeout=1) == {"message": "You said: hi"}
    await communicator.disconnect()


async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(echo_application):
    communicator = WebsocketCommunicator(echo_application, "/ws/chat/")
    await communicator.connect()
    await communicator.receive_json_from(timeout=1)  # the greeting
    await communicator.send_to(text_data="not json")
    error = await communicator.receive_json_from(timeout=1)
    assert set(error) == {"error", "detail"}
    await communicator.send_json_to({"message": "still there?"})
    assert await communicator.receive_json_from(timeout=1) == {"message": "You said: still there?"}
    await communicator.disconnect()
