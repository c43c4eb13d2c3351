"""The board's state, computed from the stored outcomes: what the page and the JSON show.

A cell is one attendee's latest outcome for one exercise, with how long they have
been failing it: ``{"outcome", "at", "seconds", "message", "failures_in_a_row",
"failing_since"}``.
"""

import functools

from django.db import IntegrityError, transaction

from .database import one_writer_at_a_time
from .models import Attendee, Outcome, Workshop
from .rules import STUCK_AFTER_FAILURES, STUCK_AFTER_SECONDS

FAILING = ("failed", "error")
RECENT_OUTCOMES = 20  # enough to count failures in a row up to "stuck", and beyond


@functools.cache  # read once per board process: exercises.toml does not change while it runs
def exercise_ids() -> tuple:
    from workbook.exercises import load_exercises

    return tuple(exercise.id for exercise in load_exercises())


@functools.cache
def outcome_names() -> tuple:
    """Outcomes spelled as ``check`` prints them: passed, failed, not attempted, error."""
    from workbook.checker.outcome import ERROR, FAILED, NOT_ATTEMPTED, PASSED

    return tuple(str(getattr(status, "value", status)) for status in (PASSED, FAILED, NOT_ATTEMPTED, ERROR))


def cell_of(outcomes: list) -> dict | None:
    """Fold one attendee's outcomes for one exercise (oldest first) into a cell."""
    if not outcomes:
        return None
    latest = outcomes[-1]
    failures, failing_since = 0, None
    for outcome in reversed(outcomes):
        if outcome.outcome not in FAILING:
            break
        failures += 1
        failing_since = outcome.at
    return {
        "outcome": latest.outcome,
        "at": _iso(latest.at),
        "seconds": latest.seconds,
        "message": latest.message,
        "failures_in_a_row": failures,
        "failing_since": _iso(failing_since) if failing_since else None,
    }


def _iso(moment) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def board_state(workshop: Workshop) -> dict:
    """Everything the page needs to draw the grid: one query for outcomes, one for attendees."""
    by_cell: dict = {}
    for outcome in Outcome.objects.filter(attendee__workshop=workshop).order_by("at", "id"):
        by_cell.setdefault((outcome.attendee_id, outcome.exercise), []).append(outcome)
    attendees = []
    for attendee in Attendee.objects.filter(workshop=workshop).order_by("joined", "id"):
        cells = {exercise: cell_of(outcomes) for (owner, exercise), outcomes in by_cell.items() if owner == attendee.id}
        attendees.append({"name": attendee.name, "exercises": cells})
    return {
        "workshop": workshop.code,
        "exercise_ids": list(exercise_ids()),
        "attendees": attendees,
        "stuck_after": {"failures": STUCK_AFTER_FAILURES, "seconds": STUCK_AFTER_SECONDS},
    }


def record(attendee: Attendee, report: dict) -> dict | None:
    """Store a report and return the attendee's new cell; None if this report was stored before."""
    try:
        with one_writer_at_a_time(), transaction.atomic():
            Outcome.objects.create(attendee=attendee, **report)
    except IntegrityError:  # the same report id again: its first delivery was not acknowledged
        return None
    recent = Outcome.objects.filter(attendee=attendee, exercise=report["exercise"]).order_by("-at", "-id")
    return cell_of(list(reversed(recent[:RECENT_OUTCOMES])))
