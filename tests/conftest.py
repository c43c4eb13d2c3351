"""Shared test set-up: a private data folder, Django in-process, live servers per stage.

Every test run gets its own SQLite database and secret key (a temp folder), so
two runs side by side never collide, and nothing is written to the checkout.
"""

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_DATA_DIR = Path(tempfile.mkdtemp(prefix="workbook-tests-"))


def pytest_configure(config):
    os.environ["WORKBOOK_DATA_DIR"] = str(_DATA_DIR)
    os.environ["WORKBOOK_FAST_PASSWORD_HASHER"] = "1"
    os.environ.pop("WORKBOOK_REDIS_URL", None)
    # A learner's machine does not have it (this one may): whatever relies on it must set it.
    os.environ.pop("PYTHONUNBUFFERED", None)
    # Jupyter writes to ~/.local/share/jupyter unless told otherwise.
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        os.environ[name] = str(_DATA_DIR / name.lower())
    from workbook.django_env import prepare_database

    prepare_database(stdout=io.StringIO())


def pytest_terminal_summary(terminalreporter):
    """Each notebook's headless time (kernel start included), when the notebooks ran."""
    import sys

    timings = getattr(sys.modules.get("test_notebooks"), "NOTEBOOK_SECONDS", {})
    if timings:
        terminalreporter.section(
            "notebook times (headless, kernel start included, one after another as a learner runs them)"
        )
        for name, seconds in timings.items():
            terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
        terminalreporter.write_line(f"{sum(timings.values()):6.1f} s  all {len(timings)} notebooks")


def pytest_sessionfinish(session, exitstatus):
    from workbook.processes import processes_tagged, stop_all

    stop_all()
    mine = [pid for pid in processes_tagged("") if _started_by_this_run(pid)]
    if mine:
        print(f"\nERROR: processes started by this test run are still running: {mine}")
        session.exitstatus = 1
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


def _started_by_this_run(pid: int) -> bool:
    from workbook.processes import TAG_VARIABLE

    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"WORKBOOK_DATA_DIR={_DATA_DIR}".encode() in environ and any(
        item.startswith(TAG_VARIABLE.encode()) for item in environ
    )


@pytest.fixture(scope="session")
def echo_server():
    from workbook.server import start_server

    with start_server("echo") as server:
        yield server


@pytest.fixture(scope="session")
def jwt_server():
    from workbook.server import start_server

    with start_server("jwt") as server:
        yield server


@pytest.fixture(scope="session")
def chat_server():
    from workbook.server import start_server

    with start_server("chat") as server:
        yield server


@pytest.fixture(scope="session")
def demo_passwords():
    from websocket_app.management.commands.create_demo_users import DEMO_USERS

    return DEMO_USERS


def make_user(**fields):
    """Create a throwaway user with a unique name (call from sync code only)."""
    import uuid

    from django.contrib.auth import get_user_model

    username = fields.pop("username", f"user-{uuid.uuid4().hex[:8]}")
    return get_user_model().objects.create_user(username=username, password="pw", **fields)


@pytest.fixture
def tokens():
    """Tokens made in-process (same secret key as the live servers), by kind: the checker's
    set (alice, bob, carol, expired, refresh, inactive, garbage, missing) plus a deleted user's."""
    from asgiref.sync import async_to_sync
    from rest_framework_simplejwt.tokens import AccessToken

    from workbook.checker.checks import make_tokens

    deleted = make_user()
    deleted_token = str(AccessToken.for_user(deleted))
    deleted.delete()
    return {**async_to_sync(make_tokens)(), "deleted": deleted_token}


# --- Headless Chromium (Debian's, driven by Playwright; it cannot download a browser here) ---


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """Chromium for a test module: skipped with the reason where missing, failing in CI."""
    path = chromium_path()
    if path is None:
        reason = "no Chromium on this machine (Debian: apt install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; .ci/run should have installed it")
        pytest.skip(reason)
    from helpers import CHROMIUM_FLAGS  # here, not at the top: helpers imports Django (configured first)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
