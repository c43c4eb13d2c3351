"""The exercises: their metadata, their status, hints, solutions and resets.

``exercises/`` and ``solutions/`` mirror each other file for file (like rustlings);
``workbook/exercises.toml`` describes every exercise in one place.
"""
import hashlib
import json
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .paths import EXERCISES_DIR, REPO_DIR, SOLUTIONS_DIR, data_dir

METADATA = Path(__file__).with_name("exercises.toml")


@dataclass(frozen=True)
class Exercise:
    number: int
    id: str
    title: str
    stage: str
    consumer: str
    files: tuple
    docs: str
    hints: tuple
    shipped_sha256: dict

    def exercise_paths(self) -> list[Path]:
        return [EXERCISES_DIR / name for name in self.files]

    def solution_paths(self) -> list[Path]:
        return [SOLUTIONS_DIR / name for name in self.files]

    def main_file(self, root: Path = EXERCISES_DIR) -> Path:
        return root / self.files[0]

    def attempted(self, root: Path = EXERCISES_DIR) -> bool:
        """False while every file under ``root`` is exactly as shipped (line endings aside)."""
        return any(content_hash(root / name) != self.shipped_sha256.get(name) for name in self.files)


def content_hash(path: Path) -> str:
    """SHA-256 of a file with CRLF line endings folded (a Windows checkout is not an edit)."""
    if not path.exists():
        return "missing"
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def load_exercises() -> list[Exercise]:
    entries = tomllib.loads(METADATA.read_text())["exercises"]
    return [
        Exercise(number=number, id=entry["id"], title=entry["title"], stage=entry["stage"],
                 consumer=entry["consumer"], files=tuple(entry["files"]), docs=entry["docs"],
                 hints=tuple(entry["hints"]), shipped_sha256=dict(entry.get("shipped_sha256", {})))
        for number, entry in enumerate(entries, start=1)
    ]


class UnknownExercise(LookupError):
    pass


def find_exercise(key: str) -> Exercise:
    """By id (``echo_types``), number (``1``, ``01``) or folder name (``01_echo_types``)."""
    exercises = load_exercises()
    for exercise in exercises:
        folder = Path(exercise.files[0]).parts[0]
        if key in (exercise.id, folder) or (key.isdigit() and int(key) == exercise.number):
            return exercise
    known = ", ".join(exercise.id for exercise in exercises)
    raise UnknownExercise(f"no exercise {key!r}; the exercises are: {known}")


# --- Progress: the last outcome of each exercise, for `list` ------------------------------
def _progress_file() -> Path:
    return data_dir() / "progress.json"


def recorded_progress() -> dict:
    try:
        return json.loads(_progress_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def record_outcome(exercise_id: str, status: str) -> None:
    progress = recorded_progress()
    progress[exercise_id] = status
    _progress_file().parent.mkdir(parents=True, exist_ok=True)
    _progress_file().write_text(json.dumps(progress, indent=2))


def status_of(exercise: Exercise) -> str:
    if not exercise.attempted():
        return "not attempted"
    return recorded_progress().get(exercise.id, "attempted, not checked")


# --- Hints, solutions, resets -------------------------------------------------------------
def hint(exercise: Exercise, level: int = 1) -> str:
    level = max(1, min(level, len(exercise.hints)))
    more = (f"\n(hint {level} of {len(exercise.hints)}; the next level, {level + 1}, says more)"
            if level < len(exercise.hints) else f"\n(last hint; docs: {exercise.docs})")
    return f"Hint {level} for {exercise.id}: {exercise.hints[level - 1]}{more}"


def solution_text(exercise: Exercise) -> str:
    parts = []
    for path in exercise.solution_paths():
        parts.append(f"# ---- {path.relative_to(REPO_DIR)} ----\n{path.read_text()}")
    return "\n".join(parts)


class ResetImpossible(RuntimeError):
    pass


def reset(exercise: Exercise) -> list[Path]:
    """Put the exercise's files back as shipped, found by hash in the git history."""
    restored = []
    for name, path in zip(exercise.files, exercise.exercise_paths()):
        if path.exists() and content_hash(path) == exercise.shipped_sha256[name]:
            continue
        path.write_bytes(_shipped_version(path, exercise.shipped_sha256[name]))
        restored.append(path)
    return restored


def _shipped_version(path: Path, wanted_hash: str) -> bytes:
    relative = path.relative_to(REPO_DIR).as_posix()
    try:
        commits = subprocess.run(["git", "log", "--format=%H", "--", relative], cwd=REPO_DIR,
                                 capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        raise ResetImpossible(
            f"{relative} cannot be reset: this is not a git checkout. Download a fresh copy of "
            f"the file from the workbook's repository.") from None
    for commit in commits:
        content = subprocess.run(["git", "show", f"{commit}:{relative}"], cwd=REPO_DIR,
                                 capture_output=True, check=False).stdout
        if hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest() == wanted_hash:
            return content
    raise ResetImpossible(f"the shipped version of {relative} is not in this checkout's history")
