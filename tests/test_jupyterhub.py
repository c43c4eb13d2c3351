"""Notebooks 00–05 on a real JupyterHub, for a learner who never opened a terminal.

A real hub (JupyterHub + configurable-http-proxy from npm) on 127.0.0.1, reached by
Chromium under a public host name (``hub.example.test``, mapped by a host-resolver rule)
with no ``public_url`` and no workbook variable: the single-user server runs from an
environment with a fresh clone installed, and nobody ran ``python -m workbook setup``.
Each notebook is run with Run All in JupyterLab; afterwards the embedded test page of 01–03 still
talks to the server through the hub's proxy, and a foreign Origin is refused there.

Without Node's configurable-http-proxy or Chromium the tests skip with the reason; in CI
(where .ci/run installs both) they fail instead.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import CHROMIUM_FLAGS, environment_with, fresh_clone, learner_env

from workbook.processes import new_tag, processes_with, start_guarded, stop_guarded

PUBLIC_HOST = "hub.example.test"
PASSWORD = "hub-test-password"
HUB_CHROMIUM_FLAGS = [*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {PUBLIC_HOST} 127.0.0.1"]
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook on screen
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"


def missing_tool() -> str | None:
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is missing (npm install -g configurable-http-proxy)"
    if shutil.which("chromium") is None:
        return "no Chromium on this machine (Debian: apt install chromium)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


HUB_CONFIG = """
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.pid_file = {pid_file!r}
c.JupyterHub.db_url = "sqlite:///{folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {cookie_file!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {home!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.notebook_dir = {clone!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# The single-user server gets only what JupyterHub sets (plus PATH and the like): no
# WORKBOOK_* or DJANGO_* variable, and no public_url either.
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL"]
"""


@contextlib.contextmanager
def running_hub(folder: Path, clone: Path, env_dir: Path):
    """JupyterHub on a free port; yields its public port. Stops it, its proxy and servers."""
    port = free_port()
    home = folder / "home-alice"
    home.mkdir()
    # JupyterLab renders only the cells on screen by default; render them all, and never save.
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    (settings / "docmanager-extension").mkdir(parents=True)
    (settings / "docmanager-extension" / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    config = folder / "jupyterhub_config.py"
    config.write_text(
        HUB_CONFIG.format(
            port=port,
            hub_port=free_port(),
            api_port=free_port(),
            pid_file=str(folder / "proxy.pid"),
            folder=folder,
            cookie_file=str(folder / "cookie_secret"),
            password=PASSWORD,
            home=str(home),
            singleuser=str(env_dir / "bin" / "jupyterhub-singleuser"),
            clone=str(clone),
        )
    )
    env = {**learner_env(), "PATH": f"{env_dir / 'bin'}{os.pathsep}{learner_env()['PATH']}"}
    # Under the workbook's guard: if this test run dies, the hub (and so its proxy, the
    # single-user server and its kernels) is stopped all the same.
    hub, log_path = start_guarded(
        [str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f", str(config)],
        env=env,
        cwd=folder,
        log_dir=folder,
        log_prefix="jupyterhub",
        tag=new_tag("jupyterhub"),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert hub.poll() is None, "JupyterHub exited:\n" + log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterHub did not start:\n" + log_path.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/hub/api", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        yield port, home
    finally:
        stop_guarded(hub, timeout=30)  # the hub stops its single-user server and its proxy


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    reason = missing_tool()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run should have installed it")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("hub")
    clone = fresh_clone(folder / "clone")
    env_dir = environment_with(clone, folder / "singleuser-env")
    with running_hub(folder, clone, env_dir) as (port, home):
        yield {"port": port, "clone": clone, "home": home, "folder": folder}
    # Everything the hub's learner started — servers, kernels, daphne, guards — is gone.
    deadline = time.monotonic() + 15
    while processes_with("HOME", str(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with("HOME", str(home)) == [], "processes of the hub's user outlived the hub"


@pytest.fixture(scope="module")
def learner_page(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=HUB_CHROMIUM_FLAGS
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        base = f"http://{PUBLIC_HOST}:{hub['port']}"
        page.goto(f"{base}/hub/login")
        page.locator("#username_input").fill("alice")
        page.locator("#password_input").fill(PASSWORD)
        page.locator("#login_submit").click()
        page.wait_for_url(re.compile(r".*/user/alice/lab.*"), timeout=120_000)
        yield page, base
        browser.close()


def run_all(page, base: str, notebook: str):
    # ?reset: a workspace with only this notebook open (not the ones of earlier tests)
    page.goto(f"{base}/user/alice/lab/tree/notebooks/{notebook}?reset")
    page.locator(f"{NOTEBOOK} .jp-CodeCell").first.wait_for()
    page.locator(".jp-StatusBar-TextItem").filter(has_text="Idle").first.wait_for()
    prompts = page.locator(f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt")
    for _attempt in range(3):  # a click while the kernel is still connecting can be lost
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        with contextlib.suppress(AssertionError):
            wait_for(lambda: re.search(r"\[[0-9*]+\]", prompts.first.inner_text()), 15, "")
            break
    # Run All stops at the first error (except in cells tagged raises-exception): it went
    # through without one when every code cell has its number.
    wait_for(
        lambda: all(re.fullmatch(r"\[\d+\]:", text.strip()) for text in prompts.all_inner_texts()),
        180,
        f"{notebook}: Run All did not finish; prompts: {prompts.all_inner_texts()}",
    )


def wait_for(condition, seconds: float, message: str):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.25)


def embedded_page(page):
    frame_element = page.locator(f"{NOTEBOOK} .jp-OutputArea-output iframe").last
    frame_element.scroll_into_view_if_needed()
    src = frame_element.get_attribute("src")
    assert re.fullmatch(r"/user/alice/proxy/\d+/test-ws/", src), src
    return page.frame_locator(f"{NOTEBOOK} .jp-OutputArea-output iframe").last, src


def chat_in_frame(frame, stage: str, text: str, expected: str):
    if stage != "echo":
        frame.get_by_role("textbox", name="Username").fill("alice")
        frame.get_by_label("Password", exact=True).fill("alice-pass-123")
        frame.get_by_role("button", name="Sign in", exact=True).click()
        frame.get_by_text("Signed in as alice.").wait_for()
    frame.get_by_role("button", name="Connect", exact=True).click()
    frame.get_by_role("status").filter(has_text="connected").wait_for()
    frame.get_by_role("textbox", name="Message").fill(text)
    frame.get_by_role("textbox", name="Message").press("Enter")
    frame.locator("#log li").filter(has_text=expected).first.wait_for()


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "notebook, stage, expected",
    [
        ("01_echo_consumer.ipynb", "echo", "You said: hello from the hub"),
        ("02_jwt_consumer.ipynb", "jwt", "Hello alice, you sent: hello from the hub"),
        ("03_group_chat.ipynb", "chat", "alice: hello from the hub"),
    ],
)
def test_run_all_on_the_hub_then_the_page_still_talks(learner_page, notebook, stage, expected):
    page, base = learner_page
    try:
        run_all(page, base, notebook)
        frame, _src = embedded_page(page)
        chat_in_frame(frame, stage, "hello from the hub", expected)
    except Exception:
        screenshot(page, f"hub-{stage}-failed")
        raise
    screenshot(page, f"hub-{stage}")


@pytest.mark.timeout(300)
def test_a_foreign_origin_is_refused_through_the_hub(learner_page, hub):
    """The hub's own host is accepted (above); a page of another site may not open the socket."""
    import websockets
    from websockets.sync.client import connect

    page, base = learner_page
    run_all(page, base, "01_echo_consumer.ipynb")
    _frame, src = embedded_page(page)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    url = f"ws://127.0.0.1:{hub['port']}{src.replace('test-ws/', 'ws/chat/')}"

    def handshake(origin: str):
        # The sync client: Playwright's sync API already runs an event loop in this thread.
        try:
            with connect(url, origin=origin, additional_headers={"Cookie": cookies}, open_timeout=10) as socket_:
                return json.loads(socket_.recv(timeout=5))
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    # Same site (Origin = the Host this client sends): through the hub, to the consumer.
    assert (handshake(f"http://127.0.0.1:{hub['port']}")) == {"message": "WebSocket connected"}
    assert (handshake("http://evil.example")) == 403
    assert (handshake(f"http://{PUBLIC_HOST}.evil.example")) == 403


@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook", ["00_setup_and_ground_rules.ipynb", "04_scaling_out.ipynb", "05_hardening.ipynb"])
def test_the_other_chapters_run_all_on_the_hub(learner_page, notebook):
    """00, 04 (its own Redis included) and 05 go through Run All without an error cell too."""
    page, base = learner_page
    try:
        run_all(page, base, notebook)
    except Exception:
        screenshot(page, f"hub-{notebook[:2]}-failed")
        raise
