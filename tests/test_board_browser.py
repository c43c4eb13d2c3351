"""The instructor's board page in headless Chromium while 30 real attendees report.

Uses the Chromium set-up of test_browser.py (skips without Chromium, fails in CI).
"""

import re
import time

from test_browser import WAIT_MS, screenshot

from workbook.board.client import join, report_outcome
from workbook.board.server import start_board

HTML_NAME = "<b>Bold</b> & <script>alert(1)</script>"


def open_board(browser, board, **context_options):
    page = browser.new_context(**context_options).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(board.page_url)
    page.get_by_role("status").filter(has_text="live").wait_for()
    return page


def report(folder, status, exercise="rooms"):
    report_outcome(
        {"exercise_id": exercise, "status": status, "summary": f"{status} on purpose", "seconds": 1.0},
        directory=folder,
        background=False,
    )


def header(page, exercise):
    return page.get_by_role("columnheader", name=re.compile(rf"^{re.escape(exercise)} "))


def row(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=False))


def test_thirty_attendees_fill_the_grid_live(browser, tmp_path):
    with start_board(database=tmp_path / "board.sqlite3") as board:
        page = open_board(browser, board)
        names = [HTML_NAME] + [f"Attendee {number:02}" for number in range(1, 30)]
        folders = [tmp_path / f"attendee-{number}" for number in range(30)]
        for name, folder in zip(names, folders, strict=True):
            join(board.http_url, board.code, name, directory=folder)
        page.get_by_text("30 attendees, 0 stuck").wait_for()
        for number, folder in enumerate(folders):
            report(folder, "passed" if number < 10 else "failed")
        header(page, "rooms").filter(has_text="10 of 30 passed").wait_for()
        assert page.locator("#board tbody tr").count() == 30
        # A name with HTML is shown as text: no <b> or <script> element was made from it.
        page.get_by_role("rowheader").filter(has_text=HTML_NAME).wait_for()
        assert page.locator("#board b, #board script").count() == 0

        # Cells change as checks run, within a second.
        started = time.monotonic()
        report(folders[0], "failed")
        header(page, "rooms").filter(has_text="9 of 30 passed").wait_for()
        assert time.monotonic() - started < 1.0
        report(folders[1], "passed", exercise="history")
        header(page, "history").filter(has_text="1 of 30 passed").wait_for()

        # Failing the same exercise again and again: highlighted as stuck.
        for _ in range(2):
            report(folders[12], "error")
        row(page, "Attendee 12").filter(has_text="stuck on rooms").wait_for()
        assert "error on purpose" in row(page, "Attendee 12").inner_text()  # the why, visible
        page.get_by_text("30 attendees, 1 stuck").wait_for()
        screenshot(page, "board-thirty-attendees")

        # Keyboard only: reach the filter, switch it on with Space.
        checkbox = page.get_by_role("checkbox", name="show only attendees who are stuck")
        for _ in range(10):
            page.keyboard.press("Tab")
            if checkbox.evaluate("element => element === document.activeElement"):
                break
        page.keyboard.press("Space")
        assert checkbox.is_checked()
        page.wait_for_function("document.querySelectorAll('#board tbody tr').length === 1")
        page.keyboard.press("Tab")  # on to the grid, which scrolls by keyboard
        assert page.evaluate("document.activeElement.getAttribute('role')") == "region"


def test_wrong_key_gets_a_clear_refusal(browser, tmp_path):
    with start_board(database=tmp_path / "board.sqlite3") as board:
        page = browser.new_context().new_page()
        page.set_default_timeout(WAIT_MS)
        response = page.goto(board.http_url + "board/?key=guess")
        assert response.status == 403
        page.get_by_role("alert").filter(has_text="Wrong or missing instructor key").wait_for()


def test_readable_at_200_percent_zoom(browser, tmp_path):
    """200 % zoom of a 1280-pixel window leaves 640 CSS pixels: nothing but the grid may scroll sideways."""
    with start_board(database=tmp_path / "board.sqlite3") as board:
        folder = tmp_path / "ada"
        join(board.http_url, board.code, "Ada with a rather long name indeed", directory=folder)
        page = open_board(browser, board, viewport={"width": 640, "height": 400}, device_scale_factor=2)
        report(folder, "passed")
        header(page, "rooms").filter(has_text="1 of 1 passed").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
        screenshot(page, "board-zoom-200")


def test_page_reconnects_when_the_board_restarts(browser, tmp_path):
    database, folder = tmp_path / "board.sqlite3", tmp_path / "ada"
    board = start_board(database=database)
    try:
        join(board.http_url, board.code, "Ada", directory=folder)
        page = open_board(browser, board)
        report(folder, "failed")
        header(page, "rooms").filter(has_text="0 of 1 passed").wait_for()
        board.stop()
        page.get_by_role("status").filter(has_text="reconnecting").wait_for()
        board = start_board(port=board.port, code=board.code, key=board.key, database=database)
        page.get_by_role("status").filter(has_text="live").wait_for()
        report(folder, "passed")
        header(page, "rooms").filter(has_text="1 of 1 passed").wait_for()
    finally:
        board.stop()


def test_page_works_through_jupyter_server_proxy(browser, tmp_path):
    """As on JupyterHub/Binder: the page and its websocket reached only through Jupyter's URL."""
    from helpers import running_lab

    with running_lab("board-proxy") as (url, _), start_board(database=tmp_path / "board.sqlite3") as board:
        folder = tmp_path / "ada"
        join(board.http_url, board.code, "Ada", directory=folder)
        page = browser.new_context().new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{url}/lab?token=board-proxy")  # Jupyter's login cookie
        page.goto(f"{url}/proxy/{board.port}/board/?key={board.key}")
        page.get_by_role("status").filter(has_text="live").wait_for()
        report(folder, "passed")
        header(page, "rooms").filter(has_text="1 of 1 passed").wait_for()
        assert "/proxy/" in page.url


def test_failing_for_more_than_a_few_minutes_is_stuck_too(browser, tmp_path):
    """One failure only, but the first of the streak ran six minutes ago (a queued report)."""
    import datetime
    import json
    import uuid

    from websockets.sync.client import connect

    from workbook.board.client import load_credentials

    with start_board(database=tmp_path / "board.sqlite3") as board:
        join(board.http_url, board.code, "Grace", directory=tmp_path / "grace")
        page = open_board(browser, board)
        six_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=6)
        with connect(
            board.http_url.replace("http", "ws", 1) + "board/ws/report/",
            origin=board.http_url.rstrip("/"),
            additional_headers={"Authorization": f"Bearer {load_credentials(tmp_path / 'grace')['token']}"},
            open_timeout=5,
        ) as websocket:
            websocket.send(
                json.dumps(
                    {
                        "type": "outcome",
                        "id": uuid.uuid4().hex,
                        "exercise": "history",
                        "outcome": "failed",
                        "seconds": 2,
                        "message": "no history",
                        "at": six_minutes_ago.isoformat(),
                    }
                )
            )
            assert json.loads(websocket.recv(timeout=5))["event"] == "recorded"
        row(page, "Grace").filter(has_text="stuck on history").wait_for()
        assert "6 min ago" in row(page, "Grace").inner_text()
