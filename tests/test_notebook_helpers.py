"""Notebook helpers that do not need a kernel: URLs behind Jupyter's proxy, source display."""

import os
import subprocess
import sys

import pytest

from workbook.notebook import jupyter_proxy_prefix, page_url, show_source
from workbook.paths import PROJECT_DIR


class FakeServer:
    port = 41234

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


@pytest.mark.parametrize(
    "environment, expected",
    [
        ({}, "http://127.0.0.1:41234/test-ws/"),
        ({"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}, "/user/alice/proxy/41234/test-ws/"),
        (
            {"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/", "WORKBOOK_JUPYTER_PROXY": "0"},
            "http://127.0.0.1:41234/test-ws/",
        ),
        ({"WORKBOOK_JUPYTER_PROXY": "1"}, "/proxy/41234/test-ws/"),
        ({"WORKBOOK_JUPYTER_PROXY": "/lab-base"}, "/lab-base/proxy/41234/test-ws/"),
    ],
)
def test_page_url_uses_jupyters_proxy_when_remote(monkeypatch, environment, expected):
    for name in ("JUPYTERHUB_SERVICE_PREFIX", "WORKBOOK_JUPYTER_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert page_url(FakeServer()) == expected
    assert (jupyter_proxy_prefix() is None) == expected.startswith("http")


def test_hub_host_is_allowed_for_the_origin_check():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='websocket_project.settings'; "
        "from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/"},
    )
    assert "hub.example.org" in result.stdout, result.stderr


def test_show_source_reads_one_definition_from_disk():
    code = show_source("websocket_app/consumers/echo.py", "EchoConsumer")
    assert code.data.startswith("class EchoConsumer(MessageConsumer):")
    with pytest.raises(LookupError, match="no definition called 'Nope'"):
        show_source("websocket_app/consumers/echo.py", "Nope")


def test_notebook_join_shows_no_token(tmp_path, capsys):
    import json

    from workbook.board.client import CREDENTIALS, board_dir
    from workbook.board.server import start_board
    from workbook.notebook import join, leave

    with start_board(database=tmp_path / "board.sqlite3") as board:
        assert join(board.http_url, board.code, "Ada") is None  # nothing for the cell to display
        token = json.loads((board_dir() / CREDENTIALS).read_text())["token"]
        leave()
    shown = capsys.readouterr().out
    assert "Joined workshop" in shown and token not in shown
    assert not (board_dir() / CREDENTIALS).exists()
