"""What a check can end in: four kinds of outcome, each with a next step.

One ``Outcome`` type prints itself in a terminal (``str``), renders itself in a
notebook (``_repr_html_``) and travels between processes as JSON.
"""

import html
import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from .tracebacks import learner_traceback


class Status(str, Enum):  # noqa: UP042 — str(Status.X) is relied on as in 3.11, not StrEnum's
    """The kinds of outcome. A ``str`` enum: ``Status.PASSED == "passed"`` and JSON stays plain."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def symbol(self) -> str:
        return {"passed": "✔", "failed": "✘", "not attempted": "○", "error": "⚠"}[self.value]

    @property
    def colour(self) -> str:
        return {"passed": "#1a7f37", "failed": "#cf222e", "not attempted": "#6e7781", "error": "#9a6700"}[self.value]


PASSED, FAILED, NOT_ATTEMPTED, ERROR = Status.PASSED, Status.FAILED, Status.NOT_ATTEMPTED, Status.ERROR
SYMBOLS = {status: status.symbol for status in Status}  # also usable with the plain strings


@dataclass
class Outcome:
    exercise_id: str
    status: Status
    summary: str  # one line: what happened
    next_step: str = ""
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)  # e.g. your traceback, your frames only
    log: str = ""  # the server log that holds the full story, when a server was involved

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def headline(self) -> str:
        return f"{self.status.symbol} {self.exercise_id}: {self.status.value.upper()} — {self.summary}"

    def __str__(self) -> str:
        lines = [self.headline()]
        lines += [f"      {line}" for line in self.details]
        if self.log:
            lines.append(f"      server log: {self.log}")
        if self.next_step:
            lines.append(f"      next: {self.next_step}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = self.status.colour
        parts = [
            f"<div style='border-left:6px solid {colour};padding:4px 10px'>",
            f"<b style='color:{colour}'>{self.status.symbol} {html.escape(self.exercise_id)}: "
            f"{self.status.value.upper()}</b><br>{html.escape(self.summary)}",
        ]
        if self.details:
            parts.append("<pre style='margin:4px 0'>" + html.escape("\n".join(self.details)) + "</pre>")
        if self.log:
            parts.append(f"<br><small>server log: {html.escape(self.log)}</small>")
        if self.next_step:
            parts.append(f"<br><i>next: {html.escape(self.next_step)}</i>")
        return "".join(parts) + "</div>"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        return cls(**json.loads(text))


class Unmet(Exception):
    """The learner's code ran but did something other than expected: a *failed* check.

    Its message is built from the four parts, so a check can read them and raise a
    sharper ``Unmet`` (same step, better advice) when it knows more.
    """

    def __init__(self, step: str, expected: str, got: str, advice: str = ""):
        super().__init__(step, expected, got, advice)
        self.step, self.expected, self.got, self.advice = step, expected, got, advice

    def __str__(self) -> str:
        text = f"after {self.step}: expected {self.expected}, got {self.got}"
        return text + (f" — {self.advice}" if self.advice else "")


#: Exceptions learners meet often, and what usually fixes them (by the exception's class name).
KNOWN_CAUSES = {
    "SynchronousOnlyOperation": "the ORM is synchronous: call it from a function decorated with "
    "@database_sync_to_async",
    "JSONDecodeError": "text that is not JSON makes json.loads raise ValueError: catch it and answer "
    "with an error frame",
    "KeyError": "a key that may be missing: read it with .get() and handle None",
    "AttributeError": "check what the object really is: None, a dict, or a token instead of a user?",
}


def known_cause(exception_name: str) -> str:
    """Advice for an exception, given as ``KeyError`` or ``django.core.exceptions.KeyError: ...``."""
    return KNOWN_CAUSES.get(exception_name.split(":")[0].rsplit(".", 1)[-1].strip(), "")


class LearnerCodeError(Exception):
    """The learner's code raised (or would not import): an *error* outcome.

    ``details`` is the learner's part of the traceback; ``log`` names the server log
    it was read from, when the code ran in daphne.
    """

    def __init__(self, message: str, details: list[str] | None = None, log: str = "", advice: str = ""):
        super().__init__(message)
        self.details = details or []
        self.log = log
        self.advice = advice

    @classmethod
    def from_exception(cls, error: BaseException, learner_file: Path, doing: str = "") -> "LearnerCodeError":
        frames, where = learner_traceback(error, learner_file)
        message = str(error).splitlines()[0] if str(error) else ""
        if isinstance(error, SyntaxError) and error.msg:
            message = error.msg  # str() would repeat the file and line
        if isinstance(error, KeyError) and error.args:
            message = repr(error.args[0])
        return cls(
            f"your code raised {type(error).__name__}: {message}{where}" + (f" while {doing}" if doing else ""),
            frames,
            advice=known_cause(type(error).__name__),
        )


def describe(frame: object) -> str:
    """A frame (or nothing) as it should appear in "expected X, got Y"."""
    if frame is None:
        return "nothing"
    if isinstance(frame, (dict, list)):
        return json.dumps(frame, ensure_ascii=False)
    return repr(frame)
