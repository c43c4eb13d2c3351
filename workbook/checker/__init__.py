"""The exercise checker: runs an exercise's behavioural check and reports one of four outcomes.

outcome = check_exercise(find_exercise("echo_types"))
outcome.status   # "passed", "failed", "not attempted" or "error"
"""

import asyncio
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from ..django_env import setup_django
from ..exercises import Exercise
from ..paths import EXERCISES_DIR, SOLUTIONS_DIR

setup_django()  # the checks import the tutorial project (its protocol, models, consumers)

from .checks import CHECKS, Context, make_tokens  # noqa: E402
from .outcome import (  # noqa: E402
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    SYMBOLS,
    LearnerCodeError,
    Outcome,
    Status,
    Unmet,
)
from .tracebacks import learner_traceback, repo_relative  # noqa: E402

CHECK_TIMEOUT = 30.0  # for a whole check; one normally takes about a second
GRACE_SECONDS = 2.0  # beyond CHECK_TIMEOUT, before a check that blocks its loop is given up


class CheckHung(Exception):
    """The learner's code blocked the event loop (it never awaited)."""


__all__ = ["check_exercise", "Outcome", "Status", "PASSED", "FAILED", "NOT_ATTEMPTED", "ERROR", "SYMBOLS"]


def check_exercise(exercise: Exercise, root: Path = EXERCISES_DIR) -> Outcome:
    """Check the learner's files under ``root`` (``solutions/`` for the reference)."""
    started = time.monotonic()
    learner_file = exercise.main_file(root)
    shipped = shipped_outcome(exercise, root)
    if shipped is not None:
        return shipped
    if exercise.kind == "tests":
        from .testwriting import check_tests

        outcome = check_tests(exercise, learner_file)
    else:
        outcome = _run(exercise, learner_file)
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def shipped_outcome(exercise: Exercise, root: Path = EXERCISES_DIR) -> Outcome | None:
    """NOT ATTEMPTED while the learner's files are exactly as shipped; None once edited."""
    if root == SOLUTIONS_DIR or exercise.attempted(root):
        return None
    learner_path = repo_relative(exercise.main_file(root))
    return Outcome(
        exercise.id,
        NOT_ATTEMPTED,
        f"{learner_path} is as shipped",
        f"edit {learner_path} where it says TODO, then check again",
    )


def keep_outcome(exercise: Exercise, outcome: Outcome, checked_hash: str) -> None:
    """Remember the outcome for these files (``progress``) and tell the workshop board, if joined."""
    from ..board.client import report_outcome
    from ..exercises import record_outcome

    record_outcome(exercise, outcome.status, checked_hash)
    report_outcome(outcome)  # background, never fails


def _run(exercise: Exercise, learner_file: Path) -> Outcome:
    from ..server import ServerStartError

    hint = f"python -m workbook hint {exercise.id}"
    learner_path = repo_relative(learner_file)
    try:
        _run_async(_check(exercise, learner_file), CHECK_TIMEOUT)
    except Unmet as unmet:
        return Outcome(exercise.id, FAILED, str(unmet), f"fix {learner_path}; stuck? {hint}")
    except LearnerCodeError as error:
        advice = f"{error.advice}; " if error.advice else ""
        return Outcome(
            exercise.id,
            ERROR,
            str(error),
            f"{advice}fix the error in {learner_path}; stuck? {hint}",
            details=error.details,
            log=error.log,
        )
    except TimeoutError:
        return Outcome(
            exercise.id,
            ERROR,
            f"the check did not finish in {CHECK_TIMEOUT:.0f} s: your code awaits something that never comes",
            "look for an await that never ends in your code",
        )
    except CheckHung:
        return Outcome(
            exercise.id,
            ERROR,
            f"your code blocked the event loop for over {CHECK_TIMEOUT:.0f} s (a loop that never awaits?)",
            "look for a loop without await, or a blocking call like time.sleep()",
        )
    except ServerStartError as error:
        return Outcome(
            exercise.id,
            ERROR,
            "daphne could not start your consumer: " + str(error).splitlines()[-1],
            f"read the server log above; {hint}",
        )
    except Exception as error:  # anything else: whose is it? The traceback says.
        return _unexpected(exercise, learner_file, error)
    return Outcome(exercise.id, PASSED, "all expectations met")


def _unexpected(exercise: Exercise, learner_file: Path, error: Exception) -> Outcome:
    """An exception no step caught: the learner's if it passed through their file, else ours."""
    frames, where = learner_traceback(error, learner_file)
    if frames:
        return Outcome(
            exercise.id,
            ERROR,
            f"your code raised {type(error).__name__}: {error}{where}",
            f"fix the error in {repo_relative(learner_file)}",
            details=frames,
        )
    return Outcome(
        exercise.id,
        ERROR,
        f"the checker itself failed ({type(error).__name__}: {error}); this is a bug in the workbook, not in your code",
        "please report it, with this line; meanwhile try serve_exercise() by hand",
    )


async def _check(exercise: Exercise, learner_file: Path) -> None:
    from channels.layers import channel_layers

    channel_layers.backends.clear()  # a fresh in-memory layer for this check's event loop
    context = Context(learner_file, exercise.entry_point, await make_tokens())
    await asyncio.wait_for(CHECKS[exercise.id](context), CHECK_TIMEOUT)


def _run_async(coroutine: Coroutine[Any, Any, None], timeout: float) -> None:
    """Run the check on its own event loop in a daemon thread, and never wait forever.

    ``asyncio.wait_for`` stops a check whose code awaits forever; only a thread can
    stop waiting for code that never awaits (``while True: pass`` blocks its loop).
    A separate thread also works where a loop already runs (a notebook kernel).
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="exercise-check", daemon=True)
    thread.start()
    thread.join(timeout + GRACE_SECONDS)
    if thread.is_alive():
        raise CheckHung()
    if errors:
        raise errors[0]
