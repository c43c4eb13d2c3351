"""Where the learner stands: ``python -m workbook`` (or ``progress``) and ``progress()`` in a notebook.

Like rustlings: a bar, n of N passed, and the one next thing to do.
"""

from dataclasses import dataclass
from pathlib import Path

from .exercises import Exercise, load_exercises, status_of
from .paths import EXERCISES_DIR, REPO_DIR

BAR_WIDTH = 30


@dataclass
class Row:
    exercise: Exercise
    status: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def progress_rows(root: Path = EXERCISES_DIR) -> list[Row]:
    return [Row(exercise, status_of(exercise, root)) for exercise in load_exercises()]


def next_row(rows: list[Row], after: str | None = None) -> Row | None:
    """The first exercise not passed (after ``after``'s position, wrapping round), or None."""
    start = next((index + 1 for index, row in enumerate(rows) if row.exercise.id == after), 0)
    for row in rows[start:] + rows[:start]:
        if not row.passed:
            return row
    return None


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + f"] {done} of {total} passed"


def file_of(exercise: Exercise, root: Path = EXERCISES_DIR) -> str:
    path = exercise.main_file(root)
    try:
        return path.relative_to(REPO_DIR).as_posix()
    except ValueError:
        return str(path)


def next_step(row: Row | None) -> str:
    if row is None:
        return "Every exercise passes. Well done! Next: notebooks/README.md lists what to read next."
    exercise = row.exercise
    return (
        f"Next: {exercise.number}. {exercise.id} — {exercise.title} ({row.status}).\n"
        f"  Edit {file_of(exercise)}, then run: python -m workbook check {exercise.id}\n"
        f"  or let it re-check on every save:  python -m workbook watch {exercise.id}"
    )


def progress_text(root: Path = EXERCISES_DIR) -> str:
    rows = progress_rows(root)
    lines = [bar(sum(row.passed for row in rows), len(rows)), ""]
    upcoming = next_row(rows)
    for row in rows:
        marker = "→" if upcoming is not None and row is upcoming else " "
        lines.append(f"{marker} {row.exercise.number}. {row.exercise.id:<15} {row.status:<25} {row.exercise.title}")
    return "\n".join(lines + ["", next_step(upcoming)])
