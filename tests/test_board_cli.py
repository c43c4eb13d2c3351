"""``python -m workbook board | join | leave``: the shell contract, and ``check()`` in a notebook."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from helpers import REPO


def start_board_command(*args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", "board", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_urls(process, timeout=60):
    """The page URL and the attendees' command, from the first lines the board prints."""
    deadline, lines = time.monotonic() + timeout, []
    for line in process.stdout:
        lines.append(line)
        if "attendees type:" in line:
            page = re.search(r"(http://\S+/board/\?key=\S+)", "".join(lines)).group(1)
            return page, line.split("attendees type:", 1)[1].strip()
        assert time.monotonic() < deadline, lines
    raise AssertionError(f"the board printed no URLs: {lines}, {process.stderr.read()}")


def stop(process):
    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(30) == 0
    return process.stdout.read()


@pytest.mark.timeout(180)
def test_board_prints_page_and_join_command_and_keeps_its_data_across_restarts(tmp_path):
    env = {
        **os.environ,
        "WORKBOOK_DATA_DIR": str(tmp_path / "instructor"),
        "WORKBOOK_BOARD_DIR": str(tmp_path / "attendee"),
    }
    board = start_board_command(env=env)
    try:
        page, join_command = read_urls(board)
        code = re.search(r"--code (\S+)", join_command).group(1)
        assert re.fullmatch(r"[A-Z]+-\d{4}", code) and len(page.split("key=")[1]) >= 40
        assert join_command.startswith("python -m workbook join http://127.0.0.1:")
        joined = subprocess.run(
            [sys.executable, "-m", "workbook", "join", join_command.split()[4], "--code", code, "--name", "Ada"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert joined.returncode == 0, joined.stderr
        assert "Board stopped." in stop(board)
    finally:
        board.kill()

    board = start_board_command(env=env)  # no --code, no --key: the last ones again
    try:
        page_again, _ = read_urls(board)
        assert page_again.split("?")[1] == page.split("?")[1]
        state = httpx.get(page_again.replace("/board/?", "/board/api/state/?"), timeout=10).json()
        assert [attendee["name"] for attendee in state["attendees"]] == ["Ada"]
        stop(board)
    finally:
        board.kill()


def test_board_refuses_a_bad_code_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "board", "--port", "0", "--code", "no spaces!"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBOOK_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not a usable workshop code" in result.stderr


def test_join_an_unreachable_board_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "join", "http://127.0.0.1:9/", "--code", "KITE-1234", "--name", "Ada"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBOOK_BOARD_DIR": str(tmp_path)},
    )
    assert result.returncode == 1 and "cannot reach the board" in result.stderr


@pytest.mark.timeout(120)
def test_notebook_check_reports_to_the_board(tmp_path, monkeypatch):
    """``check()`` in a notebook runs ``python -m workbook check``, which reports: no second call needed."""
    from workbook.board.client import join
    from workbook.board.server import start_board
    from workbook.notebook import check

    with start_board(database=tmp_path / "board.sqlite3") as board:
        join(board.http_url, board.code, "Grace", directory=tmp_path / "grace")
        monkeypatch.setenv("WORKBOOK_BOARD_DIR", str(tmp_path / "grace"))
        assert str(check("echo_types").status) == "not attempted"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            exercises = httpx.get(board.state_url, timeout=5).json()["attendees"][0]["exercises"]
            if exercises:
                break
            time.sleep(0.1)
        assert list(exercises) == ["echo_types"] and exercises["echo_types"]["outcome"] == "not attempted"
