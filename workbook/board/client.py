"""An attendee's side of the board: joining, leaving, and reporting each check's outcome.

``report_outcome`` is called by every check. It must never slow a check down or
make it fail, so it only appends the report to a queue file and starts a sender
in the background (``workbook.board.sender``). The sender delivers the queue and
removes what the board acknowledged; whatever it cannot deliver stays queued for
the next check. All of it lives in the workbook's data folder (``.workbook/``).
"""

import datetime
import fcntl
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..paths import REPO_DIR, data_dir

CREDENTIALS = "board-attendee.json"
QUEUE = "board-queue.jsonl"
STATUS = "board-status.json"
MAX_QUEUED = 500  # a board down for a whole day of checks still fits
MESSAGE_CHARS = 200
PROBE_SECONDS = 0.01  # a refused connection answers within a millisecond; anything slower is the sender's
# Anything that looks like a path or a file name: outcomes never carry them to the board.
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\w.~-]*[/\\][\w./\\~-]*|[\w-]+\.(?:py|ipynb|toml|json|txt))")


class JoinError(RuntimeError):
    """Joining did not work; the message says why and what to do."""


def board_dir() -> Path:
    """Where an attendee's board files live: ``WORKBOOK_BOARD_DIR`` or ``.workbook/``."""
    return Path(os.environ.get("WORKBOOK_BOARD_DIR") or data_dir())


def base_url(url: str) -> str:
    """The board's root from any URL of it: ``http://host:8765/board/?key=…`` → ``http://host:8765/``."""
    parts = urlsplit(url.strip() if "://" in url else "http://" + url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JoinError(
            f"{url!r} is not a board URL: use the one your instructor shows, like http://192.168.1.20:8765/"
        )
    root_path = (parts.path + "/").split("/board/")[0]  # a proxy prefix before /board/ stays
    return urlunsplit((parts.scheme, parts.netloc, root_path.rstrip("/") + "/", "", ""))


# --- Joining and leaving -----------------------------------------------------------
def join(url: str, code: str, name: str, directory: Path | None = None) -> dict:
    """Join the workshop at ``url`` as ``name``; the credentials are kept under ``.workbook/``."""
    import httpx

    root = base_url(url)
    try:
        response = httpx.post(root + "board/api/join/", json={"code": code, "name": name}, timeout=10)
    except httpx.HTTPError as error:
        raise JoinError(
            f"cannot reach the board at {root} ({error}): check the URL and that the instructor's board is running"
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 201:
        detail = answer.get("detail") or f"the board answered HTTP {response.status_code}"
        raise JoinError(detail)
    credentials = {"url": root, "workshop": answer["workshop"], "name": answer["name"], "token": answer["token"]}
    directory = Path(directory or board_dir())
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CREDENTIALS
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token is a credential
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle)
    _clear_queue(directory)  # outcomes queued for an earlier workshop do not belong to this one
    print(
        f"Joined workshop {credentials['workshop']} as {credentials['name']}: "
        "from now on your checks appear on the instructor's board."
    )
    return credentials


def leave(directory: Path | None = None) -> bool:
    """Forget the board: checks stop reporting. False if no board was joined."""
    directory = Path(directory or board_dir())
    credentials = load_credentials(directory)
    (directory / CREDENTIALS).unlink(missing_ok=True)
    _clear_queue(directory)
    if credentials is None:
        print("Not joined to any workshop board.")
        return False
    print(f"Left workshop {credentials['workshop']}: your checks are no longer reported.")
    return True


def load_credentials(directory: Path | None = None) -> dict | None:
    try:
        return json.loads((Path(directory or board_dir()) / CREDENTIALS).read_text())
    except (OSError, ValueError):
        return None


# --- Reporting ---------------------------------------------------------------------
def report_outcome(outcome: object, directory: Path | None = None, background: bool = True) -> None:
    """Queue one check's outcome for the board and deliver it in the background.

    Never raises and never waits for the board: when nobody joined a board it
    returns at once; otherwise it appends to the queue and starts the sender —
    unless the board's machine refuses the connection outright (the board is
    stopped), which costs no sender at all. Prints one quiet line (on stderr)
    when earlier outcomes are still waiting.
    """
    try:
        directory = Path(directory or board_dir())
        if not (directory / CREDENTIALS).exists():
            return
        waiting = append_to_queue(directory, report_of(outcome))
        if not background:
            from .sender import send_queued

            send_queued(directory)
        elif board_refuses((load_credentials(directory) or {}).get("url", "")):
            write_status(directory, {"problem": "board unreachable: nothing listens at its address"})
        else:
            start_sender(directory)
        if waiting:
            print(
                f"workbook board: {waiting} earlier outcome(s) not delivered yet "
                f"({_last_problem(directory)}); they go with the next check the board answers.",
                file=sys.stderr,
                flush=True,
            )
    except Exception as error:  # the board is a bonus: a check never fails because of it
        print(f"workbook board: could not queue the outcome ({error})", file=sys.stderr)


def board_refuses(url: str) -> bool:
    """True when the board's machine refuses the connection at once (nothing listens).

    Only for an address given as an IP (no name lookup that could hang) and only
    within PROBE_SECONDS: anything slower or less clear is left to the sender.
    """
    parts = urlsplit(url)
    try:
        ipaddress.ip_address(parts.hostname or "")
        socket.create_connection((parts.hostname, parts.port or 80), timeout=PROBE_SECONDS).close()
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):
        return False
    return False


def write_status(directory: Path, result: dict) -> None:
    """What the last delivery attempt found: the next check's notice quotes it."""
    (directory / STATUS).write_text(json.dumps(result))


def report_of(outcome: object) -> dict:
    """What the board is told about a check: no code, no file contents, no paths."""
    get = outcome.get if isinstance(outcome, dict) else lambda name, default=None: getattr(outcome, name, default)
    status = get("status")
    return {
        "type": "outcome",
        "id": uuid.uuid4().hex,
        "exercise": str(get("exercise_id") or get("exercise")),
        "outcome": str(getattr(status, "value", status)),
        "seconds": round(float(get("seconds", 0) or 0), 2),
        "message": scrub(str(get("summary", "") or get("message", "") or "")),
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
    }


def scrub(message: str) -> str:
    """The first line of a message, with anything path-like replaced by ``…``."""
    lines = message.strip().splitlines()
    return _PATHLIKE.sub("…", lines[0] if lines else "")[:MESSAGE_CHARS]


def start_sender(directory: Path) -> None:
    """Start ``workbook.board.sender`` detached: the check's process may end at once.

    At a lower priority (``nice``) where there is one: the sender must not slow the
    learner's next check down, even on a busy machine.
    """
    nice = shutil.which("nice")
    command = [sys.executable, "-m", "workbook.board.sender", str(directory)]
    subprocess.Popen(
        ([nice, "-n", "10"] if nice else []) + command,
        cwd=REPO_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def _last_problem(directory: Path) -> str:
    try:
        return json.loads((directory / STATUS).read_text()).get("problem") or "board unreachable"
    except (OSError, ValueError):
        return "board unreachable"


# --- The queue on disk -------------------------------------------------------------
@contextmanager
def queue_lock(directory: Path) -> Iterator[None]:
    with open(directory / (QUEUE + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held for a file read or write only: microseconds
        yield


def read_queue(directory: Path) -> list:
    try:
        lines = (directory / QUEUE).read_text().splitlines()
    except FileNotFoundError:
        return []
    reports = []
    for line in lines:
        try:
            reports.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash: drop it, keep the rest
    return reports


def append_to_queue(directory: Path, report: dict) -> int:
    """Add ``report``; return how many were waiting before it."""
    with queue_lock(directory):
        waiting = read_queue(directory)
        if len(waiting) >= MAX_QUEUED:
            _write_queue(directory, waiting[-(MAX_QUEUED - 1) :])
        with open(directory / QUEUE, "a") as handle:
            handle.write(json.dumps(report) + "\n")
    return len(waiting)


def remove_from_queue(directory: Path, report_ids: set) -> None:
    with queue_lock(directory):
        _write_queue(directory, [r for r in read_queue(directory) if r.get("id") not in report_ids])


def _write_queue(directory: Path, reports: list) -> None:
    temporary = directory / (QUEUE + ".tmp")
    temporary.write_text("".join(json.dumps(report) + "\n" for report in reports))
    os.replace(temporary, directory / QUEUE)


def _clear_queue(directory: Path) -> None:
    with queue_lock(directory):
        (directory / QUEUE).unlink(missing_ok=True)
        (directory / STATUS).unlink(missing_ok=True)
