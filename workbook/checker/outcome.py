"""What a check can end in: four outcomes that look different, each with a next step."""
import json
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
SYMBOLS = {PASSED: "✔", FAILED: "✘", NOT_ATTEMPTED: "○", ERROR: "⚠"}


@dataclass
class Outcome:
    exercise_id: str
    status: str  # one of PASSED, FAILED, NOT_ATTEMPTED, ERROR
    summary: str  # one line: what happened
    next_step: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class Unmet(Exception):
    """The learner's code ran but did something other than expected: a *failed* check."""

    def __init__(self, step: str, expected: str, got: str, advice: str = ""):
        self.step, self.expected, self.got, self.advice = step, expected, got, advice
        text = f"after {step}: expected {expected}, got {got}"
        super().__init__(text + (f" — {advice}" if advice else ""))


class LearnerCodeError(Exception):
    """The learner's code raised (or would not import): an *error* outcome."""

    @classmethod
    def from_exception(cls, error: BaseException, learner_file: Path, doing: str = ""):
        where = ""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if Path(frame.filename).resolve() == learner_file.resolve():
                where = f" ({learner_file.name}, line {frame.lineno}, in {frame.name})"
                break
        if isinstance(error, SyntaxError) and error.lineno:
            where = f" ({learner_file.name}, line {error.lineno})"
        message = str(error).splitlines()[0] if str(error) else ""
        return cls(f"your code raised {type(error).__name__}: {message}{where}"
                   + (f" while {doing}" if doing else ""))


def describe(frame) -> str:
    """A frame (or nothing) as it should appear in "expected X, got Y"."""
    if frame is None:
        return "nothing"
    if isinstance(frame, (dict, list)):
        return json.dumps(frame, ensure_ascii=False)
    return repr(frame)
