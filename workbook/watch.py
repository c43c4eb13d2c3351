"""``python -m workbook watch [ID]``: re-check an exercise every time its file is saved.

Like rustlings' watch mode: check now, wait for a save, check again; when an
exercise passes, move on to the next one not passed yet. Each check runs in a
fresh process (``python -m workbook check``), so a learner's code that hangs or
leaks never affects the watcher, and the latest edits always count.
File events come from watchfiles; ``--poll`` (or a missing watchfiles) polls instead.
"""

import subprocess
import sys
import time
from pathlib import Path

from .exercises import Exercise, content_hash, find_exercise
from .paths import EXERCISES_DIR, REPO_DIR
from .progress import file_of, next_row, progress_rows

CHECK_SECONDS = 120  # a check is normally about a second; this is a bound, not an estimate
POLL_SECONDS = 0.5


def run_check(exercise: Exercise, root: Path) -> bool:
    """One check in its own process, its report printed as it comes. True when it passed."""
    command = [sys.executable, "-m", "workbook", "check", exercise.id]
    if root != EXERCISES_DIR:
        command += ["--root", str(root)]
    try:
        result = subprocess.run(command, cwd=REPO_DIR, timeout=CHECK_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"The check of {exercise.id} did not finish in {CHECK_SECONDS} s: was it stopped?", flush=True)
        return False
    return result.returncode == 0


def _fingerprint(exercise: Exercise, root: Path) -> tuple[str, ...]:
    return tuple(content_hash(root / name) for name in exercise.files)


def wait_for_change(exercise: Exercise, root: Path, before: tuple[str, ...], poll: bool) -> None:
    """Return once the exercise's files differ from ``before`` (not merely touched).

    File events wake it at once; it also compares every second, so a save made
    while a check was running, before the watcher started, is not missed.
    """
    folders = sorted({(root / name).parent for name in exercise.files})  # editors save by rename
    if not poll:
        try:
            import watchfiles
        except ImportError:
            print("(watchfiles is not installed: checking the file every half second instead)", flush=True)
            poll = True
    if poll:
        while _fingerprint(exercise, root) == before:
            time.sleep(POLL_SECONDS)
        return
    if _fingerprint(exercise, root) != before:
        return
    for _ in watchfiles.watch(*folders, debounce=200, rust_timeout=1000, yield_on_timeout=True, raise_interrupt=True):
        if _fingerprint(exercise, root) != before:
            return


def watch(start: str | None = None, root: Path = EXERCISES_DIR, poll: bool = False) -> int:
    rows = progress_rows(root)
    current = find_exercise(start) if start else (next_row(rows) or rows[0]).exercise
    try:
        while True:
            print(f"\n=== {current.number}. {current.id}: {current.title} ===", flush=True)
            checked = _fingerprint(current, root)  # what this check sees
            passed = run_check(current, root)
            if passed:
                upcoming = next_row(progress_rows(root), after=current.id)
                if upcoming is None:
                    print("\nEvery exercise passes. Well done! Stopping the watch.", flush=True)
                    return 0
                print(f"\n{current.id} passes. On to the next one: {upcoming.exercise.id}.", flush=True)
                current = upcoming.exercise
                continue
            print(
                f"\nWatching {file_of(current, root)}: save it to check again (Ctrl-C stops).\n"
                f"  Nothing happens when you save? Some editors, network drives and containers send "
                f"no file events: run `python -m workbook watch --poll`, or check by hand with "
                f"`python -m workbook check {current.id}`.",
                flush=True,
            )
            wait_for_change(current, root, checked, poll)
            print(f"\n{file_of(current, root)} changed: checking again.", flush=True)
    except KeyboardInterrupt:
        print("\nStopped watching. Your progress: python -m workbook progress", flush=True)
        return 0
