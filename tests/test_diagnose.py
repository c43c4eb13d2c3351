"""why_refused() names each cause from a real handshake and the real server log."""

import socket

import pytest

from workbook import diagnose
from workbook.diagnose import exception_in, why_refused
from workbook.proxy import ReverseProxy
from workbook.server import start_server
from workbook.troubleshooting import BROKEN_ASGI, start_runserver


@pytest.fixture(scope="module")
def broken_server():
    with start_server("chat", application=BROKEN_ASGI) as server:
        yield server


async def test_nothing_listening():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nobody listens once the probe is closed
    diagnosis = await why_refused(f"http://127.0.0.1:{port}")
    assert diagnosis.cause == diagnose.NOTHING_LISTENING


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_origin_not_allowed(chat_server, tokens, origin):
    diagnosis = await why_refused(chat_server, token=tokens["alice"], origin=origin)
    assert diagnosis.cause == diagnose.ORIGIN_NOT_ALLOWED
    assert any("WSREJECT /ws/chat/" in line for line in diagnosis.evidence)
    assert "ALLOWED_HOSTS" in diagnosis.fix


async def test_closed_before_accept(broken_server):
    diagnosis = await why_refused(broken_server, "ws/closes-before-accept/")
    assert diagnosis.cause == diagnose.CLOSED_BEFORE_ACCEPT
    assert "HTTP 403" in diagnosis.evidence[0]


async def test_closed_before_accept_even_with_a_foreign_origin(broken_server):
    """The second handshake (own Origin) is refused too: not the Origin's fault."""
    diagnosis = await why_refused(broken_server, "ws/closes-before-accept/", origin="https://evil.example")
    assert diagnosis.cause == diagnose.CLOSED_BEFORE_ACCEPT


async def test_no_route(chat_server):
    diagnosis = await why_refused(chat_server, "ws/chats/")
    assert diagnosis.cause == diagnose.NO_ROUTE
    assert any("No route found for path 'ws/chats/'" in line for line in diagnosis.evidence)


async def test_not_a_websocket_server():
    with start_runserver("troubleshooting.settings_no_daphne") as dev:
        diagnosis = await why_refused(dev)
    assert diagnosis.cause == diagnose.NOT_AN_ASGI_SERVER
    assert "Server: WSGIServer" in diagnosis.evidence[0]
    assert "Not Found: /ws/chat/" in diagnosis.evidence


async def test_upgrade_headers_lost_behind_a_proxy(chat_server):
    with ReverseProxy(chat_server.port) as proxy:
        diagnosis = await why_refused(proxy, log=chat_server.log)
    assert diagnosis.cause == diagnose.UPGRADE_HEADERS_LOST
    assert "Server: daphne" in diagnosis.evidence[0]
    assert "proxy_set_header Upgrade" in diagnosis.fix


async def test_crashed_after_accept_names_the_exception(broken_server):
    diagnosis = await why_refused(broken_server, "ws/orm/broken/")
    assert diagnosis.cause == diagnose.CRASHED_AFTER_ACCEPT
    assert "SynchronousOnlyOperation" in diagnosis.fix


@pytest.mark.parametrize("kind", ["garbage", "refresh", "expired", None])
async def test_bad_token(chat_server, tokens, kind):
    diagnosis = await why_refused(chat_server, token=tokens[kind] if kind else None)
    assert diagnosis.cause == diagnose.BAD_TOKEN
    assert any("'error': 'unauthenticated'" in line for line in diagnosis.evidence)


async def test_other_close_codes_come_from_protocol_py(chat_server, tokens):
    from websocket_app.protocol import BAD_ROOM, CLOSE_CODES

    diagnosis = await why_refused(chat_server, "ws/chat/a.b/", token=tokens["alice"])
    assert diagnosis.cause == f"{diagnose.REFUSED_WITH_CODE} {BAD_ROOM} ({CLOSE_CODES[BAD_ROOM][0]})"
    assert diagnosis.fix == CLOSE_CODES[BAD_ROOM][1]


async def test_not_refused(chat_server, tokens):
    diagnosis = await why_refused(chat_server, token=tokens["alice"])
    assert diagnosis.cause == diagnose.NOT_REFUSED
    assert "still open" in diagnosis.evidence[0]


async def test_the_token_never_appears_in_the_diagnosis(chat_server, tokens):
    diagnosis = await why_refused(chat_server, token=tokens["alice"], origin="https://evil.example")
    assert tokens["alice"] not in str(diagnosis) + diagnosis._repr_html_()


def test_exception_in_finds_the_last_exception_line():
    log = (
        "2026-01-01 ERROR    Exception inside application: boom\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\nValueError: No handler for message type chat.x\n'
    )
    assert exception_in(log.splitlines()) == "ValueError: No handler for message type chat.x"
    assert exception_in(['127.0.0.1 - - "WSCONNECT /ws/chat/"']) == ""
