"""Start one stage's daphne server from Python: in a notebook, a test or the shell.

    server = start_server("echo")     # waits until a websocket handshake succeeds
    server.ws_url                     # 'ws://127.0.0.1:41234/ws/chat/'
    server.stop()

or ``with start_server("chat") as server: ...``. The server runs in its own
process under ``workbook.guard``, so it stops with its owner however the owner
ends (interrupt, kernel restart, SIGKILL). It runs daphne through
``workbook.warm_daphne``: the same command line and application, with the work of a
fresh server's first seconds done before it listens (no warm-up pause).
"""

import os
import re
import socket
import sys
import time
from dataclasses import dataclass

from .paths import PROJECT_DIR, REPO_DIR, data_dir
from .processes import GuardedProcess, new_tag, start_guarded

STAGES = ("echo", "jwt", "chat")
LAYERS = ("memory", "redis", "redis-pubsub")
DEFAULT_APPLICATION = "websocket_project.asgi:application"
LISTENING = re.compile(r"Listening on TCP address [\w.:\[\]-]+:(\d+)")


class ServerStartError(RuntimeError):
    """The server did not come up; the message says why and what to do."""


class PortInUseError(ServerStartError):
    pass


@dataclass(eq=False)
class Server(GuardedProcess):
    """A running daphne process serving one stage of the tutorial project."""

    stage: str = "echo"
    host: str = "127.0.0.1"
    port: int = 0
    layer: str = "memory"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws/chat/"

    @property
    def origin(self) -> str:
        """The Origin a page served by this server would send."""
        return self.http_url

    def url(self, path: str = "/") -> str:
        return self.http_url + "/" + path.lstrip("/")

    def __str__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"{self.stage} server on {self.http_url} ({state}, {self.layer} layer)"


def server_environment(
    stage: str, layer: str = "memory", redis_url: str | None = None, extra_pythonpath: list | None = None
) -> dict:
    """The environment a daphne process of the tutorial project needs."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}: use one of {', '.join(LAYERS)}")
    pythonpath = [*(str(p) for p in extra_pythonpath or ()), str(PROJECT_DIR), str(REPO_DIR)]
    if os.environ.get("PYTHONPATH"):
        pythonpath.append(os.environ["PYTHONPATH"])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "DJANGO_SETTINGS_MODULE": "websocket_project.settings",
        "WORKBOOK_STAGE": stage,
        "WORKBOOK_CHANNEL_LAYER": layer,
        # The log is a file: without this, daphne's access log (stdout) reaches it in 8 KiB
        # blocks, and "what did the server see?" shows nothing for minutes.
        "PYTHONUNBUFFERED": "1",
    }
    # A kernel may have set this for its own ORM cells; a server must not inherit it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if redis_url:
        env["WORKBOOK_REDIS_URL"] = redis_url
    return env


def check_port_free(host: str, port: int) -> None:
    """Raise ``PortInUseError`` with advice if ``host:port`` cannot be bound."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # Like daphne (Twisted) itself: connections in TIME_WAIT from a server that just
        # stopped on this port do not count as "in use", only a listening socket does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(
                f"port {port} on {host} is already in use ({error.strerror}). "
                f"Stop the program using it (maybe a server from an earlier run) "
                f"or choose another port; port 0 picks a free one."
            ) from None


def start_server(
    stage: str = "echo",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    layer: str = "memory",
    redis_url: str | None = None,
    application: str = DEFAULT_APPLICATION,
    extra_pythonpath: list | None = None,
    env: dict | None = None,
    timeout: float = 30.0,
    wait_for_handshake: bool = True,
) -> Server:
    """Start daphne for ``stage`` and return once a websocket handshake succeeds.

    ``port=0`` (the default) lets the operating system pick a free port, so
    several servers, notebooks or test runs never collide. A Redis layer without
    ``redis_url`` uses ``WORKBOOK_REDIS_URL`` or a private Redis shared by every
    server this process starts.
    """
    server = launch_server(
        stage,
        host=host,
        port=port,
        layer=layer,
        redis_url=redis_url,
        application=application,
        extra_pythonpath=extra_pythonpath,
        env=env,
    )
    wait_until_ready(server, timeout, wait_for_handshake)
    return server


def launch_server(
    stage: str = "echo",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    layer: str = "memory",
    redis_url: str | None = None,
    application: str = DEFAULT_APPLICATION,
    extra_pythonpath: list | None = None,
    env: dict | None = None,
    guard: bool = True,
) -> Server:
    """Start daphne's process and return at once; ``wait_until_ready`` waits for it.

    ``guard=False`` only for an owner that stays in charge and stops the server
    itself (``serve``): see ``processes.start_guarded``.
    """
    check_port_free(host, port)
    if layer != "memory" and not redis_url:
        from .redis_server import shared_redis_url

        redis_url = shared_redis_url()
    server_env = server_environment(stage, layer, redis_url, extra_pythonpath)
    server_env.update(env or {})
    command = daphne_command(host, port, application)
    tag = new_tag(f"daphne-{stage}")
    process, log_path = start_guarded(
        command,
        env=server_env,
        cwd=PROJECT_DIR,
        log_dir=data_dir() / "logs",
        log_prefix=f"daphne-{stage}",
        tag=tag,
        guard=guard,
    )
    return Server(process, log_path, tag, stage=stage, host=host, port=port, layer=layer)


def daphne_command(host: str, port: int, application: str) -> list[str]:
    """daphne with the start-up work done before it listens (``warm_daphne``), its access log on stdout."""
    return [sys.executable, "-m", "workbook.warm_daphne", "-b", host, "-p", str(port), "--access-log", "-", application]


def wait_until_ready(server: Server, timeout: float = 30.0, wait_for_handshake: bool = True) -> None:
    """Return once ``server`` listens and (unless told not to) accepts a websocket handshake.

    A server that does not come up is stopped, and ``ServerStartError`` says why.
    """
    try:
        from websockets.sync.client import connect  # noqa: F401  (imported while daphne starts)

        server.port = _wait_until_listening(server, timeout)
        if wait_for_handshake:  # False only for applications that refuse every handshake
            _wait_for_handshake(server, timeout)
    except BaseException:  # also KeyboardInterrupt: never leave a half-started server
        server.stop()
        raise


def _deadline_passed(deadline: float, server: Server, what: str) -> None:
    if time.monotonic() > deadline:
        raise ServerStartError(
            f"the {server.stage} server did not {what} in time. Its log ends with:\n{server.log_tail()}"
        )


def _raise_if_exited(server: Server) -> None:
    if server.process.poll() is None:
        return
    log = server.log()
    if "Address already in use" in log:
        raise PortInUseError(
            f"port {server.port} on {server.host} is already in use. Stop the program using "
            f"it or choose another port; port 0 picks a free one."
        )
    raise ServerStartError(
        f"the {server.stage} server exited during start-up (code {server.process.returncode}). "
        f"Its log ends with:\n{server.log_tail()}"
    )


def _wait_until_listening(server: Server, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        match = LISTENING.search(server.log())
        if match:
            return int(match.group(1))
        _raise_if_exited(server)
        _deadline_passed(deadline, server, "start listening")
        time.sleep(0.005)  # reading a short log is cheap; every ms here delays "ready"


def _wait_for_handshake(server: Server, timeout: float) -> None:
    """Listening is not enough: Django may still be importing. Wait for a real handshake."""
    from websockets.sync.client import connect
    from websockets.typing import Origin

    deadline = time.monotonic() + timeout
    while True:
        try:
            with connect(server.ws_url, origin=Origin(server.origin), open_timeout=2):
                return
        except (OSError, TimeoutError) as error:  # refused or not answering yet
            last_error = error
        except Exception as error:  # e.g. an HTTP error from a broken application
            raise ServerStartError(
                f"the {server.stage} server refused the test handshake ({error}). "
                f"Its log ends with:\n{server.log_tail()}"
            ) from error
        _raise_if_exited(server)
        _deadline_passed(deadline, server, f"accept a websocket handshake ({last_error})")
        time.sleep(0.05)
