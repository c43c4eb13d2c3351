"""The workshop board with real clients: joining, reporting, refusals, the queue when it is down.

Every board here is a real daphne process on a free port with its own SQLite file;
attendees use the workbook's own client (``workbook.board.client``), each with its
own folder, exactly as ``python -m workbook join`` and ``check`` do.
"""

import json
import statistics
import time
import uuid

import httpx
import pytest
from helpers import run_workbook
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from websocket_app.protocol import (
    FLOOD_CLOSE_AFTER,
    MAX_FRAME_CHARS,
    RATE_LIMIT_BURST,
    RATE_LIMIT_PER_SECOND,
    RATE_LIMITED,
    UNAUTHENTICATED,
)
from workbook.board.client import JoinError, base_url, join, leave, load_credentials, read_queue, report_outcome, scrub
from workbook.board.server import start_board


@pytest.fixture
def board(tmp_path):
    with start_board(database=tmp_path / "board.sqlite3") as running:
        yield running


def ws_url(board, path):
    return board.http_url.replace("http", "ws", 1) + path


def live_socket(board, key=None):
    return connect(
        ws_url(board, f"board/ws/live/?key={key or board.key}"), origin=board.http_url.rstrip("/"), open_timeout=5
    )


def report_socket(board, token):
    return connect(
        ws_url(board, "board/ws/report/"),
        origin=board.http_url.rstrip("/"),
        open_timeout=5,
        additional_headers={"Authorization": f"Bearer {token}"},
    )


def state(board):
    response = httpx.get(board.state_url, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def outcome(exercise="rooms", status="failed", summary="after sending hi: expected x, got nothing"):
    return {"exercise_id": exercise, "status": status, "summary": summary, "seconds": 1.25}


def a_report(exercise="rooms", status="passed", **extra):
    return json.dumps(
        {
            "type": "outcome",
            "id": uuid.uuid4().hex,
            "exercise": exercise,
            "outcome": status,
            "seconds": 0.5,
            "message": "ok",
            **extra,
        }
    )


def frames_until_closed(websocket, limit=200):
    frames = []
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(limit):
            frames.append(json.loads(websocket.recv(timeout=5)))
    return frames, closed.value.rcvd.code


def test_thirty_attendees_report_and_the_instructor_sees_each_outcome(board, tmp_path):
    with live_socket(board) as live:
        first = json.loads(live.recv(timeout=5))
        assert first["event"] == "state" and first["attendees"] == []
        folders = []
        for number in range(30):
            folder = tmp_path / f"attendee-{number}"
            join(board.http_url, board.code, f"Attendee {number}", directory=folder)
            folders.append(folder)
        for number, folder in enumerate(folders):
            report_outcome(
                outcome(status="passed" if number % 3 == 0 else "failed"), directory=folder, background=False
            )
        events = [json.loads(live.recv(timeout=5)) for _ in range(60)]  # 30 joined + 30 outcomes
    assert sorted(e["name"] for e in events if e["event"] == "joined") == sorted(f"Attendee {n}" for n in range(30))
    shown = [e for e in events if e["event"] == "outcome"]
    assert len(shown) == 30 and all(e["exercise"] == "rooms" for e in shown)
    board_state = state(board)
    cells = {a["name"]: a["exercises"]["rooms"] for a in board_state["attendees"]}
    assert len(cells) == 30
    assert sum(cell["outcome"] == "passed" for cell in cells.values()) == 10
    assert cells["Attendee 1"]["outcome"] == "failed" and cells["Attendee 1"]["failures_in_a_row"] == 1
    assert all(not read_queue(folder) for folder in folders)  # everything delivered, nothing left


def test_state_api_shape_is_the_contract(board, tmp_path):
    join(board.http_url, board.code, "Ada", directory=tmp_path)
    report_outcome(outcome(status="passed", summary="all expectations met"), directory=tmp_path, background=False)
    payload = state(board)
    [ada] = payload["attendees"]
    assert ada["name"] == "Ada"
    rooms = ada["exercises"]["rooms"]
    assert rooms["outcome"] == "passed" and rooms["message"] == "all expectations met"
    assert rooms["at"].endswith("Z") and abs(time.time() - _epoch(rooms["at"])) < 60


def _epoch(iso):
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_outcomes_never_carry_paths_or_more_than_the_first_line(board, tmp_path):
    assert scrub("exercises/03_rooms/consumers.py is as shipped\nline two") == "… is as shipped"
    assert (
        scrub("your code raised KeyError: 'x' (consumers.py, line 12, in receive)")
        == "your code raised KeyError: 'x' (…, line 12, in receive)"
    )
    join(board.http_url, board.code, "Grace", directory=tmp_path)
    report_outcome(
        outcome(summary="/home/grace/secret/file.py exploded\nTraceback ..."), directory=tmp_path, background=False
    )
    message = state(board)["attendees"][0]["exercises"]["rooms"]["message"]
    assert "/" not in message and "secret" not in message and "Traceback" not in message


def test_wrong_code_duplicate_name_and_bad_names_are_refused_clearly(board, tmp_path):
    with pytest.raises(JoinError, match="not this workshop's code"):
        join(board.http_url, "KITE-0000" if board.code != "KITE-0000" else "KITE-0001", "Ada", directory=tmp_path)
    join(board.http_url, board.code.lower(), "Ada", directory=tmp_path / "ada")  # codes are case-free
    with pytest.raises(JoinError, match="already joined as 'ADA'"):
        join(board.http_url, board.code, "ADA", directory=tmp_path / "ada2")
    for bad in ("", "x" * 41, "tab\there", "new\nline"):
        with pytest.raises(JoinError, match="1 to 40 printable"):
            join(board.http_url, board.code, bad, directory=tmp_path / "bad")
    assert load_credentials(tmp_path / "bad") is None
    response = httpx.post(board.http_url + "board/api/join/", content=b"{not json", timeout=5)
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_guessing_codes_is_rate_limited(board):
    answers = [
        httpx.post(
            board.http_url + "board/api/join/", json={"code": f"NOPE-{n:04}", "name": "Eve"}, timeout=5
        ).status_code
        for n in range(25)
    ]
    assert answers[:20] == [403] * 20 and set(answers[20:]) == {429}
    # The right code still works from another client; a class behind one address is not held up.


def test_a_name_with_html_is_kept_as_text(board, tmp_path):
    name = "<img src=x onerror=alert(1)>"
    join(board.http_url, board.code, name, directory=tmp_path)
    assert state(board)["attendees"][0]["name"] == name


def test_the_instructor_key_is_needed_for_page_json_and_socket(board):
    for url in (
        board.http_url + "board/?key=wrong",
        board.http_url + "board/api/state/",
        board.http_url + "board/api/state/?key=" + board.key[:-1],
    ):
        assert httpx.get(url, timeout=5).status_code == 403
    page = httpx.get(board.page_url, timeout=5)
    assert page.status_code == 200 and board.code in page.text and board.key not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    with live_socket(board, key="wrong") as live:
        frames, code = frames_until_closed(live)
    assert code == UNAUTHENTICATED and frames[0]["error"] == "unauthenticated" and "key" in frames[0]["detail"]


def test_reports_need_a_token_and_count_for_their_own_attendee_only(board, tmp_path):
    with report_socket(board, "not-a-token") as websocket:
        frames, code = frames_until_closed(websocket)  # refused at once, before any report
    assert code == UNAUTHENTICATED and frames[0]["error"] == "unauthenticated"
    ada = join(board.http_url, board.code, "Ada", directory=tmp_path / "ada")
    join(board.http_url, board.code, "Bob", directory=tmp_path / "bob")
    with report_socket(board, ada["token"]) as websocket:
        websocket.send(a_report(name="Bob", attendee="Bob"))  # a name in the frame is ignored
        assert json.loads(websocket.recv(timeout=5))["event"] == "recorded"
    cells = {a["name"]: a["exercises"] for a in state(board)["attendees"]}
    assert cells["Ada"] and cells["Bob"] == {}


def test_bad_frames_get_error_frames_and_the_socket_stays_open(board, tmp_path):
    token = join(board.http_url, board.code, "Ada", directory=tmp_path)["token"]
    bad_frames = {
        "x" * (MAX_FRAME_CHARS + 1): "frame_too_large",
        "{nope": "invalid_json",
        "[1, 2]": "not_an_object",
        json.dumps({"type": "hello"}): "unknown_type",
        a_report(exercise="../../etc/passwd"): "unknown_exercise",
        a_report(status="PASSED!"): "bad_outcome",
        a_report(seconds=True): "bad_seconds",
        a_report(seconds=-1): "bad_seconds",
        a_report(message="\ud800"): "bad_message",
        a_report(message=["list"]): "bad_message",
        json.dumps({"type": "outcome", "id": "a b", "exercise": "rooms", "outcome": "passed"}): "bad_id",
    }
    with report_socket(board, token) as websocket:
        for frame, error in bad_frames.items():
            websocket.send(frame)
            assert json.loads(websocket.recv(timeout=5))["error"] == error, frame[:80]
            time.sleep(0.12)  # stay under the rate limit: this test is about content
        websocket.send(b"binary")
        assert json.loads(websocket.recv(timeout=5))["error"] == "binary_not_supported"
        websocket.send(a_report())
        assert json.loads(websocket.recv(timeout=5))["event"] == "recorded"
    assert list(state(board)["attendees"][0]["exercises"]) == ["rooms"]


def test_the_same_report_sent_twice_counts_once(board, tmp_path):
    token = join(board.http_url, board.code, "Ada", directory=tmp_path)["token"]
    frame = a_report(status="failed")
    with report_socket(board, token) as websocket:
        for _ in range(2):
            websocket.send(frame)
            assert json.loads(websocket.recv(timeout=5))["event"] == "recorded"
    assert state(board)["attendees"][0]["exercises"]["rooms"]["failures_in_a_row"] == 1


def test_a_flood_is_rate_limited_then_closed(board, tmp_path):
    token = join(board.http_url, board.code, "Mallory", directory=tmp_path)["token"]
    with report_socket(board, token) as websocket:
        started = time.monotonic()
        for _ in range(RATE_LIMIT_BURST + FLOOD_CLOSE_AFTER + 20):
            try:
                websocket.send(a_report())
            except ConnectionClosed:
                break
        frames, code = frames_until_closed(websocket)
        elapsed = time.monotonic() - started
    assert code == RATE_LIMITED
    recorded = sum(frame.get("event") == "recorded" for frame in frames)
    limited = sum(frame.get("error") == "rate_limited" for frame in frames)
    # The burst, plus what the bucket refilled while the board worked through the flood.
    assert RATE_LIMIT_BURST <= recorded <= RATE_LIMIT_BURST + RATE_LIMIT_PER_SECOND * elapsed + 1
    assert limited >= FLOOD_CLOSE_AFTER


def test_origin_is_checked(board, tmp_path):
    token = join(board.http_url, board.code, "Ada", directory=tmp_path)["token"]
    for origin in (None, "http://evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            connect(
                ws_url(board, "board/ws/report/"),
                origin=origin,
                open_timeout=5,
                additional_headers={"Authorization": f"Bearer {token}"},
            )
        assert refused.value.response.status_code == 403


def test_base_url_accepts_what_the_instructor_shows():
    assert base_url("http://10.0.0.5:8765/") == "http://10.0.0.5:8765/"
    assert base_url("10.0.0.5:8765") == "http://10.0.0.5:8765/"
    assert base_url("http://h:1/board/?key=x") == "http://h:1/"
    assert base_url("https://hub.example/user/a/proxy/8765/board/") == "https://hub.example/user/a/proxy/8765/"
    with pytest.raises(JoinError):
        base_url("ftp://x")


def test_report_outcome_never_raises_and_returns_at_once(tmp_path):
    started = time.perf_counter()
    report_outcome(outcome(), directory=tmp_path)  # not joined: nothing to do
    (tmp_path / "board-attendee.json").write_text("{broken")
    report_outcome(object(), directory=tmp_path)  # garbage in: a notice, never an exception
    assert time.perf_counter() - started < 0.2


# --- The real CLI: join, check, the board going down and coming back -------------------
cli = run_workbook


def wait_for(condition, timeout=15.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_senders(folder):
    """The background sender holds this lock while it works; wait until it is free."""
    import fcntl

    lock_path = folder / "board-sender.lock"
    deadline = time.monotonic() + 15
    while lock_path.exists() and time.monotonic() < deadline:
        with open(lock_path) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                time.sleep(0.05)


@pytest.mark.timeout(300)
def test_checks_report_queue_while_the_board_is_down_and_arrive_after_restart(tmp_path):
    database, attendee = tmp_path / "board.sqlite3", tmp_path / "attendee"
    env = {"WORKBOOK_BOARD_DIR": str(attendee)}
    board = start_board(database=database)
    code, key, port = board.code, board.key, board.port
    try:
        joined = cli("join", board.http_url, "--code", code, "--name", "Ada Lovelace", env=env)
        assert joined.returncode == 0 and f"Joined workshop {code} as Ada Lovelace" in joined.stdout
        wrong = cli(
            "join",
            board.http_url,
            "--code",
            "ZZZZ-0000",
            "--name",
            "Eve",
            env={"WORKBOOK_BOARD_DIR": str(tmp_path / "eve")},
        )
        assert wrong.returncode == 1 and "not this workshop's code" in wrong.stderr
        assert cli("check", "echo_types", env=env).returncode == 1  # not attempted: a quick check
        # Ada's own row, not the board's list of exercises (which names echo_types from the start)
        wait_for(lambda: "echo_types" in state(board)["attendees"][0]["exercises"], what="the CLI check on the board")
        assert state(board)["attendees"][0]["exercises"]["echo_types"]["outcome"] == "not attempted"
        wait_for_senders(attendee)
    finally:
        board.stop()

    # The board is down: checks still pass or fail as before, the outcomes queue up.
    first = cli("check", "echo_types", env=env)
    assert first.returncode == 1 and "NOT ATTEMPTED" in first.stdout
    wait_for_senders(attendee)
    second = cli("check", "echo_types", "--json", env=env)
    assert json.loads(second.stdout.splitlines()[-1])["status"] == "not attempted"  # stdout stays JSON
    notices = [line for line in second.stderr.splitlines() if line.startswith("workbook board:")]
    assert len(notices) == 1 and "1 earlier outcome(s) not delivered" in notices[0]
    wait_for_senders(attendee)
    assert len(read_queue(attendee)) == 2

    board = start_board(port=port, code=code, key=key, database=database)
    try:
        assert state(board)["attendees"][0]["name"] == "Ada Lovelace"  # the restarted board kept its data
        cli("check", "echo_types", env=env)
        wait_for(lambda: not read_queue(attendee), what="the queue to drain")
        wait_for_senders(attendee)
        assert len(read_queue(attendee)) == 0
    finally:
        board.stop()
    # 1 before the stop + 2 queued + 1 after the restart, all stored:
    import sqlite3

    with sqlite3.connect(database) as connection:
        assert connection.execute("select count(*) from workshop_outcome").fetchone()[0] == 4
    left = cli("leave", env=env)
    assert "Left workshop" in left.stdout and load_credentials(attendee) is None


@pytest.mark.timeout(300)
def test_a_check_with_the_board_down_takes_as_long_as_without_a_board(tmp_path):
    with start_board(database=tmp_path / "board.sqlite3") as board:
        join(board.http_url, board.code, "Ada", directory=tmp_path / "refused")
    # Down: nothing listens on its port any more. Silent: it accepts TCP but never answers.
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    (tmp_path / "silent").mkdir()
    credentials = dict(load_credentials(tmp_path / "refused"), url=f"http://127.0.0.1:{silent.getsockname()[1]}/")
    (tmp_path / "silent" / "board-attendee.json").write_text(json.dumps(credentials))
    folders = {"no board": tmp_path / "nobody", "board down": tmp_path / "refused", "board silent": tmp_path / "silent"}
    try:
        for folder in folders.values():
            started = time.perf_counter()
            report_outcome(outcome(), directory=folder)  # what the check itself pays
            assert time.perf_counter() - started < 0.1
        # Medians of interleaved runs; a second series only if the first was disturbed
        # (two cores shared with other work): a real slowdown fails both.
        for _series in range(2):
            times = {label: [] for label in folders}
            for _ in range(5):
                for label, folder in folders.items():
                    started = time.perf_counter()
                    cli("check", "echo_types", env={"WORKBOOK_BOARD_DIR": str(folder)})
                    times[label].append(time.perf_counter() - started)
            baseline = statistics.median(times["no board"])
            slower = {label: statistics.median(runs) - baseline for label, runs in times.items()}
            if max(slower.values()) < 0.2:
                break
        assert max(slower.values()) < 0.2, (slower, times)
        silent_checks = 1 + 5 * (_series + 1)
        assert len(read_queue(tmp_path / "silent")) == silent_checks  # every outcome waits for the board
    finally:
        for folder in folders.values():
            wait_for_senders(folder)
        silent.close()


def test_leave_without_joining_says_so(tmp_path):
    assert leave(directory=tmp_path) is False


def test_a_long_queue_is_sent_in_batches_the_rate_limit_lets_through(board, tmp_path):
    """After a long outage: 40 queued outcomes, delivered by one sender without being rate-limited."""
    from workbook.board.client import append_to_queue, report_of
    from workbook.board.sender import send_queued

    join(board.http_url, board.code, "Ada", directory=tmp_path)
    for number in range(40):
        append_to_queue(tmp_path, report_of(outcome(status="failed" if number % 2 else "passed")))
    result = send_queued(tmp_path, deadline=time.monotonic() + 20)
    assert result == {"sent": 40, "left": 0, "problem": None}
    assert state(board)["attendees"][0]["exercises"]["rooms"]["outcome"] == "failed"
