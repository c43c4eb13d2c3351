"""Helpers that call the server over HTTP say what went wrong and what to do, never a JSONDecodeError."""

import pytest

from workbook.client import LoginFailed, RequestFailed, get_tokens, refresh_access_token
from workbook.server import start_server


def test_an_unmigrated_database_is_named_with_its_fix(tmp_path):
    # As on a hub where nobody prepared anything: the token endpoint answers Django's HTML 500 page.
    with (
        start_server("jwt", env={"WORKBOOK_DATA_DIR": str(tmp_path)}) as server,
        pytest.raises(RequestFailed) as failure,
    ):
        get_tokens(server, "alice", "alice-pass-123")
    message = str(failure.value)
    assert failure.value.status == 500 and failure.value.endpoint == "POST /api/token/"
    assert "OperationalError: no such table: auth_user" in message
    assert "prepare()" in message and "python -m workbook setup" in message


def test_wrong_credentials_say_so(jwt_server):
    with pytest.raises(LoginFailed) as failure:
        get_tokens(jwt_server, "alice", "not-her-password")
    assert "answered HTTP 401: No active account found" in str(failure.value)
    assert "README.md lists the demo users" in str(failure.value)


def test_an_access_token_is_no_refresh_token(jwt_server, tokens):
    with pytest.raises(LoginFailed, match=r"POST /api/token/refresh/ answered HTTP 401: Token"):
        refresh_access_token(jwt_server, tokens["alice"])


def test_a_stopped_server_is_named(tmp_path):
    with start_server("echo") as server:
        pass  # stopped on leaving the block
    with pytest.raises(RequestFailed, match=r"POST /api/token/ did not answer: ConnectError.*server running"):
        get_tokens(server, "alice", "alice-pass-123")
