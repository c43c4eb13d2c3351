"""Authoring lint for exercises/ and solutions/, and the exercise commands of the CLI."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.checker.loading import learner_attribute, load_learner_module
from workbook.exercises import content_hash, find_exercise, load_exercises
from workbook.paths import EXERCISES_DIR, REPO_DIR, SOLUTIONS_DIR

EXERCISES = load_exercises()


def files_under(root: Path) -> set:
    return {path.relative_to(root).as_posix() for path in root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.name != "README.md"}


def test_exercises_and_solutions_mirror_each_other():
    assert files_under(EXERCISES_DIR) == files_under(SOLUTIONS_DIR)
    listed = {name for exercise in EXERCISES for name in exercise.files}
    assert listed == files_under(EXERCISES_DIR), "every exercise file is listed in exercises.toml"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_metadata_is_complete(exercise):
    assert exercise.id and exercise.title and exercise.consumer
    assert exercise.stage in ("echo", "jwt", "chat")
    assert exercise.docs.startswith("https://")
    assert len(exercise.hints) >= 2 and all(len(hint) > 20 for hint in exercise.hints)
    for name in exercise.files:
        assert exercise.shipped_sha256.get(name) == content_hash(EXERCISES_DIR / name), (
            f"{name} changed: set its shipped_sha256 in workbook/exercises.toml to "
            f"{content_hash(EXERCISES_DIR / name)}")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_exercise_has_todos_and_solution_has_none(exercise):
    for name in exercise.files:
        assert "TODO" in (EXERCISES_DIR / name).read_text()
        assert "TODO" not in (SOLUTIONS_DIR / name).read_text()


@pytest.mark.parametrize("root", [EXERCISES_DIR, SOLUTIONS_DIR], ids=["exercises", "solutions"])
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_every_file_imports_as_shipped(exercise, root):
    path = exercise.main_file(root)
    assert learner_attribute(load_learner_module(path), exercise.consumer, path)


def test_ids_numbers_and_folders_all_find_an_exercise():
    assert find_exercise("rooms") is not None
    assert find_exercise("3").id == find_exercise("03").id == find_exercise("03_rooms").id == "rooms"


def workbook_command(*args):
    return subprocess.run([sys.executable, "-m", "workbook", *args], cwd=REPO_DIR,
                          capture_output=True, text=True, timeout=120)


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
    result = subprocess.run([sys.executable, "-c", "import sys; from workbook.cli import main; "
                             "sys.exit(main(['reset', 'history']))"], cwd=clone,
                            capture_output=True, text=True, env={"PYTHONPATH": str(clone), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "restored exercises/05_history/consumers.py" in result.stdout
    assert content_hash(edited) == exercise.shipped_sha256[exercise.files[0]]
