"""Secrets in URLs never reach the logs the workbook writes (daphne's access log included)."""

import time

import httpx

from workbook.board.server import start_board


def wait_for_line(server, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while text not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log()


def test_the_board_key_is_not_in_the_board_log(tmp_path):
    with start_board(database=tmp_path / "board.sqlite3") as board:
        assert httpx.get(board.page_url).status_code == 200
        assert httpx.get(board.state_url).status_code == 200
        log = wait_for_line(board, "/board/api/state/")
    assert "GET /board/?key=…" in log
    assert board.key not in log


def test_tokens_in_query_strings_are_not_in_a_stage_log(jwt_server, tokens):
    httpx.get(jwt_server.url(f"/test-ws/?token={tokens['alice']}&ticket=abc&room=lobby"))
    log = wait_for_line(jwt_server, "room=lobby")
    assert "GET /test-ws/?token=…&ticket=…&room=lobby" in log
    assert tokens["alice"] not in log and "ticket=abc" not in log
