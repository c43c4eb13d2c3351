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
    outcome = check_exercise(find_exercise(exercise_id), SOLUTIONS_DIR)
    assert outcome.status == PASSED, outcome.summary
    assert outcome.seconds < 10


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_shipped_stubs_fail_even_when_counted_as_attempted(exercise_id, tmp_path):
    exercise = find_exercise(exercise_id)
    root = learner_copy(tmp_path, exercise, EXERCISES_DIR, old='"""', new='"""\n# edited\n')
    outcome = check_exercise(exercise, root)
    assert outcome.status == FAILED, outcome.summary
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
    ("echo_types", "upper not applied", '{"message": message.upper()}', '{"message": message}',
     FAILED, 'expected {"message": "HI THERE"}, got {"message": "hi there"}'),
    ("echo_types", "crashes on text that is not JSON", "except (ValueError, RecursionError):",
     "except RecursionError:", ERROR, "your code raised JSONDecodeError"),
    ("echo_types", "pong as a message", '{"type": "pong"}', '{"message": "pong"}',
     FAILED, 'expected {"type": "pong"}'),
    ("jwt_auth", "closes before accept()",
     "        await self.accept()\n        if self.user.is_anonymous:",
     "        if self.user.is_anonymous:\n            await self.close(code=UNAUTHENTICATED)\n"
     "            return\n        await self.accept()\n        if self.user.is_anonymous:",
     FAILED, "HTTP 403 at the handshake"),
    ("jwt_auth", "UntypedToken accepts refresh tokens",
     "return jwt_auth.get_user(jwt_auth.get_validated_token(token))",
     "from rest_framework_simplejwt.tokens import UntypedToken\n"
     "            return jwt_auth.get_user(UntypedToken(token))",
     FAILED, "after connecting with a refresh token instead of an access token"),
    ("jwt_auth", "the seed's close code 1008", "UNAUTHENTICATED = 4401", "UNAUTHENTICATED = 1008",
     FAILED, "got close code 1011 (an internal error) — your code raised, or closed with a code daphne cannot send"),
    ("rooms", "no group_discard",
     "        await self.channel_layer.group_discard(self.group_name, self.channel_name)\n", "",
     FAILED, "call group_discard in disconnect()"),
    ("rooms", "replies to the sender only",
     'await self.broadcast(f"{self.user.username}: {message}")',
     'await self.send(text_data=json.dumps({"message": f"{self.user.username}: {message}"}))',
     FAILED, "(bob's socket): expected {\"message\": \"alice: hi\"}, got nothing"),
    ("rooms", "no room name check", "if not ROOM_NAME.match(room):", "if False:",
     FAILED, "expected an error frame"),
    ("jwt_middleware", "changes the caller's scope",
     "scope = dict(scope, user=await user_for_token(token))", 'scope["user"] = await user_for_token(token)',
     FAILED, "pass on a copy"),
    ("jwt_middleware", "reads only a leading token parameter",
     'token = query.get("token", [None])[0]',
     'token = scope["query_string"].decode().removeprefix("token=")',
     FAILED, "among other parameters"),
    ("jwt_middleware", "ORM called from async code",
     "@database_sync_to_async\ndef user_for_token(token):", "async def user_for_token(token):",
     ERROR, "your code raised SynchronousOnlyOperation"),
    ("history", "newest first", "reversed(newest[:HISTORY_LENGTH])", "newest[:HISTORY_LENGTH]",
     FAILED, '"alice: message 3"'),
    ("history", "messages not saved",
     "ChatMessage.objects.create(room=self.room, user=self.user, text=text)", "pass",
     FAILED, "save each message"),
    ("history", "history from every room", "filter(room=self.room)", "all()",
     FAILED, "for this room only"),
]


@pytest.mark.parametrize("exercise_id, mistake, old, new, status, words", WRONG,
                         ids=[f"{row[0]}: {row[1]}" for row in WRONG])
def test_known_wrong_implementations_are_rejected(exercise_id, mistake, old, new, status, words, tmp_path):
    exercise = find_exercise(exercise_id)
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, old, new)
    outcome = check_exercise(exercise, root)
    assert outcome.status == status, outcome.summary
    assert words in outcome.summary


def test_every_exercise_has_at_least_two_wrong_implementations():
    for exercise_id in EXERCISE_IDS:
        assert sum(row[0] == exercise_id for row in WRONG) >= 2, exercise_id


def test_a_syntax_error_is_an_error_with_its_line(tmp_path):
    exercise = find_exercise("echo_types")
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, "    async def connect(self):", "    async def connect(self)")
    outcome = check_exercise(exercise, root)
    assert outcome.status == ERROR
    assert "SyntaxError" in outcome.summary and "consumers.py, line" in outcome.summary


def test_code_that_blocks_the_loop_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "CHECK_TIMEOUT", 2.0)
    exercise = find_exercise("echo_types")
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, "        await self.accept()\n",
                        "        import time\n        time.sleep(30)\n        await self.accept()\n")
    outcome = check_exercise(exercise, root)
    assert outcome.status == ERROR
    assert "blocked the event loop" in outcome.summary


def test_code_that_awaits_forever_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "CHECK_TIMEOUT", 1.0)
    exercise = find_exercise("echo_types")
    root = learner_copy(tmp_path, exercise, SOLUTIONS_DIR, "        await self.accept()\n",
                        "        import asyncio\n        await asyncio.Event().wait()\n        await self.accept()\n")
    outcome = check_exercise(exercise, root)
    assert outcome.status in (FAILED, ERROR) and outcome.status != PASSED
