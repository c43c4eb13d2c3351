"""Start the board's daphne process from Python: the CLI, the notebook, tests and the bench.

board = start_board(port=0)       # a free port; returns once the board answers
board.page_url                    # http://127.0.0.1:41234/board/?key=…
board.stop()
"""

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import PROJECT_DIR, data_dir
from ..processes import GuardedProcess, new_tag, start_guarded
from ..server import (
    LISTENING,
    PortInUseError,
    ServerStartError,
    check_port_free,
    daphne_command,
    server_environment,
)

APPLICATION = "workshop.asgi:application"
INSTRUCTOR_FILE = "board-instructor.json"  # the last board's code and key, reused on restart


@dataclass(eq=False)
class Board(GuardedProcess):
    host: str = "127.0.0.1"
    port: int = 0
    code: str = ""
    key: str = field(default="", repr=False)
    public_host: str = ""

    @property
    def http_url(self) -> str:
        return f"http://{self.public_host or self.host}:{self.port}/"

    def url(self, path: str = "/") -> str:
        return self.http_url + path.lstrip("/")

    @property
    def page_url(self) -> str:
        return f"{self.http_url}board/?key={self.key}"

    @property
    def state_url(self) -> str:
        return f"{self.http_url}board/api/state/?key={self.key}"

    @property
    def join_command(self) -> str:
        return f'python -m workbook join {self.http_url} --code {self.code} --name "YOUR NAME"'

    def __str__(self) -> str:
        return f"workshop board {self.code} on {self.http_url} ({'running' if self.running else 'stopped'})"


def remembered_code_and_key(directory: Path | None = None) -> tuple[str | None, str | None]:
    try:
        saved = json.loads((Path(directory or data_dir()) / INSTRUCTOR_FILE).read_text())
        return saved["code"], saved["key"]
    except (OSError, ValueError, KeyError):
        return None, None


def remember_code_and_key(code: str, key: str, directory: Path | None = None) -> None:
    directory = Path(directory or data_dir())
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / INSTRUCTOR_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"code": code, "key": key}, handle)


def start_board(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    code: str | None = None,
    key: str | None = None,
    layer: str = "memory",
    redis_url: str | None = None,
    database: Path | None = None,
    public_host: str = "",
    extra_hosts: tuple = (),
    env: dict | None = None,
    timeout: float = 30.0,
) -> Board:
    """Start a board; ``code``/``key`` default to new ones (``workshop.rules``)."""
    sys.path.insert(0, str(PROJECT_DIR)) if str(PROJECT_DIR) not in sys.path else None
    from workshop.rules import is_valid_code, new_code, new_key, normalise_code

    code = normalise_code(code) if code else new_code()
    if not is_valid_code(code):
        raise ValueError(
            f"{code!r} is not a usable workshop code: letters and digits, "
            "optionally two parts joined by '-', like KITE-4821"
        )
    key = key or new_key()
    check_port_free(host, port)
    if layer != "memory" and not redis_url:
        from ..redis_server import shared_redis_url

        redis_url = shared_redis_url()
    board_env = server_environment("chat", layer, redis_url)
    board_env.update(
        {
            "DJANGO_SETTINGS_MODULE": "workshop.settings",
            "WORKBOOK_BOARD_CODE": code,
            "WORKBOOK_BOARD_KEY": key,
            "WORKBOOK_BOARD_HOSTS": ",".join(h for h in (public_host, *extra_hosts) if h),
        }
    )
    if database is not None:
        board_env["WORKBOOK_BOARD_DB"] = str(database)
    board_env.update(env or {})
    tag = new_tag("daphne-board")
    process, log_path = start_guarded(
        daphne_command(host, port, APPLICATION),
        env=board_env,
        cwd=PROJECT_DIR,
        log_dir=data_dir() / "logs",
        log_prefix="daphne-board",
        tag=tag,
    )
    board = Board(process, log_path, tag, host=host, port=port, code=code, key=key, public_host=public_host)
    try:
        board.port = _wait_until_serving(board, timeout)
    except BaseException:  # also KeyboardInterrupt: never leave a half-started board
        board.stop()
        raise
    return board


def _wait_until_serving(board: Board, timeout: float) -> int:
    """daphne logs its port once listening; the health URL answers once Django is ready."""
    import httpx

    deadline = time.monotonic() + timeout
    port = None
    while True:
        if port is None:
            match = LISTENING.search(board.log())
            port = match and int(match.group(1))
        if port is not None:
            try:
                local = "127.0.0.1" if board.host in ("0.0.0.0", "") else board.host
                if httpx.get(f"http://{local}:{port}/board/api/health/", timeout=2).status_code == 200:
                    return port
            except httpx.HTTPError:
                pass
        if not board.running:
            if "Address already in use" in board.log():
                raise PortInUseError(
                    f"port {board.port} on {board.host} is already in use: "
                    "stop the program using it or choose another port (0 picks a free one)"
                )
            raise ServerStartError(f"the board exited during start-up. Its log ends with:\n{board.log_tail()}")
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"the board did not start in {timeout:.0f} s. Its log ends with:\n{board.log_tail()}"
            )
        time.sleep(0.03)
