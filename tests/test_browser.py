"""The test page and JupyterLab in a real headless Chromium (Debian's, driven by Playwright).

On a machine without Chromium these tests skip with a one-line reason; in CI (CI=true),
where .ci/run installs it, a missing browser is a failure, never a skip.
Screenshots land in artifacts/browser/ (git-ignored).
"""

import contextlib
import http.server
import re
import threading
import time
from pathlib import Path

import pytest
from helpers import running_lab

from workbook.server import start_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"
WAIT_MS = 15_000


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(browser, server, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.url("/test-ws/"))
    return page


def sign_in(page, username, password):
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {username}.").wait_for()


def join(page, room):
    page.get_by_role("textbox", name="Room").fill(room)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.get_by_role("status").filter(has_text=f"connected to room {room}").wait_for()


def say(page, text):
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("textbox", name="Message").press("Enter")


def conversation(page):
    return page.locator("#log").inner_text()


def test_alice_and_bob_chat_in_one_room_and_not_another(browser, demo_passwords):
    with start_server("chat") as server:
        alice, bob, carol = (open_page(browser, server) for _ in range(3))
        for page, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            sign_in(page, name, demo_passwords[name])
        join(alice, "lobby")
        join(bob, "lobby")
        join(carol, "kitchen")
        alice.get_by_text("👋 bob joined the chat").wait_for()
        say(alice, "hello bob")
        bob.get_by_text("alice: hello bob").wait_for()
        say(bob, "hi alice")
        alice.get_by_text("bob: hi alice").wait_for()
        time.sleep(0.3)
        assert "hello bob" not in conversation(carol) and "hi alice" not in conversation(carol)
        screenshot(alice, "chat-alice")
        screenshot(bob, "chat-bob")
        screenshot(carol, "chat-carol-other-room")


def test_wrong_password_shows_an_error(browser):
    with start_server("chat") as server:
        page = open_page(browser, server)
        page.get_by_role("textbox", name="Username").fill("alice")
        page.get_by_label("Password", exact=True).fill("not-her-password")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("alert").filter(has_text="Wrong username or password.").wait_for()
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_role("alert").filter(has_text="Sign in first").wait_for()
        screenshot(page, "wrong-password")


def test_page_reconnects_after_the_server_restarts(browser, demo_passwords):
    server = start_server("chat")
    port = server.port
    try:
        page = open_page(browser, server)
        sign_in(page, "alice", demo_passwords["alice"])
        join(page, "lobby")
        server.stop()
        page.get_by_role("status").filter(has_text="reconnecting").wait_for()
        page.get_by_text("Connection closed (code 1006): the connection was lost.").wait_for()
        server = start_server("chat", port=port)
        page.get_by_role("status").filter(has_text="connected to room lobby").wait_for(timeout=30_000)
        say(page, "back again")
        page.get_by_text("alice: back again").wait_for()
        screenshot(page, "reconnected")
    finally:
        server.stop()


@pytest.mark.timeout(120)
def test_page_refreshes_its_token_and_outlives_the_first_one(browser, demo_passwords):
    """Access tokens of 32 s: the page refreshes 30 s before expiry and hands the open socket
    the new token, so the socket is still open (no 4408) well after the first token died."""
    with start_server("chat", env={"WORKBOOK_ACCESS_TOKEN_SECONDS": "32"}) as server:
        page = open_page(browser, server)
        sign_in(page, "alice", demo_passwords["alice"])
        join(page, "refresh")
        page.get_by_text("Session extended with a fresh token.").first.wait_for()
        time.sleep(34)  # past the first access token's expiry
        assert "4408" not in conversation(page)
        say(page, "still connected")
        page.get_by_text("alice: still connected").wait_for()
        page.get_by_role("status").filter(has_text="connected to room refresh").wait_for()
        screenshot(page, "token-refreshed")


def test_jwt_stage_signs_in_and_greets_by_name(browser, demo_passwords):
    with start_server("jwt") as server:
        page = open_page(browser, server)
        page.get_by_text("sign in first").wait_for()
        assert not page.get_by_role("textbox", name="Room").is_visible()  # rooms are the chat stage's
        sign_in(page, "alice", demo_passwords["alice"])
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_text("Authenticated WebSocket connected").wait_for()
        say(page, "hi")
        page.get_by_text("Hello alice, you sent: hi").wait_for()
        screenshot(page, "jwt")


def test_echo_stage_needs_no_sign_in(browser):
    with start_server("echo") as server:
        page = open_page(browser, server)
        assert not page.get_by_role("textbox", name="Username").is_visible()
        page.get_by_text("no sign-in").wait_for()
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_text("WebSocket connected").wait_for()
        say(page, "hello")
        page.get_by_text("You said: hello").wait_for()
        screenshot(page, "echo")


def test_keyboard_only_at_200_percent_zoom(browser, demo_passwords):
    """Every control is reachable with Tab and works with Enter; nothing overflows sideways."""
    with start_server("chat") as server:
        page = open_page(browser, server, viewport={"width": 640, "height": 720}, device_scale_factor=2)
        page.evaluate("document.body.style.zoom = '200%'")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "username"
        page.keyboard.type("bob")
        page.keyboard.press("Tab")
        page.keyboard.type(demo_passwords["bob"])
        page.keyboard.press("Enter")
        page.get_by_text("Signed in as bob.").wait_for()
        assert page.evaluate("document.activeElement.id") == "room"
        page.keyboard.press("Enter")  # submits the connection form
        page.get_by_role("status").filter(has_text="connected to room global_chat").wait_for()
        assert page.evaluate("document.activeElement.id") == "message"
        page.keyboard.type("typed, not clicked")
        page.keyboard.press("Enter")
        page.get_by_text("bob: typed, not clicked").wait_for()
        for field in ("Username", "Password", "Room", "Message"):  # each input has its label
            assert page.get_by_label(field, exact=True).count() == 1
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        screenshot(page, "keyboard-200-percent")


def run_all_cells(page, attempts=3):
    """Run → Run All Cells. Clicked while the kernel is still connecting, the click is lost,
    so check that the first code cell got an execution count, and click again if not."""
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _ in range(attempts):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if re.search(r"\[[0-9*]+\]", first_prompt.inner_text()):
                return
            time.sleep(0.25)
    raise AssertionError("JupyterLab did not start running the cells")


@pytest.mark.timeout(240)
def test_jupyterlab_runs_notebook_01_in_the_browser(browser, tmp_path):
    # JupyterLab renders only the cells on screen; render them all so outputs can be found.
    settings = tmp_path / "lab-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    # Never write the run's outputs into the committed notebook.
    (settings / "docmanager-extension").mkdir(parents=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "01_echo_consumer.ipynb"
    shipped = notebook.read_bytes()
    with running_lab("browser-test", env={"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings")}) as (url, _):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{url}/lab/tree/notebooks/01_echo_consumer.ipynb?token=browser-test")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        page.locator(".jp-StatusBar-TextItem").filter(has_text="Idle").first.wait_for()
        run_all_cells(page)
        try:
            page.locator(".jp-OutputArea-output").filter(has_text="To stop them: stop_all()").wait_for(timeout=120_000)
        except Exception:
            screenshot(page, "jupyterlab-notebook-01-failed")
            raise
        reply = page.locator(".jp-OutputArea-output").filter(has_text="You said: hello, websocket").first
        reply.scroll_into_view_if_needed()
        screenshot(page, "jupyterlab-notebook-01")
        assert reply.is_visible()
        assert (
            page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            .filter(has_text="Error")
            .count()
            == 0
        )
        page.close()
    assert notebook.read_bytes() == shipped, "JupyterLab saved the notebook during the test"


@pytest.mark.timeout(180)
def test_page_and_socket_work_through_jupyter_server_proxy(browser, demo_passwords):
    """As on JupyterHub/Binder: the browser reaches the server only via Jupyter's own URL."""
    with running_lab("proxy-test") as (url, _), start_server("chat") as server:
        page = browser.new_context().new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{url}/lab?token=proxy-test")  # Jupyter's login cookie
        page.goto(f"{url}/proxy/{server.port}/test-ws/")
        sign_in(page, "alice", demo_passwords["alice"])
        join(page, "proxied")
        say(page, "through the proxy")
        page.get_by_text("alice: through the proxy").wait_for()
        screenshot(page, "through-jupyter-server-proxy")
        assert "/proxy/" in page.url


@contextlib.contextmanager
def framing_site(host: str, framed_url: str):
    """A page on another origin (``host``, any free port) that shows ``framed_url`` in an iframe."""
    html = f'<!DOCTYPE html><title>framing</title><iframe src="{framed_url}" width="800" height="600"></iframe>'

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    site = http.server.ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def test_test_page_may_be_framed_by_local_pages_only(browser):
    """JupyterLab (another local port) may embed the page; any other origin may not."""
    with start_server("echo") as server:
        page = browser.new_context().new_page()
        page.set_default_timeout(WAIT_MS)
        with framing_site("127.0.0.1", server.url("/test-ws/")) as local_site:
            page.goto(local_site)
            page.frame_locator("iframe").get_by_text("WebSocket test page").wait_for()
        with framing_site("127.0.0.2", server.url("/test-ws/")) as foreign_site:  # another origin
            page.goto(foreign_site)
            time.sleep(1.5)
            assert page.frame_locator("iframe").get_by_text("WebSocket test page").count() == 0


@pytest.mark.parametrize("stage", ["echo", "jwt", "chat"])
@pytest.mark.parametrize("width", [700, 1100])
def test_the_page_shows_the_conversation_inside_a_notebook_frame(browser, demo_passwords, stage, width):
    """Embedded by test_page() (520 px high), the conversation is in view without scrolling."""
    from workbook.notebook import TEST_PAGE_HEIGHT

    with start_server(stage) as server:
        page = open_page(browser, server, viewport={"width": width, "height": TEST_PAGE_HEIGHT})
        if stage != "echo":
            sign_in(page, "alice", demo_passwords["alice"])
        page.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_role("status").filter(has_text="connected").wait_for()
        for number in range(3):
            say(page, f"line {number}")
        page.locator("#log li").filter(has_text="line 2").last.wait_for()
        height, view, log_bottom = page.evaluate(
            "[document.documentElement.scrollHeight, innerHeight,"
            " document.getElementById('log').getBoundingClientRect().bottom]"
        )
        screenshot(page, f"frame-{stage}-{width}")
        assert height <= view, f"the page scrolls inside its frame ({height} > {view} px)"
        assert log_bottom <= view
