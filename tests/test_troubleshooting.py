"""Notebook 07's cases, each asserting the exact symptom text a learner sees.

If a version bump changes one of these texts, this file fails and the notebook's
prose (and the instructor's guide) must be updated with it.
"""

import socket

import pytest
from helpers import wait_until

from workbook.client import Client, HandshakeRefused
from workbook.proxy import ReverseProxy, rewrite_head
from workbook.server import ServerStartError, start_server
from workbook.troubleshooting import (
    BROKEN_ASGI,
    at_once,
    import_check,
    import_traceback,
    installed_apps_diff,
    log_until,
    show_diff,
    start_in_background,
    start_on_redis,
    start_runserver,
    stop_at_once,
)

APP_REGISTRY_NOT_READY = "django.core.exceptions.AppRegistryNotReady: Apps aren't loaded yet."
SYNCHRONOUS_ONLY = (
    "django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an "
    "async context - use a thread or sync_to_async."
)
NO_HANDLER = "ValueError: No handler for message type chat.messages"


@pytest.fixture(scope="module")
def broken_server():
    with start_server("chat", application=BROKEN_ASGI, env={"DJANGO_ALLOWED_HOSTS": "chat.example.org"}) as server:
        yield server


def new_lines(server, start: int) -> str:
    return server.log()[start:]


# --- 1. asgi.py imports the routing too early -----------------------------------------
def test_routing_imported_first_raises_app_registry_not_ready():
    traceback = import_traceback("troubleshooting.asgi_routing_first")
    assert traceback.strip().splitlines()[-1] == APP_REGISTRY_NOT_READY
    assert "tutorial_project/troubleshooting/asgi_routing_first.py" in traceback
    assert import_check("websocket_project.asgi") == "import websocket_project.asgi: ok"


def test_daphne_does_not_start_with_routing_imported_first():
    with pytest.raises(ServerStartError) as failed:
        start_server("chat", application="troubleshooting.asgi_routing_first:application")
    assert APP_REGISTRY_NOT_READY in str(failed.value)


def test_the_diff_shows_only_the_moved_import():
    diff = show_diff("websocket_project/asgi.py", "troubleshooting/asgi_routing_first.py").data
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]
    assert [line for line in changed if "routing" in line and "import" in line] == [
        "+from websocket_app import routing  # moved up (an import sorter does this)",
        "-from websocket_app import routing  # noqa: E402",
    ]


# --- 2. daphne missing from INSTALLED_APPS ----------------------------------------------
async def test_runserver_without_daphne_answers_not_found(tokens):
    assert "-    'daphne',\n" in installed_apps_diff().data
    with start_runserver("troubleshooting.settings_no_daphne") as dev:
        with pytest.raises(HandshakeRefused) as refused:
            await Client.connect(dev)
        assert refused.value.status == 404
        log = dev.log()
    assert "Starting development server at http://127.0.0.1:" in log
    assert "Not Found: /ws/chat/" in log
    assert '"GET /ws/chat/ HTTP/1.1" 404' in log


async def test_runserver_with_daphne_serves_the_websocket(tokens):
    with start_runserver("websocket_project.settings") as fixed:
        alice = await Client.connect(fixed, token=tokens["alice"])
        assert await alice.receive() == {"message": "👋 alice joined the chat"}
        await alice.close()
        assert "Starting ASGI/Daphne version" in fixed.log()


# --- 3. the ORM in an async consumer ----------------------------------------------------
async def test_orm_in_async_consumer_closes_1011_with_synchronous_only_operation(broken_server):
    start = len(broken_server.log())
    client = await Client.connect(broken_server, path="ws/orm/broken/")
    assert await client.wait_closed() == (1011, "")
    assert SYNCHRONOUS_ONLY in new_lines(broken_server, start)


async def test_database_sync_to_async_fixes_it(broken_server):
    client = await Client.connect(broken_server, path="ws/orm/fixed/")
    frame = await client.receive()
    assert frame["message"].startswith("WebSocket connected (") and frame["message"].endswith(" users)")
    await client.close()


# --- 4. no handler; a misspelt group ------------------------------------------------------
async def test_an_event_type_without_handler_kills_the_receiver(broken_server, tokens):
    start = len(broken_server.log())
    alice = await Client.connect(broken_server, token=tokens["alice"], path="ws/unhandled-type/lobby/")
    assert await alice.wait_closed() == (1011, "")
    assert NO_HANDLER in new_lines(broken_server, start)


async def test_a_misspelt_group_is_silent(broken_server, tokens):
    start = len(broken_server.log())
    alice = await Client.connect(broken_server, token=tokens["alice"], path="ws/wrong-group/quiet/")
    bob = await Client.connect(broken_server, token=tokens["bob"], path="ws/wrong-group/quiet/")
    await alice.send("anyone there?")
    assert await alice.receive_all(0.3) == [] and await bob.receive_all(0.3) == []
    assert "Error" not in new_lines(broken_server, start)
    assert "Exception" not in new_lines(broken_server, start)
    await alice.close()
    await bob.close()


# --- 5. two processes on the in-memory layer --------------------------------------------
async def test_two_processes_on_the_memory_layer_do_not_hear_each_other(chat_server, broken_server, tokens):
    alice = await Client.connect(chat_server, token=tokens["alice"], path="ws/chat/two-processes/")
    bob = await Client.connect(broken_server, token=tokens["bob"], path="ws/chat/two-processes/")
    await alice.receive_all(0.2)
    await bob.receive_all(0.2)
    await alice.send("hi bob")
    assert await alice.receive_all(0.3) == [{"message": "alice: hi bob"}]
    assert await bob.receive_all(0.3) == []
    await alice.close()
    await bob.close()


async def test_two_processes_on_one_redis_hear_each_other(tokens):
    on_redis = start_on_redis(2)
    try:
        first, second = on_redis.servers
        assert first.port != second.port and first.layer == second.layer == "redis"
        alice = await Client.connect(first, token=tokens["alice"], path="ws/chat/across/")
        assert await alice.receive() == {"message": "👋 alice joined the chat"}
        bob = await Client.connect(second, token=tokens["bob"], path="ws/chat/across/")
        assert await alice.receive() == await bob.receive() == {"message": "👋 bob joined the chat"}
        await alice.send("hi bob")
        assert await bob.receive() == {"message": "alice: hi bob"}
        await alice.close()
        await bob.close()
    finally:
        assert on_redis.stop()
    assert not any(process.running for process in [on_redis.redis, *on_redis.servers])


# --- 6. Origin and ALLOWED_HOSTS ----------------------------------------------------------
async def test_a_foreign_origin_gets_403_and_a_log_without_reason(chat_server, broken_server, tokens):
    start = len(chat_server.log())
    with pytest.raises(HandshakeRefused) as refused:
        await Client.connect(chat_server, token=tokens["alice"], origin="https://chat.example.org")
    assert refused.value.status == 403
    # daphne writes the three lines as the handshake ends: wait for the last one, boundedly.
    wait_until(lambda: "WSDISCONNECT" in new_lines(chat_server, start), timeout=5)
    lines = [line for line in new_lines(chat_server, start).splitlines() if line.strip()]
    assert [line.split('"')[1] for line in lines] == [
        "WSCONNECTING /ws/chat/",
        "WSREJECT /ws/chat/",
        "WSDISCONNECT /ws/chat/",
    ]
    # The fix: the host in ALLOWED_HOSTS (the troubleshooting server has it).
    alice = await Client.connect(broken_server, token=tokens["alice"], origin="https://chat.example.org")
    assert await alice.receive() == {"message": "👋 alice joined the chat"}
    await alice.close()


# --- 7. a proxy without the Upgrade headers ------------------------------------------------
async def test_a_proxy_dropping_upgrade_headers_gives_404(chat_server, tokens):
    start = len(chat_server.log())
    with ReverseProxy(chat_server.port) as proxy, pytest.raises(HandshakeRefused) as refused:
        await Client.connect(proxy.http_url)
    assert refused.value.status == 404
    log = new_lines(chat_server, start)
    assert "Not Found: /ws/chat/" in log
    assert '"GET /ws/chat/" 404' in log


async def test_a_proxy_passing_upgrade_headers_works(chat_server, tokens):
    with ReverseProxy(chat_server.port, pass_upgrade=True) as proxy:
        alice = await Client.connect(proxy.http_url, token=tokens["alice"])
        assert await alice.receive() == {"message": "👋 alice joined the chat"}
        await alice.send("through the proxy")
        assert await alice.receive() == {"message": "alice: through the proxy"}
        await alice.close()


def test_the_proxy_drops_exactly_the_hop_by_hop_headers():
    head = (
        b"GET /ws/chat/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: abc\r\nOrigin: http://x\r\n\r\n"
    )
    stripped = rewrite_head(head, pass_upgrade=False).decode()
    assert stripped == (
        "GET /ws/chat/ HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: abc\r\nOrigin: http://x\r\nConnection: close\r\n\r\n"
    )
    assert rewrite_head(head, pass_upgrade=True) == head


def test_the_proxy_stops_listening_when_stopped():
    proxy = ReverseProxy(9)  # nothing needs to listen upstream for this
    port = proxy.port
    proxy.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- The notebook's plumbing: servers at once, and never left behind ----------------------
def test_at_once_returns_results_in_order_and_stops_what_started_when_one_fails():
    assert at_once(lambda: 1, lambda: 2) == [1, 2]
    started = []

    def start_one():
        started.append(start_runserver("troubleshooting.settings_no_daphne"))
        return started[-1]

    def fail():
        raise RuntimeError("this start fails")

    with pytest.raises(RuntimeError, match="this start fails"):
        at_once(start_one, fail)
    assert len(started) == 1 and not started[0].running


def test_starting_again_under_a_name_stops_the_server_started_before(capsys):
    from workbook.redis_server import start_redis

    (first,) = start_in_background(redis=start_redis).wait()
    (second,) = start_in_background(redis=start_redis).wait()
    try:
        assert not first.running and second.running
        assert f"redis:     {second}" in capsys.readouterr().out  # what runs where is printed
    finally:
        stop_at_once(second)
    assert not second.running
    assert f"Stopped: {second}" in capsys.readouterr().out


async def test_log_until_waits_for_a_line_and_fails_loudly_without_it(broken_server):
    start = len(broken_server.log())
    with pytest.raises(HandshakeRefused):
        await Client.connect(broken_server, path="ws/closes-before-accept/")
    assert "WSREJECT /ws/closes-before-accept/" in log_until(broken_server, "WSDISCONNECT", start)
    with pytest.raises(TimeoutError, match="did not appear"):
        log_until(broken_server, "a line no server writes", start, timeout=0.2)
