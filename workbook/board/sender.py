"""Deliver an attendee's queued outcomes to the board: ``python -m workbook.board.sender DIR``.

Started in the background by every check. One sender at a time per folder (a lock);
a second one waits its turn, then finds the queue empty or sends what is left.
Bounded: it gives up after SEND_TIMEOUT per step and LIFETIME overall, leaving the
rest queued for the next check.
"""

import fcntl
import json
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..paths import PROJECT_DIR
from .client import load_credentials, read_queue, remove_from_queue, write_status

if TYPE_CHECKING:  # imported for real only when the board answers: see send_queued
    from websockets.sync.client import ClientConnection

sys.path.append(str(PROJECT_DIR))  # the board's limits are the chat's, defined once
from websocket_app.protocol import RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND  # noqa: E402

SEND_TIMEOUT = 3.0  # connect, or wait for one acknowledgement
LIFETIME = 8.0
BATCH = RATE_LIMIT_BURST - 5  # a long queue goes in batches the board's rate limit lets through
BATCH_PAUSE = BATCH / RATE_LIMIT_PER_SECOND  # the time the board takes to allow a batch again


def send_queued(directory: Path, deadline: float | None = None) -> dict:
    """Send what is queued; return ``{"sent": n, "left": n, "problem": str | None}``."""
    deadline = deadline or time.monotonic() + LIFETIME
    credentials = load_credentials(directory)
    sent, problem = 0, None
    if credentials is None or not read_queue(directory):
        return {"sent": 0, "left": 0, "problem": None}  # an earlier sender delivered everything
    if not _answers(credentials["url"]):
        problem = "board unreachable: nothing listens at its address"
    else:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        ws_url = credentials["url"].replace("http", "ws", 1) + "board/ws/report/"
        try:
            with connect(
                ws_url,
                origin=credentials["url"].rstrip("/"),
                open_timeout=SEND_TIMEOUT,
                close_timeout=1,
                additional_headers={"Authorization": f"Bearer {credentials['token']}"},
            ) as ws:
                while time.monotonic() < deadline:
                    batch = read_queue(directory)[:BATCH]
                    if not batch:
                        break
                    delivered, problem = _send_batch(ws, batch)
                    remove_from_queue(directory, delivered)
                    sent += len(delivered)
                    if problem or len(batch) < BATCH or time.monotonic() + BATCH_PAUSE > deadline:
                        break
                    time.sleep(BATCH_PAUSE)
        except (OSError, TimeoutError, WebSocketException) as error:
            problem = f"board unreachable: {type(error).__name__}"
    left = len(read_queue(directory))
    result = {"sent": sent, "left": left, "problem": problem}
    write_status(directory, result)
    return result


def _answers(url: str) -> bool:
    """A plain TCP connect first: when the board is down, the sender ends here, cheaply,
    without even importing the websocket library (it runs beside the learner's checks)."""
    parts = urlsplit(url)
    try:
        socket.create_connection(
            (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), timeout=SEND_TIMEOUT
        ).close()
    except OSError:
        return False
    return True


def _send_batch(ws: "ClientConnection", batch: list) -> tuple[set, str | None]:
    """Send reports one by one, each answered in order. Returns the ids to drop from the
    queue (acknowledged, or refused for good: no retry would fix them) and a problem."""
    done = set()
    for report in batch:
        ws.send(json.dumps(report))
        answer = json.loads(ws.recv(timeout=SEND_TIMEOUT))
        if answer.get("event") == "recorded":
            done.add(report["id"])
        elif answer.get("error") in ("rate_limited", "unauthenticated"):
            return done, answer.get("detail")  # keep the rest for later
        else:  # e.g. an exercise this board does not know
            done.add(report["id"])
            return done, f"the board refused an outcome: {answer.get('detail')}"
    return done, None


def main(argv: list) -> int:
    directory = Path(argv[0])
    started = time.monotonic()
    with open(directory / "board-sender.lock", "w") as lock:
        while True:  # one sender at a time; the next waits, bounded
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > LIFETIME:
                    return 0
                time.sleep(0.05)
        send_queued(directory, deadline=started + LIFETIME)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
