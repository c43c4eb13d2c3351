"""Small helpers shared by the tests."""
import contextlib
import os
import re
import subprocess
import sys
import time

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

from workbook.checker.sockets import ORIGIN_HEADERS  # noqa: F401  (the tests use it too)


def application_for(stage: str):
    """The websocket side of asgi.py for one stage, for in-process communicator tests."""
    from websocket_app.routing import websocket_urlpatterns_for

    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns_for(stage))))


def communicator(stage: str, path: str = "/ws/chat/", headers=ORIGIN_HEADERS):
    return WebsocketCommunicator(application_for(stage), path, headers=headers)


@contextlib.contextmanager
def running_lab(token: str, env: dict | None = None, timeout: float = 90.0,
                python: str = sys.executable, cwd=None):
    """``python -m workbook lab`` on a free port; yields ``(url, output_lines)``, stops it after.

    ``python`` and ``cwd`` run it as a learner would elsewhere (e.g. python3.11 in a fresh clone).
    """
    lab = subprocess.Popen(
        [python, "-m", "workbook", "lab", "--no-browser", "--ServerApp.port=0",
         f"--IdentityProvider.token={token}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
        env={**os.environ, **(env or {})})
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
