"""The notebook side of the exercises: check() returns an Outcome that renders itself,
progress() is the CLI's progress as a table, hint() explains a level that does not exist."""

import pytest

from workbook import notebook
from workbook.checker import Outcome, Status
from workbook.exercises import load_exercises


def test_check_returns_an_outcome_that_renders_itself():
    outcome = notebook.check("echo_types")  # the shipped file: not attempted
    assert isinstance(outcome, Outcome) and outcome.status is Status.NOT_ATTEMPTED
    rendered = outcome._repr_html_()
    assert Status.NOT_ATTEMPTED.colour in rendered and "NOT ATTEMPTED" in rendered
    assert "exercises/01_echo_types/consumers.py" in rendered and "TODO" in rendered


def test_a_shipped_exercise_is_checked_in_the_kernel_and_kept_like_any_check(tmp_path, monkeypatch):
    """No fresh process for files as shipped, but the outcome is recorded for progress and
    queued for a joined workshop board exactly as ``python -m workbook check`` does."""
    import json

    from workbook.board.client import CREDENTIALS, read_queue
    from workbook.exercises import files_hash, find_exercise, recorded_progress

    monkeypatch.setenv("WORKBOOK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBOOK_BOARD_DIR", str(tmp_path / "board"))
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / CREDENTIALS).write_text(json.dumps({"url": "http://127.0.0.1:9/", "token": "t"}))
    outcome = notebook.check("rooms")
    assert outcome.status is Status.NOT_ATTEMPTED
    assert recorded_progress()["rooms"] == {
        "status": "not attempted",
        "sha256": files_hash(find_exercise("rooms")),
    }
    assert [(report["exercise"], report["outcome"]) for report in read_queue(tmp_path / "board")] == [
        ("rooms", "not attempted")
    ]


def test_check_of_an_unknown_exercise_is_an_error_outcome_naming_the_exercises():
    outcome = notebook.check("nope")
    assert outcome.status is Status.ERROR
    assert "echo_types" in outcome.summary


def test_progress_is_a_table_with_the_count_and_the_next_exercise():
    shown = notebook.progress().data
    exercises = load_exercises()
    assert f"0 of {len(exercises)} passed" in shown
    assert f"<progress value='0' max='{len(exercises)}'>" in shown
    assert all(f"<td style='text-align:left'>{exercise.id}</td>" in shown for exercise in exercises)
    assert "python -m workbook check echo_types" in shown


@pytest.mark.parametrize("level", [0, 9])
def test_hint_out_of_range_lists_the_levels(level, capsys):
    notebook.hint("rooms", level)
    assert f"rooms has hints at levels 1, 2, 3; there is no level {level}" in capsys.readouterr().out
