"""The checker of the exercises where the learner writes tests: it runs them against the
correct consumer and against broken ones (workbook/checker/buggy_consumers.py)."""

from pathlib import Path

import pytest

from workbook.checker import ERROR, FAILED, NOT_ATTEMPTED, PASSED, check_exercise
from workbook.checker.buggy_consumers import VARIANTS
from workbook.exercises import find_exercise
from workbook.paths import SOLUTIONS_DIR


def learner_tests(tmp_path: Path, exercise_id: str, text: str) -> tuple:
    exercise = find_exercise(exercise_id)
    path = tmp_path / "learner" / exercise.files[0]
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return exercise, tmp_path / "learner"


@pytest.mark.parametrize("exercise_id", ["test_echo", "test_rooms"])
def test_the_shipped_files_are_not_attempted(exercise_id):
    assert check_exercise(find_exercise(exercise_id)).status == NOT_ATTEMPTED


@pytest.mark.parametrize("exercise_id", ["test_echo", "test_rooms"])
def test_the_solutions_pass_and_catch_every_bug(exercise_id):
    outcome = check_exercise(find_exercise(exercise_id), SOLUTIONS_DIR)
    assert outcome.status == PASSED, outcome.summary
    assert f"catch all {len(VARIANTS[exercise_id][1])} broken ones" in outcome.summary


def test_an_empty_test_file_is_rejected(tmp_path):
    outcome = check_exercise(*learner_tests(tmp_path, "test_echo", '"""No tests yet."""\n'))
    assert outcome.status == FAILED
    assert outcome.summary == "test_consumer.py has no tests"
    assert "write async functions named test_" in outcome.next_step


def test_a_test_that_asserts_nothing_catches_nothing(tmp_path):
    outcome = check_exercise(
        *learner_tests(tmp_path, "test_echo", "async def test_fine(echo_application):\n    assert True\n")
    )
    assert outcome.status == FAILED
    assert outcome.summary.startswith(
        "your tests pass on the correct consumer but none of them fails when "
        'the consumer answers {"message": "You say: hi"}'
    )
    for _, _, what in VARIANTS["test_echo"][1][1:]:
        assert f"nor when it {what}" in outcome.summary


def test_an_always_failing_test_fails_on_the_correct_consumer(tmp_path):
    outcome = check_exercise(
        *learner_tests(tmp_path, "test_echo", "async def test_no(echo_application):\n    assert 1 == 2\n")
    )
    assert outcome.status == FAILED
    assert (
        outcome.summary == "your test test_no fails on the correct consumer: assert 1 == 2 (test_consumer.py, line 2)"
    )


def test_a_test_that_raises_is_an_error_with_its_line(tmp_path):
    outcome = check_exercise(
        *learner_tests(
            tmp_path, "test_echo", "async def test_oops(echo_application):\n    await communicator.connect()\n"
        )
    )
    assert outcome.status == ERROR
    assert "it raised NameError: name 'communicator' is not defined (test_consumer.py, line 2)" in outcome.summary


def test_a_file_that_does_not_import_is_an_error(tmp_path):
    outcome = check_exercise(*learner_tests(tmp_path, "test_rooms", "import no_such_module\n"))
    assert outcome.status == ERROR
    assert (
        outcome.summary == "pytest could not load test_rooms.py: ModuleNotFoundError: No module named 'no_such_module'"
    )


def test_tests_that_catch_only_one_bug_are_told_which_they_miss(tmp_path):
    solution = (SOLUTIONS_DIR / "07_test_rooms/test_rooms.py").read_text()
    only_the_first = solution.split("async def test_another_room")[0]  # catches "sender only" alone
    outcome = check_exercise(*learner_tests(tmp_path, "test_rooms", only_the_first))
    assert outcome.status == FAILED
    assert outcome.summary.startswith(
        "your tests pass on the correct consumer but none of them fails when the "
        "consumer forgets to leave the room on disconnect"
    )
    assert "sends each message back to its sender only" not in outcome.summary
    assert "nor when it lets a refresh token in" in outcome.summary
