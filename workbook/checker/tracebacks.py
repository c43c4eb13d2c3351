"""The learner's part of a traceback: from an exception in this process, or from daphne's log.

A learner needs the lines of *their* file that ran, not the frames of Channels,
asgiref or the checker around them.
"""

import os
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import REPO_DIR


def repo_relative(path: str | os.PathLike[str]) -> str:
    """A path as the learner knows it: relative to the workbook when it is inside it."""
    try:
        return Path(path).resolve().relative_to(REPO_DIR).as_posix()
    except ValueError:
        return str(path)


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def learner_traceback(error: BaseException, learner_file: Path) -> tuple[list[str], str]:
    """``(lines, where)``: the learner's frames of ``error`` and " (file, line N, in f)" for the last."""
    if isinstance(error, SyntaxError) and error.lineno and _same_file(error.filename or "", learner_file):
        lines = [f'File "{repo_relative(learner_file)}", line {error.lineno}']
        if error.text:
            lines.append("    " + error.text.strip())
        return lines, f" ({Path(learner_file).name}, line {error.lineno})"
    lines, where = [], ""
    for frame in traceback.extract_tb(error.__traceback__):
        if _same_file(frame.filename, learner_file):
            lines.append(f'File "{repo_relative(frame.filename)}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
            where = f" ({Path(learner_file).name}, line {frame.lineno}, in {frame.name})"
    if lines:
        lines.append(f"{type(error).__name__}: {error}")
    return lines, where


# --- daphne's log -------------------------------------------------------------------------
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>.+)$')


@dataclass
class LoggedCrash:
    """One "Exception inside application" that daphne logged."""

    exception: str  # "KeyError: 'user_id'"
    frames: list[tuple[str, int, str, str]] = field(default_factory=list)  # (file, line, function, source)

    @property
    def where(self) -> str:
        if not self.frames:
            return ""
        file, line, name, _ = self.frames[-1]
        return f" ({Path(file).name}, line {line}, in {name})"

    def lines(self) -> list[str]:
        shown = []
        for file, line, name, source in self.frames:
            shown.append(f'File "{repo_relative(file)}", line {line}, in {name}')
            if source:
                shown.append(f"    {source}")
        return shown + [self.exception]


def crashes_in_log(log: str, learner_file: Path) -> list[LoggedCrash]:
    """Every traceback in ``log`` that passes through ``learner_file``, oldest first."""
    crashes = []
    lines = log.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("Traceback (most recent call last):"):
            frames: list[tuple[str, int, str, str]] = []
            index += 1
            while index < len(lines) and lines[index].startswith(" "):
                match = _FRAME.match(lines[index])
                if match and _same_file(match["file"], learner_file):
                    source = (
                        lines[index + 1].strip()
                        if index + 1 < len(lines) and lines[index + 1].startswith("    ")
                        else ""
                    )
                    frames.append((match["file"], int(match["line"]), match["name"], source))
                index += 1
            exception = lines[index].strip() if index < len(lines) else "an exception"
            if frames:
                crashes.append(LoggedCrash(exception, frames))
        index += 1
    return crashes
