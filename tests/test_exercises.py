"""Authoring lint for exercises/ and solutions/, and the exercise commands of the CLI."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_workbook

from workbook.checker.loading import learner_attribute, load_learner_module
from workbook.exercises import content_hash, find_exercise, load_exercises
from workbook.paths import EXERCISES_DIR, REPO_DIR, SOLUTIONS_DIR

EXERCISES = load_exercises()


def files_under(root: Path) -> set:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name not in ("README.md", "conftest.py")
    }


def test_both_folders_share_one_conftest_for_the_test_writing_exercises():
    assert (EXERCISES_DIR / "conftest.py").read_text() == (SOLUTIONS_DIR / "conftest.py").read_text()


def test_exercises_and_solutions_mirror_each_other():
    assert files_under(EXERCISES_DIR) == files_under(SOLUTIONS_DIR)
    listed = {name for exercise in EXERCISES for name in exercise.files}
    assert listed == files_under(EXERCISES_DIR), "every exercise file is listed in exercises.toml"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_metadata_is_complete(exercise):
    assert exercise.id and exercise.title and exercise.entry_point
    assert exercise.stage in ("echo", "jwt", "chat")
    assert exercise.docs.startswith("https://")
    assert len(exercise.hints) >= 2 and all(len(hint) > 20 for hint in exercise.hints)
    for name in exercise.files:
        assert exercise.shipped_sha256.get(name) == content_hash(EXERCISES_DIR / name), (
            f"{name} changed: set its shipped_sha256 in workbook/exercises.toml to {content_hash(EXERCISES_DIR / name)}"
        )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_exercise_has_todos_and_solution_has_none(exercise):
    for name in exercise.files:
        assert "TODO" in (EXERCISES_DIR / name).read_text()
        assert "TODO" not in (SOLUTIONS_DIR / name).read_text()


@pytest.mark.parametrize("root", [EXERCISES_DIR, SOLUTIONS_DIR], ids=["exercises", "solutions"])
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_every_file_imports_as_shipped(exercise, root):
    path = exercise.main_file(root)
    module = load_learner_module(path)
    if exercise.kind == "tests":  # the learner writes tests: there is no consumer in the file
        assert any(name.startswith("test_") for name in vars(module)), path
    else:
        assert learner_attribute(module, exercise.entry_point, path)


def test_ids_numbers_and_folders_all_find_an_exercise():
    assert find_exercise("rooms") is not None
    assert find_exercise("3").id == find_exercise("03").id == find_exercise("03_rooms").id == "rooms"


workbook_command = run_workbook


def test_list_json_names_files_and_status():
    result = workbook_command("list", "--json")
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [exercise.id for exercise in EXERCISES]
    for row in rows:
        assert row["status"] == "not attempted"
        assert all((REPO_DIR / name).is_file() for name in row["exercise_files"] + row["solution_files"])
        assert row["stage"] and row["title"]


def test_check_reports_not_attempted_and_exits_non_zero():
    result = workbook_command("check")
    assert result.returncode == 1
    assert result.stdout.count("NOT ATTEMPTED") == len(EXERCISES)
    assert f"0 of {len(EXERCISES)} passed" in result.stdout


def test_check_solutions_passes_all_and_exits_zero():
    result = workbook_command("check", "--solutions")
    assert result.returncode == 0, result.stdout
    assert f"{len(EXERCISES)} of {len(EXERCISES)} passed" in result.stdout


def test_hint_levels_and_solution():
    first = workbook_command("hint", "rooms")
    second = workbook_command("hint", "rooms", "--level", "2")
    assert first.returncode == second.returncode == 0
    assert "Hint 1" in first.stdout and "Hint 2" in second.stdout and first.stdout != second.stdout
    solution = workbook_command("solution", "rooms")
    assert "class RoomChatConsumer" in solution.stdout and "TODO" not in solution.stdout


def test_unknown_exercise_says_which_exist():
    result = workbook_command("hint", "nope")
    assert result.returncode != 0
    assert "echo_types" in result.stderr


def test_reset_restores_the_shipped_file(tmp_path):
    """In a clone (so the real exercises stay untouched): edit, reset, as shipped again."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_DIR), str(clone)], check=True)
    exercise = find_exercise("history")
    if content_hash(clone / "exercises" / exercise.files[0]) != exercise.shipped_sha256[exercise.files[0]]:
        pytest.skip("the shipped exercise is not committed yet")
    edited = clone / "exercises" / exercise.files[0]
    edited.write_text(edited.read_text() + "\n# my attempt\n")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from workbook.cli import main; sys.exit(main(['reset', 'history']))"],
        cwd=clone,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "restored exercises/05_history/consumers.py" in result.stdout
    assert content_hash(edited) == exercise.shipped_sha256[exercise.files[0]]


# --- Progress, status bound to file contents, hints, resets, watch ------------------------
def learner_folder(tmp_path: Path) -> Path:
    """A copy of exercises/ as shipped, for commands run with --root (the real one stays untouched)."""
    root = tmp_path / "exercises"
    shutil.copytree(EXERCISES_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def isolated_command(tmp_path: Path, *args, timeout: float = 120):
    return run_workbook(*args, env={"WORKBOOK_DATA_DIR": str(tmp_path / "data")}, timeout=timeout)


def test_status_belongs_to_the_file_contents_it_was_earned_on(tmp_path, monkeypatch):
    from workbook import exercises as module

    monkeypatch.setenv("WORKBOOK_DATA_DIR", str(tmp_path / "data"))
    root = learner_folder(tmp_path)
    exercise = find_exercise("rooms")
    shutil.copy(SOLUTIONS_DIR / exercise.files[0], root / exercise.files[0])
    module.record_outcome(exercise, "passed", module.files_hash(exercise, root))
    assert module.status_of(exercise, root) == "passed"
    edited = root / exercise.files[0]
    edited.write_text(edited.read_text().replace('await self.broadcast(f"{self.user.username}: {message}")', "pass"))
    assert module.status_of(exercise, root) == module.CHANGED == "changed since last check"
    shutil.copy(EXERCISES_DIR / exercise.files[0], edited)  # back as shipped, like a reset
    assert module.status_of(exercise, root) == "not attempted"


def test_list_after_a_passing_check_and_an_edit_says_changed(tmp_path):
    root = learner_folder(tmp_path)
    exercise = find_exercise("echo_types")
    shutil.copy(SOLUTIONS_DIR / exercise.files[0], root / exercise.files[0])
    checked = isolated_command(tmp_path, "check", "echo_types", "--root", str(root))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "✔ echo_types: PASSED" in checked.stdout
    # `list` reads the real exercises/; the status file is what matters, so compare through status_of
    env_check = f"""
import os, sys
from pathlib import Path
from workbook.exercises import find_exercise, status_of
print(status_of(find_exercise('echo_types'), Path({str(root)!r})))
"""

    def status_now() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", env_check],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            env={**os.environ, "WORKBOOK_DATA_DIR": str(tmp_path / "data")},
            timeout=60,
        )

    status = status_now()
    assert status.stdout.strip() == "passed", status.stderr
    learner_file = root / exercise.files[0]
    learner_file.write_text(learner_file.read_text().replace("message.upper()", "message"))
    status = status_now()
    assert status.stdout.strip() == "changed since last check", status.stderr


def test_list_never_shows_a_stale_passed_for_the_real_exercises(tmp_path):
    """A recorded "passed" for other file contents is not shown as passed by `list`."""
    import json as json_module

    data = tmp_path / "data"
    data.mkdir()
    (data / "progress.json").write_text(
        json_module.dumps({exercise.id: {"status": "passed", "sha256": "0" * 64} for exercise in EXERCISES})
    )
    rows = json.loads(isolated_command(tmp_path, "list", "--json").stdout)
    assert {row["status"] for row in rows} == {"not attempted"}  # shipped files: nothing earned yet


def test_progress_is_the_default_command(tmp_path):
    plain = isolated_command(tmp_path)
    named = isolated_command(tmp_path, "progress")
    assert plain.returncode == named.returncode == 0, plain.stderr
    assert plain.stdout == named.stdout
    assert f"] 0 of {len(EXERCISES)} passed" in plain.stdout
    assert "Next: 1. echo_types" in plain.stdout
    assert "python -m workbook check echo_types" in plain.stdout
    assert "python -m workbook watch echo_types" in plain.stdout


def test_progress_counts_passed_exercises_and_names_the_next():
    from workbook.progress import Row, bar, next_row, next_step

    rows = [Row(exercise, "passed" if exercise.number <= 2 else "not attempted") for exercise in EXERCISES]
    width = 2 * len(rows)  # two characters per exercise
    assert bar(2, len(rows), width=width) == "[####" + "-" * (width - 4) + f"] 2 of {len(rows)} passed"
    upcoming = next_row(rows)
    assert upcoming.exercise.number == 3
    assert "python -m workbook check rooms" in next_step(upcoming)
    assert next_row([Row(exercise, "passed") for exercise in EXERCISES]) is None


@pytest.mark.parametrize("level", ["0", "4", "-1"])
def test_an_out_of_range_hint_level_is_a_clear_error(level):
    result = workbook_command("hint", "echo_types", "--level", level)
    assert result.returncode == 2
    assert f"echo_types has hints at levels 1, 2, 3; there is no level {level}" in result.stderr
    assert "Hint" not in result.stdout


def test_reset_keeps_a_backup_and_says_how_to_restore_it(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_DIR), str(clone)], check=True)
    exercise = find_exercise("rooms")
    edited = clone / "exercises" / exercise.files[0]
    if content_hash(edited) != exercise.shipped_sha256[exercise.files[0]]:
        pytest.skip("the shipped exercise is not committed yet")
    my_work = edited.read_text() + "\n# my attempt, worth keeping\n"
    edited.write_text(my_work)
    env = {"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin", "WORKBOOK_DATA_DIR": str(tmp_path / "data")}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-c", f"import sys; from workbook.cli import main; sys.exit(main({list(args)!r}))"],
            cwd=clone,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    result = cli("reset", "rooms")
    assert result.returncode == 0, result.stderr
    assert content_hash(edited) == exercise.shipped_sha256[exercise.files[0]]
    kept = [line for line in result.stdout.splitlines() if line.startswith("your version is kept in ")]
    backup = Path(kept[0].removeprefix("your version is kept in "))
    assert (backup / exercise.files[0]).read_text() == my_work
    restore = [line for line in result.stdout.splitlines() if line.startswith("to get it back: ")][0]
    assert restore == f"to get it back: cp {backup / exercise.files[0]} exercises/{exercise.files[0]}"
    listed = cli("reset", "rooms", "--list-backups")
    assert backup.name in listed.stdout and f"cp {backup / exercise.files[0]}" in listed.stdout
    subprocess.run(restore.removeprefix("to get it back: "), shell=True, cwd=clone, check=True)
    assert edited.read_text() == my_work


class Watcher:
    """``python -m workbook watch`` in a subprocess, its output read line by line with bounded waits."""

    def __init__(self, tmp_path: Path, *args):
        import queue
        import threading

        self.lines, self.seen = queue.Queue(), []
        env = {**os.environ, "WORKBOOK_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbook", "watch", *args],
            cwd=REPO_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        import queue
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"watch never printed {text!r} within {timeout} s; it printed:\n" + "".join(self.seen))

    def stop(self) -> int:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError("watch did not end within 20 s of Ctrl-C") from None


def test_watch_rechecks_on_save_and_moves_on_when_an_exercise_passes(tmp_path):
    root = learner_folder(tmp_path)
    learner_file = root / find_exercise("echo_types").files[0]
    watcher = Watcher(tmp_path, "echo_types", "--root", str(root))
    try:
        watcher.wait_for("echo_types: NOT ATTEMPTED")
        watcher.wait_for("save it to check again (Ctrl-C stops)")
        watcher.wait_for("python -m workbook watch --poll")  # the fall-back, said up front
        solution = (SOLUTIONS_DIR / "01_echo_types/consumers.py").read_text()
        learner_file.write_text(solution.replace('{"message": message.upper()}', '{"message": message}'))
        watcher.wait_for("changed: checking again")
        watcher.wait_for('echo_types: FAILED — after sending {"type": "upper", "message": "hi there"}')
        watcher.wait_for("save it to check again")
        learner_file.write_text(solution)
        watcher.wait_for("echo_types: PASSED")
        watcher.wait_for("echo_types passes. On to the next one: jwt_auth.")
        watcher.wait_for("jwt_auth: NOT ATTEMPTED")
        watcher.wait_for("Watching")
        assert watcher.stop() == 0
        watcher.wait_for("Stopped watching.")
    finally:
        watcher.stop()


def test_watch_by_polling_sees_a_save_too(tmp_path):
    root = learner_folder(tmp_path)
    learner_file = root / find_exercise("history").files[0]
    watcher = Watcher(tmp_path, "history", "--root", str(root), "--poll")
    try:
        watcher.wait_for("history: NOT ATTEMPTED")
        watcher.wait_for("Watching")
        learner_file.write_text(learner_file.read_text() + "\nraise RuntimeError('half-written')\n")
        watcher.wait_for("history: ERROR — your code raised RuntimeError: half-written")
        assert watcher.stop() == 0
    finally:
        watcher.stop()
