"""The frame parser every consumer relies on (pure functions, no server)."""

import json

import pytest

from websocket_app.limits import TokenBucket
from websocket_app.protocol import (
    CLOSE_CODES,
    MAX_FRAME_CHARS,
    MAX_MESSAGE_CHARS,
    BadFrame,
    is_valid_room_name,
    parse_message,
)


def test_a_good_frame_gives_its_message():
    assert parse_message('{"message": "hi"}') == "hi"


@pytest.mark.parametrize(
    "text, bytes_data, code",
    [
        ("hello", None, "invalid_json"),
        ("", None, "invalid_json"),
        ("[1, 2]", None, "not_an_object"),
        ('"just a string"', None, "not_an_object"),
        ('{"text": "hi"}', None, "missing_message"),
        ('{"message": 42}', None, "message_not_a_string"),
        ('{"message": null}', None, "message_not_a_string"),
        ('{"message": "\\ud800"}', None, "invalid_text"),
        ("[" * 100_000 + "]" * 100_000, None, "frame_too_large"),
        ("[" * 30_000 + "]" * 30_000, None, "invalid_json"),  # RecursionError, not a crash
        (json.dumps({"message": "x" * (MAX_MESSAGE_CHARS + 1)}), None, "message_too_long"),
        (None, b"\x00\x01", "binary_not_supported"),
    ],
)
def test_bad_frames_raise_with_a_code(text, bytes_data, code):
    with pytest.raises(BadFrame) as raised:
        parse_message(text, bytes_data)
    assert raised.value.code == code
    frame = json.loads(raised.value.as_frame())
    assert frame["error"] == code and frame["detail"]


def test_limits_are_inclusive():
    assert parse_message(json.dumps({"message": "x" * MAX_MESSAGE_CHARS})) == "x" * MAX_MESSAGE_CHARS
    assert MAX_FRAME_CHARS > MAX_MESSAGE_CHARS + 20


@pytest.mark.parametrize("name", ["global_chat", "room-1", "A", "x" * 50])
def test_good_room_names(name):
    assert is_valid_room_name(name)


@pytest.mark.parametrize("name", ["", "x" * 51, "héllo", "a b", "a.b", "../x", "a%2Fb"])
def test_bad_room_names(name):
    assert not is_valid_room_name(name)


def test_every_close_code_is_an_application_code_with_a_meaning():
    for code, (error, meaning) in CLOSE_CODES.items():
        assert type(code) is int and 4000 <= code <= 4999
        assert error and meaning


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(per_second=10, burst=20, clock=clock)
    assert [bucket.allow() for _ in range(21)] == [True] * 20 + [False]
    clock.now += 0.5  # five tokens come back
    assert [bucket.allow() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 100  # never more than the burst
    assert sum(bucket.allow() for _ in range(30)) == 20


def test_token_bucket_with_rate_zero_is_off():
    bucket = TokenBucket(per_second=0, burst=1, clock=FakeClock())
    assert all(bucket.allow() for _ in range(1000))
