"""The exercise checker: never passes wrong work, never leaves the learner guessing.

Known-wrong implementations are the solutions with one small, named mistake
patched in; each must be rejected with the message a learner needs.
"""

import shutil
from pathlib import Path

import pytest

import workbook.checker as checker
from workbook.checker import ERROR, FAILED, NOT_ATTEMPTED, PASSED, check_exercise
from workbook.exercises import find_exercise, load_exercises
from workbook.paths import EXERCISES_DIR, SOLUTIONS_DIR

EXERCISE_IDS = [exercise.id for exercise in load_exercises()]


def learner_copy(tmp_path: Path, exercise, source_root: Path, old: str = "", new: str = "") -> Path:
    """A learner folder holding ``source_root``'s files for ``exercise``, optionally patched."""
    root = tmp_path / "learner"
    for name in exercise.files:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (source_root / name).read_text()
        if old:
            assert old in text, f"the patch no longer applies to {name}: {old!r}"
            text = text.replace(old, new)
        target.write_text(text)
    return root


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_shipped_exercises_are_not_attempted(exercise_id):
    outcome = check_exercise(find_exercise(exercise_id))
    assert outcome.status == NOT_ATTEMPTED
    assert "TODO" in outcome.next_step


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_solutions_pass(exercise_id):
    exercise = find_exercise(exercise_id)
    outcome = check_exercise(exercise, SOLUTIONS_DIR)
    assert outcome.status == PASSED, outcome.summary
    # a test-writing check runs pytest once over 5 consumers, waiting out the receives the bugs starve
    assert outcome.seconds < (30 if exercise.kind == "tests" else 10)


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_shipped_stubs_fail_even_when_counted_as_attempted(exercise_id, tmp_path):
    exercise = find_exercise(exercise_id)
    root = learner_copy(tmp_path, exercise, EXERCISES_DIR, old='"""', new='"""\n# edited\n')
    outcome = check_exercise(exercise, root)
    assert outcome.status == FAILED, outcome.summary
    if exercise.kind == "tests":  # the shipped tests pass, and catch no bug yet
        assert "your tests pass on the correct consumer but none of them fails when" in outcome.summary
    else:
        assert "expected" in outcome.summary and ", got " in outcome.summary
    assert f"hint {exercise_id}" in outcome.next_step


def test_a_correct_edit_turns_the_exercise_green(tmp_path):
    exercise = find_exercise("echo_types")
    root = learner_copy(tmp_path, exercise, EXERCISES_DIR)
    assert check_exercise(exercise, root).status == NOT_ATTEMPTED
    shutil.copy(SOLUTIONS_DIR / exercise.files[0], root / exercise.files[0])
    assert check_exercise(exercise, root).status == PASSED


WRONG = [
    # (exercise, what is wrong, old, new, expected status, words the summary must contain)
    (
        "echo_types",
        "upper not applied",
        '{"message": message.upper()}',
        '{"message": message}',
        FAILED,
        'expected {"message": "HI THERE"}, got {"message": "hi there"}',
    ),
    (
        "echo_types",
        "crashes on text that is not JSON",
        "except (ValueError, RecursionError):",
        "except RecursionError:",
        ERROR,
        "your code raised JSONDecodeError",
    ),
    ("echo_types", "pong as a message", '{"type": "pong"}', '{"message": "pong"}', FAILED, 'expected {"type": "pong"}'),
    (
        "echo_types",
        "sends a dict, not JSON text",
        "await self.send(text_data=json.dumps(data))",
        "await self.send(text_data=data)",
        ERROR,
        "your code raised TypeError: send(text_data=...) got a dict, not a str",
    ),
    (
        "echo_types",
        "closes after an error frame",
        '        await self.send_json({"error": code, "detail": detail})',
        '        await self.send_json({"error": code, "detail": detail})\n        await self.close()',
        FAILED,
        "after the error frame for text that is not JSON: expected the socket to stay open, "
        "got the socket closed with 1000 (normal) right after that answer",
    ),
    (
        "echo_types",
        "crashes on a binary frame",
        "        if text_data is None:\n            return None\n",
        "",
        ERROR,
        "your code raised TypeError",
    ),
    (
        "echo_types",
        "no answer to an unknown type",
        '        else:\n            await self.send_error("unknown_type"',
        '        elif False:\n            await self.send_error("unknown_type"',
        FAILED,
        "after sending an unknown type",
    ),
    (
        "jwt_auth",
        "closes before accept()",
        "        await self.accept()\n        if self.user.is_anonymous:",
        "        if self.user.is_anonymous:\n            await self.close(code=UNAUTHENTICATED)\n"
        "            return\n        await self.accept()\n        if self.user.is_anonymous:",
        FAILED,
        "HTTP 403 at the handshake",
    ),
    (
        "jwt_auth",
        "UntypedToken accepts refresh tokens",
        "return jwt_auth.get_user(jwt_auth.get_validated_token(token))",
        "from rest_framework_simplejwt.tokens import UntypedToken\n"
        "            return jwt_auth.get_user(UntypedToken(token))",
        FAILED,
        "after connecting with a refresh token instead of an access token: expected a refusal with "
        "close code 4401 (unauthenticated), got the greeting",
    ),
    (
        "jwt_auth",
        "the seed's close code 1008",
        "await self.close(code=UNAUTHENTICATED)",
        "await self.close(code=1008)",
        ERROR,
        "your code raised ValueError: close(code=1008): daphne can only send close code 1000 or 3000-4999",
    ),
    (
        "jwt_auth",
        "crashes in connect() without a token",
        'token = query.get("token", [None])[0]',
        'token = query["token"][0]',
        ERROR,
        "your code raised KeyError: 'token' (consumers.py, line",
    ),
    (
        "jwt_auth",
        "expiry not checked",
        "return jwt_auth.get_user(jwt_auth.get_validated_token(token))",
        "from rest_framework_simplejwt.tokens import AccessToken\n"
        "            return jwt_auth.get_user(AccessToken(token, verify=False))",
        FAILED,
        "get_validated_token(): it checks expiry",
    ),
    (
        "rooms",
        "no group_discard",
        "        await self.channel_layer.group_discard(self.group_name, self.channel_name)\n",
        "",
        FAILED,
        "call group_discard in disconnect()",
    ),
    (
        "rooms",
        "replies to the sender only",
        'await self.broadcast(f"{self.user.username}: {message}")',
        'await self.send(text_data=json.dumps({"message": f"{self.user.username}: {message}"}))',
        FAILED,
        '(bob\'s socket): expected {"message": "alice: hi"}, got nothing, while alice\'s own socket got it',
    ),
    (
        "rooms",
        "no room name check",
        "if not ROOM_NAME_PATTERN.match(room):",
        "if False:",
        FAILED,
        "expected an error frame",
    ),
    (
        "rooms",
        "everyone in one group",
        'self.group_name = f"chat_{room}"',
        'self.group_name = "chat_lobby"',
        FAILED,
        "alice heard carol join another room",
    ),
    (
        "rooms",
        "join notice to the newcomer only",
        'await self.broadcast(f"👋 {self.user.username} joined the chat")',
        'await self.send(text_data=json.dumps({"message": f"👋 {self.user.username} joined the chat"}))',
        FAILED,
        'after bob joining (alice\'s socket): expected {"message": "👋 bob joined the chat"}, got nothing '
        "within 2 s — tell everyone in the room",
    ),
    (
        "rooms",
        "bad room closed without its code",
        "await self.close(code=BAD_ROOM)",
        "await self.close()",
        FAILED,
        "expected the socket to close with 4400 (bad_room), got close code 1000 (normal)",
    ),
    (
        "jwt_middleware",
        "changes the caller's scope",
        "scope = dict(scope, user=await user_for_token(token))",
        'scope["user"] = await user_for_token(token)',
        FAILED,
        "pass on a copy",
    ),
    (
        "jwt_middleware",
        "reads only a leading token parameter",
        'token = query.get("token", [None])[0]',
        'token = scope["query_string"].decode().removeprefix("token=")',
        FAILED,
        "among other parameters",
    ),
    (
        "jwt_middleware",
        "ORM called from async code",
        "@database_sync_to_async\ndef user_for_token(token):",
        "async def user_for_token(token):",
        ERROR,
        "your code raised SynchronousOnlyOperation",
    ),
    (
        "jwt_middleware",
        "UntypedToken accepts refresh tokens",
        "return jwt_auth.get_user(jwt_auth.get_validated_token(token))",
        "from rest_framework_simplejwt.tokens import UntypedToken\n"
        "        return jwt_auth.get_user(UntypedToken(token))",
        FAILED,
        "connecting with a refresh token instead of an access token (the probe reports scope['user']): "
        'expected {"user": "anonymous"}, got {"user": "alice"} — UntypedToken (and RefreshToken) accept refresh',
    ),
    (
        "history",
        "newest first",
        "reversed(newest[:HISTORY_LENGTH])",
        "newest[:HISTORY_LENGTH]",
        FAILED,
        "these are newest first",
    ),
    (
        "history",
        "messages not saved",
        "ChatMessage.objects.create(room=self.room, user=self.user, text=text)",
        "pass",
        FAILED,
        "save each message",
    ),
    ("history", "history from every room", "filter(room=self.room)", "all()", FAILED, "for this room only"),
    (
        "history",
        "replays every message",
        "reversed(newest[:HISTORY_LENGTH])",
        "reversed(newest)",
        FAILED,
        "got 12 messages ('alice: message 1' … 'alice: message 12') — replay only the last HISTORY_LENGTH (10)",
    ),
    (
        "history",
        "never leaves the group",
        "            await self.channel_layer.group_discard(self.group_name, self.channel_name)\n",
        "            pass\n",
        FAILED,
        "after bob leaving: expected only alice's channel left in the group, got 2 channels",
    ),
    (
        "test_echo",
        "never asserts the reply text",
        '== {"message": "You said: ',
        '!= {"message": "Nope: ',
        FAILED,
        'none of them fails when the consumer answers {"message": "You say: hi"} instead of "You said: hi"',
    ),
    (
        "test_echo",
        "expects the socket to close after a bad frame",
        '    assert await communicator.receive_json_from(timeout=1) == {"message": "You said: still there?"}',
        '    assert (await communicator.receive_output(timeout=1))["type"] == "websocket.close"',
        FAILED,
        "your test test_a_bad_frame_gets_an_error_and_the_socket_stays_open fails on the correct consumer: ",
    ),
    (
        "test_rooms",
        "no test of the refresh token",
        "async def test_a_refresh_token_is_refused(",
        "async def refresh_token_is_refused(",
        FAILED,
        "none of them fails when the consumer lets a refresh token in as if it were an access token",
    ),
    (
        "test_rooms",
        "never checks the group after leaving",
        '    assert len(get_channel_layer().groups.get("chat_lobby", {})) == 1  # alice only\n',
        "",
        FAILED,
        "none of them fails when the consumer forgets to leave the room on disconnect (no group_discard)",
    ),
    (
        "history",
        "history lines without the username",
        "[str(message) for message in",
        "[message.text for message in",
        FAILED,
        "send each as '<username>: <text>'",
    ),
]


@pytest.mark.parametrize(
    "exercise_id, mistake, old, new, status, words", WRONG, ids=[f"{row[0]}: {row[1]}" for row in WRONG]
)
def test_known_wrong_implementations_are_rejected(exercise_id, mistake, old, new, status, words, tmp_path):
    exercise = find_exercise(exercise_id)
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, old, new)
    outcome = check_exercise(exercise, root)
    assert outcome.status == status, outcome.summary
    assert words in outcome.summary


ERROR_ROWS = [row for row in WRONG if row[4] == ERROR]


@pytest.mark.parametrize(
    "exercise_id, mistake, old, new, status, words", ERROR_ROWS, ids=[f"{row[0]}: {row[1]}" for row in ERROR_ROWS]
)
def test_an_error_shows_the_learners_frames_only(exercise_id, mistake, old, new, status, words, tmp_path):
    """Every exception in learner code is the learner's, located: their file and line, never ours."""
    exercise = find_exercise(exercise_id)
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, old, new)
    outcome = check_exercise(exercise, root)
    shown = str(outcome) + outcome._repr_html_()
    for ours in ("workbook/checker", "workbook.checker", "site-packages", "asgiref", "Traceback"):
        assert ours not in shown, f"{ours!r} in what the learner sees:\n{shown}"
    assert f"{exercise.files[0].split('/')[-1]}, line" in outcome.summary and " while " in outcome.summary
    file_lines = [line for line in outcome.details if line.startswith("File ")]
    assert file_lines and all(str(root) in line for line in file_lines), outcome.details
    assert outcome.details[-1].split(":")[0] in outcome.summary  # the exception type, last
    assert "fix the error in" in outcome.next_step


def test_a_crash_inside_daphne_is_read_from_its_log(tmp_path):
    exercise = find_exercise("jwt_auth")
    root = learner_copy(
        tmp_path, exercise, SOLUTIONS_DIR, 'token = query.get("token", [None])[0]', 'token = query["token"][0]'
    )
    outcome = check_exercise(exercise, root)
    assert outcome.status == ERROR
    assert outcome.summary.startswith("your code raised KeyError: 'token' (consumers.py, line ")
    assert "while connecting without a token (in daphne)" in outcome.summary
    assert "HTTP 500" not in outcome.summary and "accept() first" not in outcome.summary
    log = Path(outcome.log)
    assert log.is_file() and "KeyError: 'token'" in log.read_text()
    assert '    token = query["token"][0]' in outcome.details


@pytest.mark.parametrize(
    "mistake, advice",
    [
        ("ORM called from async code", "@database_sync_to_async"),
        ("crashes on text that is not JSON", "catch it and answer with an error frame"),
        ("crashes in connect() without a token", "read it with .get()"),
    ],
)
def test_common_exceptions_come_with_their_usual_fix(mistake, advice, tmp_path):
    exercise_id, _, old, new, *_ = next(row for row in WRONG if row[1] == mistake)
    exercise = find_exercise(exercise_id)
    outcome = check_exercise(exercise, learner_copy(tmp_path, exercise, SOLUTIONS_DIR, old, new))
    assert outcome.status == ERROR
    assert advice in outcome.next_step and "fix the error in" in outcome.next_step


def test_a_bug_in_the_checker_is_not_blamed_on_the_learner(tmp_path, monkeypatch):
    from workbook.checker import checks

    async def broken_check(context):
        context.load()
        raise RuntimeError("checker bug")

    monkeypatch.setitem(checks.CHECKS, "echo_types", broken_check)
    exercise = find_exercise("echo_types")
    outcome = check_exercise(exercise, learner_copy(tmp_path, exercise, SOLUTIONS_DIR))
    assert outcome.status == ERROR
    assert "the checker itself failed" in outcome.summary and "not in your code" in outcome.summary


def test_close_codes_come_from_protocol_everywhere():
    import re

    from websocket_app.protocol import CLOSE_CODES
    from workbook.paths import REPO_DIR

    retyped = re.compile(r"\b(" + "|".join(map(str, CLOSE_CODES)) + r")\b")
    checker_source = "".join(path.read_text() for path in (REPO_DIR / "workbook" / "checker").glob("*.py"))
    assert not retyped.search(checker_source), "a close code is retyped in the checker"
    assert "from websocket_app.protocol import BAD_ROOM, UNAUTHENTICATED" in checker_source
    for root in (EXERCISES_DIR, SOLUTIONS_DIR):
        for path in root.rglob("*.py"):
            text = path.read_text()
            code = [line.split("#")[0] for line in text.split('"""', 2)[-1].splitlines()]  # comments may say 4401
            assert not retyped.search("\n".join(code)), f"{path}: a close code is retyped"
            assert "re.compile" not in text, f"{path}: use ROOM_NAME_PATTERN from websocket_app.protocol"
    for name in ("02_jwt_auth/consumers.py", "03_rooms/consumers.py", "05_history/consumers.py"):
        assert "from websocket_app.protocol import" in (EXERCISES_DIR / name).read_text()


def test_outcome_kinds_are_one_enum_and_an_outcome_renders_itself():
    from workbook.checker import Outcome, Status

    assert {status.value for status in Status} == {"passed", "failed", "not attempted", "error"}
    outcome = Outcome("rooms", "failed", "after x: expected <y>, got z", "fix it", details=["File a"])
    assert outcome.status is Status.FAILED
    again = Outcome.from_json(outcome.to_json())
    assert again == outcome
    rendered = outcome._repr_html_()
    assert Status.FAILED.colour in rendered and "&lt;y&gt;" in rendered and "File a" in rendered
    assert str(outcome).startswith("✘ rooms: FAILED — after x")


def test_every_exercise_has_at_least_two_wrong_implementations():
    for exercise_id in EXERCISE_IDS:
        assert sum(row[0] == exercise_id for row in WRONG) >= 2, exercise_id


def test_a_syntax_error_is_an_error_with_its_line(tmp_path):
    exercise = find_exercise("echo_types")
    root = learner_copy(
        tmp_path, exercise, SOLUTIONS_DIR, "    async def connect(self):", "    async def connect(self)"
    )
    outcome = check_exercise(exercise, root)
    assert outcome.status == ERROR
    assert "SyntaxError" in outcome.summary and "consumers.py, line" in outcome.summary


def test_code_that_blocks_the_loop_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "CHECK_TIMEOUT", 2.0)
    exercise = find_exercise("echo_types")
    root = learner_copy(
        tmp_path,
        exercise,
        SOLUTIONS_DIR,
        "        await self.accept()\n",
        "        import time\n        time.sleep(30)\n        await self.accept()\n",
    )
    outcome = check_exercise(exercise, root)
    assert outcome.status == ERROR
    assert "blocked the event loop" in outcome.summary


def test_code_that_awaits_forever_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "CHECK_TIMEOUT", 1.0)
    exercise = find_exercise("echo_types")
    root = learner_copy(
        tmp_path,
        exercise,
        SOLUTIONS_DIR,
        "        await self.accept()\n",
        "        import asyncio\n        await asyncio.Event().wait()\n        await self.accept()\n",
    )
    outcome = check_exercise(exercise, root)
    assert outcome.status in (FAILED, ERROR) and outcome.status != PASSED


async def test_a_consumer_served_in_daphne_logs_the_learners_bad_send(tmp_path):
    """serve_exercise's daphne: a dict sent as text_data fails at the learner's line, in the log."""
    from workbook.checker.tracebacks import crashes_in_log
    from workbook.client import Client, SocketClosed
    from workbook.server import start_server

    exercise = find_exercise("echo_types")
    root = learner_copy(
        tmp_path,
        exercise,
        SOLUTIONS_DIR,
        "await self.send(text_data=json.dumps(data))",
        "await self.send(text_data=data)",
    )
    learner_file = root / exercise.files[0]
    env = {"WORKBOOK_EXERCISE_FILE": str(learner_file), "WORKBOOK_EXERCISE_CONSUMER": exercise.entry_point}
    with start_server(
        "echo", application="workbook.exercise_asgi:application", env=env, wait_for_handshake=False
    ) as server:
        client = await Client.connect(server)
        with pytest.raises(SocketClosed) as closed:
            await client.receive(timeout=5)
        assert closed.value.code == 1011  # daphne's "internal error": the consumer raised
        crashes = crashes_in_log(server.log(), learner_file)
    assert crashes, server.log()
    assert crashes[-1].exception.startswith("TypeError: send(text_data=...) got a dict, not a str")
    assert "    await self.send(text_data=data)" in crashes[-1].lines()
