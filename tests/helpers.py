"""Small helpers shared by the tests."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

from workbook.checker.sockets import ORIGIN_HEADERS  # noqa: F401  (the tests use it too)

REPO = Path(__file__).resolve().parent.parent  #: the checkout the tests run in
#: Debian's Chromium under Playwright: headless, no sandbox (root in containers), no background traffic.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def wait_until(condition, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def run_workbook(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m workbook ARGS`` in this checkout, as a learner types it; ``env`` adds to ours."""
    return subprocess.run(
        [sys.executable, "-m", "workbook", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def application_for(stage: str):
    """The websocket side of asgi.py for one stage, for in-process communicator tests."""
    from websocket_app.routing import websocket_urlpatterns_for

    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns_for(stage))))


def communicator(stage: str, path: str = "/ws/chat/", headers=ORIGIN_HEADERS):
    return WebsocketCommunicator(application_for(stage), path, headers=headers)


@contextlib.contextmanager
def running_lab(token: str, env: dict | None = None, timeout: float = 90.0, python: str = sys.executable, cwd=None):
    """``python -m workbook lab`` on a free port; yields ``(url, output_lines)``, stops it after.

    ``python`` and ``cwd`` run it as a learner would elsewhere (e.g. python3.11 in a fresh clone).
    """
    lab = subprocess.Popen(
        [python, "-m", "workbook", "lab", "--no-browser", "--ServerApp.port=0", f"--IdentityProvider.token={token}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    try:
        url, output = None, []
        deadline = time.monotonic() + timeout
        while url is None and time.monotonic() < deadline:
            line = lab.stdout.readline()
            if not line:
                break
            output.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+)/lab", line)
            url = match and match.group(1)
        assert url, "JupyterLab did not start:\n" + "".join(output)
        yield url, output
    finally:
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()


# --- A learner's fresh clone -------------------------------------------------------------


def learner_env() -> dict:
    """The shell of a learner: no test data folder, no venv of ours, nothing activated."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("WORKBOOK_", "VIRTUAL_ENV", "PYTEST", "JUPYTER_", "IPYTHONDIR"))
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env["HOME"] = os.environ.get("HOME", "/root")  # uv's cache stays warm
    env["WORKBOOK_FAST_PASSWORD_HASHER"] = "1"
    return env


def fresh_clone(destination: Path) -> Path:
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone"],
    ):
        subprocess.run(command, cwd=destination, check=True, capture_output=True)
    return destination


def environment_with(clone: Path, env_dir: Path) -> Path:
    """A Python environment with ``clone`` installed (its test extra too), as conda from
    environment.yml, repo2docker or a hub's image would make it. Returns its folder."""
    subprocess.run([learner_env_python(), "-m", "venv", str(env_dir)], check=True)
    uv = shutil.which("uv") or str(Path(sys.prefix) / "bin" / "uv")
    install = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(env_dir / "bin" / "python"),
            "--compile-bytecode",
            "-e",
            f"{clone}[test]",
        ],
        capture_output=True,
        text=True,
        env=learner_env(),
        cwd=env_dir.parent,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return env_dir


def learner_env_python() -> str:
    """The bare Python 3.11 a learner starts with (not this test run's venv)."""
    return shutil.which("python3.11", path=learner_env()["PATH"]) or sys._base_executable
