"""The exercises: their metadata, their status, hints, solutions and resets.

``exercises/`` and ``solutions/`` mirror each other file for file (like rustlings);
``workbook/exercises.toml`` describes every exercise in one place.
"""

import hashlib
import json
import shutil
import subprocess
import time
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
    entry_point: str  # what the main file defines: a consumer class or a middleware stack (see exercises.toml)
    files: tuple[str, ...]
    docs: str
    hints: tuple[str, ...]
    shipped_sha256: dict[str, str]
    kind: str = "code"  # "code": write a consumer/middleware; "tests": write the tests that catch bugs

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
        Exercise(
            number=number,
            id=entry["id"],
            title=entry["title"],
            stage=entry["stage"],
            entry_point=entry["entry_point"],
            files=tuple(entry["files"]),
            docs=entry["docs"],
            hints=tuple(entry["hints"]),
            shipped_sha256=dict(entry.get("shipped_sha256", {})),
            kind=entry.get("kind", "code"),
        )
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


# --- Progress: the last outcome of each exercise, with the file contents it was earned on ---
CHANGED = "changed since last check"
NOT_CHECKED = "attempted, not checked"


def _progress_file() -> Path:
    return data_dir() / "progress.json"


def files_hash(exercise: Exercise, root: Path = EXERCISES_DIR) -> str:
    """One hash over all of an exercise's files: a status belongs to exactly these contents."""
    return hashlib.sha256("".join(content_hash(root / name) for name in exercise.files).encode()).hexdigest()


def recorded_progress() -> dict[str, dict[str, str]]:
    """exercise id -> {"status": ..., "sha256": hash of the files when it was checked}."""
    try:
        progress = json.loads(_progress_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {key: value for key, value in progress.items() if isinstance(value, dict)}


def record_outcome(exercise: Exercise, status: str, sha256: str) -> None:
    """Remember ``status`` for the files whose ``files_hash`` (taken *before* the check) is ``sha256``."""
    progress = recorded_progress()
    progress[exercise.id] = {"status": str(status), "sha256": sha256}
    _progress_file().parent.mkdir(parents=True, exist_ok=True)
    temporary = _progress_file().with_suffix(".tmp")
    temporary.write_text(json.dumps(progress, indent=2))
    temporary.replace(_progress_file())  # never a half-written file, even if two checks race


def status_of(exercise: Exercise, root: Path = EXERCISES_DIR) -> str:
    """The last check's status, but only while the files are what that check saw."""
    if not exercise.attempted(root):
        return "not attempted"
    recorded = recorded_progress().get(exercise.id)
    if recorded is None:
        return NOT_CHECKED
    if recorded.get("sha256") != files_hash(exercise, root):
        return CHANGED
    return str(recorded["status"])


# --- Hints, solutions, resets -------------------------------------------------------------
class HintLevelError(ValueError):
    pass


def hint(exercise: Exercise, level: int = 1) -> str:
    count = len(exercise.hints)
    if not 1 <= level <= count:
        raise HintLevelError(
            f"{exercise.id} has hints at levels {', '.join(map(str, range(1, count + 1)))}; there is no level {level}"
        )
    more = (
        f"\n(hint {level} of {count}; the next level, {level + 1}, says more)"
        if level < count
        else f"\n(last hint; docs: {exercise.docs})"
    )
    return f"Hint {level} for {exercise.id}: {exercise.hints[level - 1]}{more}"


def solution_text(exercise: Exercise) -> str:
    parts = []
    for path in exercise.solution_paths():
        parts.append(f"# ---- {path.relative_to(REPO_DIR)} ----\n{path.read_text()}")
    return "\n".join(parts)


class ResetImpossible(RuntimeError):
    pass


def backups_dir(exercise: Exercise) -> Path:
    return data_dir() / "backups" / exercise.id


@dataclass
class ResetResult:
    restored: list[Path]  # paths put back as shipped
    backup: Path | None  # the folder holding the learner's files as they were, if any changed


def reset(exercise: Exercise) -> ResetResult:
    """Put the exercise's files back as shipped, found by hash in the git history.

    The learner's files are copied to a dated backup folder first: a reset never loses work.
    """
    changed = [
        (name, path)
        for name, path in zip(exercise.files, exercise.exercise_paths(), strict=True)
        if not (path.exists() and content_hash(path) == exercise.shipped_sha256[name])
    ]
    shipped = {name: _shipped_version(path, exercise.shipped_sha256[name]) for name, path in changed}
    backup: Path | None = None
    if any(path.exists() for _, path in changed):
        backup = backups_dir(exercise) / time.strftime("%Y%m%d-%H%M%S")
        while backup.exists():  # two resets within a second
            backup = backup.with_name(backup.name + "-1")
        for name, path in changed:
            if path.exists():
                (backup / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, backup / name)
    for name, path in changed:
        path.write_bytes(shipped[name])
    return ResetResult([path for _, path in changed], backup)


def list_backups(exercise: Exercise) -> list[Path]:
    """The exercise's backup folders, newest first."""
    folder = backups_dir(exercise)
    return sorted((entry for entry in folder.iterdir() if entry.is_dir()), reverse=True) if folder.exists() else []


def restore_commands(exercise: Exercise, backup: Path) -> list[str]:
    """The shell commands that put a backup back in place."""
    return [
        f"cp {backup / name} {(EXERCISES_DIR / name).relative_to(REPO_DIR)}"
        for name in exercise.files
        if (backup / name).exists()
    ]


def _shipped_version(path: Path, wanted_hash: str) -> bytes:
    relative = path.relative_to(REPO_DIR).as_posix()
    try:
        commits = subprocess.run(
            ["git", "log", "--format=%H", "--", relative], cwd=REPO_DIR, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        raise ResetImpossible(
            f"{relative} cannot be reset: this is not a git checkout. Download a fresh copy of "
            f"the file from the workbook's repository."
        ) from None
    for commit in commits:
        content = subprocess.run(
            ["git", "show", f"{commit}:{relative}"], cwd=REPO_DIR, capture_output=True, check=False
        ).stdout
        if hashlib.sha256(content.replace(b"\r\n", b"\n")).hexdigest() == wanted_hash:
            return content
    raise ResetImpossible(f"the shipped version of {relative} is not in this checkout's history")
