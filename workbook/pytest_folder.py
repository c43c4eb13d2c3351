"""Notebook 06 writes real test files and runs real pytest on them, in a subprocess.

    tests = TestFolder()                # a temp folder with pytest.ini and conftest.py
    %%writefile {tests}/test_echo.py    # (a notebook cell) the learner's test file
    tests.run("test_echo.py")           # pytest -q in a fresh process; a table of outcomes

Why a subprocess rather than running pytest inside the kernel (ipytest): the kernel
already runs an event loop, and pytest-asyncio needs to own the loop of each test;
a fresh process also imports your latest code and never leaves the kernel in a
half-torn-down state when a test hangs or crashes.
"""

import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from IPython.display import Code

from .paths import PROJECT_DIR, REPO_DIR, data_dir

PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
# A test that waits for a frame that never comes fails after this many seconds.
timeout = 10
"""

CONFTEST = '''\
"""Shared by every test file in this folder; pytest finds conftest.py on its own."""
import os

import django
import pytest

os.environ["DJANGO_SETTINGS_MODULE"] = "settings_for_tests"  # the file beside this one
django.setup()

from channels.routing import URLRouter  # noqa: E402  (needs Django set up)
from django.contrib.auth import get_user_model  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from websocket_app.routing import websocket_urlpatterns_for  # noqa: E402


def application(stage):
    """The websocket routes of one stage. (The Origin check of asgi.py is left out:
    notebooks 01 and 05 test it against a real server.)"""
    return URLRouter(websocket_urlpatterns_for(stage))


@pytest.fixture
def echo_app():
    return application("echo")


@pytest.fixture
def jwt_app():
    return application("jwt")


@pytest.fixture
def chat_app():
    return application("chat")


def access_token(username):
    """A real access token from simplejwt, signed with the project's key."""
    return str(AccessToken.for_user(get_user_model().objects.get(username=username)))


@pytest.fixture
def alice_token():
    return access_token("alice")


@pytest.fixture
def bob_token():
    return access_token("bob")
'''

# pytest-asyncio and pytest-timeout (pytest.ini uses both), and a quicker exit; see environment().
PLUGINS = ("-p", "pytest_asyncio.plugin", "-p", "pytest_timeout", "-p", "workbook.pytest_quick_exit")

SETTINGS_FOR_TESTS = '''\
"""The project's settings, with what tests change. conftest.py points Django here."""
from websocket_project.settings import *  # noqa: F403  (all the rest as in the project)

# In-process tests: every communicator of a test shares this process's in-memory layer.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# daphne's app only adds `manage.py runserver`. Tests call consumers directly or start daphne
# as a process of its own, so they need not import it (and Twisted): ~0.2 s less per run.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "daphne"]  # noqa: F405
'''

# Each run's process is started one run ahead: it imports pytest and the libraries conftest.py
# uses, then waits for pytest's arguments. It imports nothing of the project's or of yours: the
# run does that, fresh. TestFolder starts the next one as soon as a run begins, so it gets ready
# while that run works: ~0.3 s less per run.
READY_PROCESS = """\
import json
import sys

import pytest

try:  # (not the plugins themselves: pytest rewrites their asserts as it imports them)
    import _pytest.junitxml  # noqa: F401
    import django.http, django.test, jwt, websockets.asyncio.client  # noqa: F401
    import channels.auth, channels.generic.websocket, channels.routing, channels.testing  # noqa: F401
except ImportError:
    pass  # pytest says what is missing where a test needs it
line = sys.stdin.readline()
if not line:  # the notebook went away before asking for a run
    sys.exit(0)
sys.exit(pytest.main(json.loads(line)))
"""

SUMMARY = re.compile(r"^=* ?(?:\d+ \w+.* in [\d.]+s|no tests ran.*) ?=*$")
OutcomeRow = tuple[str, str, str]  # (outcome, test id, message)
COLOURS = {"PASSED": "#1a7f37", "FAILED": "#cf222e", "ERROR": "#9a6700", "SKIPPED": "#6e7781"}


@dataclass
class PytestRun:
    """What one pytest run said: each test's outcome and message, and the summary line."""

    command: list[str]
    returncode: int
    output: str
    seconds: float
    outcomes: list[OutcomeRow] = field(default_factory=list)

    @property
    def summary(self) -> str:
        lines = [line.strip("= ") for line in self.output.splitlines() if SUMMARY.match(line.strip())]
        return lines[-1] if lines else f"pytest exited with code {self.returncode}"

    def outcome(self, test_name: str) -> str:
        """``PASSED``/``FAILED``/... of the test called ``test_name``."""
        return self._find(test_name)[0]

    def message(self, test_name: str) -> str:
        return self._find(test_name)[2]

    def _find(self, test_name: str) -> OutcomeRow:
        for outcome in self.outcomes:
            if outcome[1].split("::")[-1] == test_name:
                return outcome
        raise KeyError(
            f"no test {test_name!r} in this run; tests: {[t for _, t, _ in self.outcomes]}."
            f" pytest said:\n{self.output[-2000:]}"
        )

    def __repr__(self) -> str:
        rows = [
            f"{outcome:8} {test}" + (f"\n         {message}" if message else "")
            for outcome, test, message in self.outcomes
        ]
        return "\n".join(rows + [f"pytest: {self.summary}"])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='text-align:left;color:{COLOURS.get(outcome, '#000')}'><b>{outcome}</b></td>"
            f"<td style='text-align:left'><code>{html.escape(test)}</code></td>"
            f"<td style='text-align:left'>{html.escape(message or '')}</td></tr>"
            for outcome, test, message in self.outcomes
        )
        return (
            f"<table><thead><tr><th>outcome</th><th style='text-align:left'>test</th>"
            f"<th style='text-align:left'>message</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p><code>pytest: {html.escape(self.summary)}</code></p>"
        )


def parse_report(report: Path) -> list[OutcomeRow]:
    """``(outcome, test id, message)`` for every test in pytest's JUnit XML report."""
    import xml.etree.ElementTree as ElementTree

    if not report.exists():  # pytest was stopped before it could write one
        return []
    outcomes = []
    for case in ElementTree.parse(report).iter("testcase"):
        test = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        outcome, message = "PASSED", ""
        for kind in ("error", "failure", "skipped"):
            found = case.find(kind)
            if found is not None:
                outcome = {"error": "ERROR", "failure": "FAILED", "skipped": "SKIPPED"}[kind]
                message = " ".join((found.get("message") or "").splitlines()[:2]).strip()
                break
        outcomes.append((outcome, test, message))
    return outcomes


def use_fast_hasher_for_demo_users(database: Path) -> None:
    """Store the demo users' passwords in a test database with Django's fast MD5 hasher.

    Django's default hasher costs ~0.6 s per login, on purpose (it slows down guessing). Tests
    that sign in or create users need not pay it: with ``WORKBOOK_FAST_PASSWORD_HASHER=1`` the
    project's settings use the MD5 hasher, and these hashes match it. Only this copy changes;
    the database and the servers of the notebooks keep the default hasher.
    """
    import sqlite3

    from django.contrib.auth.hashers import MD5PasswordHasher

    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    from websocket_app.management.commands.create_demo_users import DEMO_USERS

    hasher = MD5PasswordHasher()
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.executemany(
            "UPDATE auth_user SET password = ? WHERE username = ?",
            [(hasher.encode(password, hasher.salt()), username) for username, password in DEMO_USERS.items()],
        )


class UnexpectedOutcome(AssertionError):
    """A test did not end the way the notebook says it does."""


class TestFolder:
    """A temporary folder of test files with its own ``pytest.ini``, ``conftest.py``,
    ``settings_for_tests.py`` and a copy of the database (so tests never change the database
    the notebooks use)."""

    __test__ = False  # not a test class, although its name starts with "Test"

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="workbook-tests-"))
        (self.path / "pytest.ini").write_text(PYTEST_INI)
        (self.path / "conftest.py").write_text(CONFTEST)
        (self.path / "settings_for_tests.py").write_text(SETTINGS_FOR_TESTS)
        self.data = self.path / "data"
        self.data.mkdir()
        for name in ("db.sqlite3", "secret_key"):
            if (data_dir() / name).exists():
                shutil.copy2(data_dir() / name, self.data / name)
        if (self.data / "db.sqlite3").exists():
            use_fast_hasher_for_demo_users(self.data / "db.sqlite3")
        self._next: tuple[subprocess.Popen[str], dict[str, str]] | None = None
        self._stop_when_dropped: weakref.finalize | None = None
        self._start_next_process()

    def _start_next_process(self) -> None:
        """Start the process of the next run (see READY_PROCESS)."""
        env = self.environment()
        process = subprocess.Popen(
            [sys.executable, "-c", READY_PROCESS],
            cwd=self.path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._next = (process, env)
        # A folder dropped without remove() (its cell run again), or Python exiting, stops it too.
        if self._stop_when_dropped is not None:
            self._stop_when_dropped.detach()
        self._stop_when_dropped = weakref.finalize(self, process.kill)

    def _take_next_process(self) -> "subprocess.Popen[str]":
        """The waiting process, or a new one if it died (an interrupt) or the environment changed."""
        if self._next is None or self._next[0].poll() is not None or self._next[1] != self.environment():
            self._stop_next_process()
            self._start_next_process()
        assert self._next is not None
        process = self._next[0]
        self._start_next_process()  # it gets ready while this run works
        return process

    def _stop_next_process(self) -> None:
        if self._next is not None:
            self._next[0].kill()
            self._next[0].communicate()
            self._next = None

    def __str__(self) -> str:
        return str(self.path)

    def show(self, name: str) -> Code:
        """A file of the folder, highlighted."""
        language = "ini" if name.endswith(".ini") else "python"
        return Code((self.path / name).read_text(), language=language)

    def __format__(self, spec: str) -> str:
        return format(str(self.path), spec)

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "WORKBOOK_DATA_DIR": str(self.data),
            "COLUMNS": "200",
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), str(REPO_DIR)]),
            # Tests only (as in the workbook's own suite): the settings switch to a fast password
            # hasher, in pytest and in the servers the tests start; see use_fast_hasher_for_demo_users.
            "WORKBOOK_FAST_PASSWORD_HASHER": "1",
            # Load only the plugins pytest.ini relies on (named in run()), not every pytest plugin
            # installed in this environment (anyio's, platformdirs'...): ~0.2 s less per run.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # a kernel may have set it; tests must not
        return env

    def run(
        self,
        *files: str,
        expect: dict[str, str | tuple[str, ...]] | None = None,
        timeout: float = 60,
        options: tuple[str, ...] = (),
    ) -> PytestRun:
        """``python -m pytest -q`` on ``files`` in a fresh process (all files if none given).

        ``expect`` maps test names to the outcome the notebook promises (``"FAILED"``, or a
        tuple of allowed outcomes); anything else raises, so a changed behaviour is noticed.
        """
        report = self.path / ".report.xml"  # the outcomes, read back from pytest's JUnit XML
        report.unlink(missing_ok=True)
        arguments = [
            "-q",
            "--tb=short",
            "--color=no",
            "-p",
            "no:cacheprovider",
            *PLUGINS,
            "-W",
            "ignore::DeprecationWarning",
            f"--junitxml={report}",
            *options,
            *files,
        ]
        command = [sys.executable, "-m", "pytest", *arguments]  # what the waiting process runs
        process = self._take_next_process()
        started = time.monotonic()
        try:
            stdout, stderr = process.communicate(json.dumps(arguments) + "\n", timeout=timeout)
            output, code = stdout + stderr, process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            output = stdout + stderr + f"\n(pytest did not finish within {timeout} s and was stopped)"
            code = -1
        finally:
            if process.poll() is None:  # interrupted: never leave the run behind
                process.kill()
                process.communicate()
        run = PytestRun(command, code, output, time.monotonic() - started, parse_report(report))
        for name, allowed in (expect or {}).items():
            allowed = (allowed,) if isinstance(allowed, str) else tuple(allowed)
            if run.outcome(name) not in allowed:
                raise UnexpectedOutcome(
                    f"{name}: expected {' or '.join(allowed)}, got {run.outcome(name)}. pytest said:\n{output[-3000:]}"
                )
        return run

    def remove(self) -> None:
        self._stop_next_process()
        shutil.rmtree(self.path, ignore_errors=True)
