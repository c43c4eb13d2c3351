"""The test page takes its close codes, room pattern and message limit from protocol.py.

Rendered into the page by the view, never retyped in the template's JavaScript or HTML.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from websocket_app import protocol

TEMPLATE = Path(protocol.__file__).parent / "templates" / "test.html"


def rendered_page() -> str:
    from django.test import Client

    response = Client(HTTP_HOST="127.0.0.1").get("/test-ws/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_template_retypes_no_protocol_constant():
    source = TEMPLATE.read_text()
    for code in protocol.CLOSE_CODES:
        assert str(code) not in source, f"close code {code} is retyped in test.html"
    assert f'maxlength="{protocol.MAX_MESSAGE_CHARS}"' not in source
    assert "A-Za-z0-9" not in source, "the room-name pattern is retyped in test.html"


def test_the_page_carries_protocol_values():
    page = rendered_page()
    literal = re.search(r"const PROTOCOL = (\{.*\});", page).group(1)
    data = json.loads(literal)
    assert data["close_codes"] == {
        "BAD_ROOM": protocol.BAD_ROOM,
        "UNAUTHENTICATED": protocol.UNAUTHENTICATED,
        "TOKEN_EXPIRED": protocol.TOKEN_EXPIRED,
        "RATE_LIMITED": protocol.RATE_LIMITED,
        "LAYER_UNAVAILABLE": protocol.LAYER_UNAVAILABLE,
    }
    assert set(data["close_codes"].values()) == set(protocol.CLOSE_CODES)
    assert data["max_message_chars"] == protocol.MAX_MESSAGE_CHARS
    assert f'maxlength="{protocol.MAX_MESSAGE_CHARS}"' in page
    assert f'pattern="{data["room_pattern"]}"' in page


@pytest.mark.parametrize(
    "name, allowed",
    [("lobby", True), ("room_2-b", True), ("bad.room", False), ("x" * 50, True), ("x" * 51, False), ("", False)],
)
def test_the_html_pattern_accepts_exactly_what_protocol_accepts(name, allowed):
    page = rendered_page()
    html_pattern = re.search(r'pattern="([^"]+)"', page).group(1)
    python_form = "^" + html_pattern.replace("\\-", "-") + "$"
    assert bool(re.match(python_form, name)) == protocol.is_valid_room_name(name) == allowed


def test_the_page_script_reads_the_codes_in_chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no Chromium on this machine (Debian: apt install chromium)")
    from playwright.sync_api import sync_playwright

    from workbook.server import start_server

    with start_server("echo") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page()
            page.goto(server.url("/test-ws/"))
            words = page.evaluate(f"CLOSE_WORDS[{protocol.BAD_ROOM}]")
            assert "room name is not allowed" in words
            assert page.evaluate(f"CLOSE_WORDS[{protocol.RATE_LIMITED}]") == "you sent too many messages too fast"
            check = (
                "(name) => { const room = document.getElementById('room'); room.value = name; "
                "return room.validity.valid; }"
            )  # the echo stage hides the room field; it still validates
            assert page.evaluate(check, "bad.room") is False
            assert page.evaluate(check, "good_room-1") is True
        finally:
            browser.close()
