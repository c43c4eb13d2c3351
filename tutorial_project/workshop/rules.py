"""The board's rules in one place: workshop codes, keys, names, report frames and limits.

Frame size, rate limits and close codes are the chat's, from ``websocket_app.protocol``.
"""

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from websocket_app.protocol import MAX_MESSAGE_CHARS, BadFrame

#: Words for readable workshop codes like KITE-4821: short, distinct, easy to say out loud.
CODE_WORDS = (
    "KITE",
    "OTTER",
    "MAPLE",
    "COMET",
    "RIVER",
    "CEDAR",
    "LOTUS",
    "EMBER",
    "FJORD",
    "TULIP",
    "RAVEN",
    "PIXEL",
    "BISON",
    "CORAL",
    "DUNE",
    "HERON",
    "IGLOO",
    "JADE",
)
CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}(-[A-Z0-9]{2,12})?$")
NAME_MAX_CHARS = 40
MESSAGE_KEPT_CHARS = 200  # the board shows the first line of a check's message, this long at most
REPORT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CHECK_SECONDS = 3600.0
#: Someone is stuck on an exercise after this many failures in a row, or failing it this long.
STUCK_AFTER_FAILURES = 3
STUCK_AFTER_SECONDS = 5 * 60
#: A workshop's attendees, at most: whoever has the code cannot fill the board without end.
MAX_ATTENDEES = 500
#: Wrong workshop codes one client address may try per minute.
FAILED_JOINS_PER_MINUTE = 20


def new_code() -> str:
    return f"{secrets.choice(CODE_WORDS)}-{secrets.randbelow(9000) + 1000}"


def new_key() -> str:
    return secrets.token_urlsafe(32)


def normalise_code(code: str) -> str:
    return code.strip().upper()


def is_valid_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))


def same_secret(given, expected: str) -> bool:
    """Compare in constant time, so response times leak nothing about the secret."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def token_hash(token: str) -> str:
    """Attendee tokens are stored hashed: a copy of the database lets nobody report as anyone."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def clean_name(name) -> str:
    """The name as shown on the board, or ``BadFrame('bad_name')``: 1–40 printable characters."""
    if not isinstance(name, str):
        raise BadFrame("bad_name", "the name must be text")
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX_CHARS or not name.isprintable():
        raise BadFrame(
            "bad_name", f"a name is 1 to {NAME_MAX_CHARS} printable characters (no line breaks or control characters)"
        )
    return name


def name_key(name: str) -> str:
    """Ada and ADA are the same person on a board: duplicates are compared case-free."""
    return name.casefold()


def parse_report(data: dict, exercise_ids, outcomes) -> dict:
    """A report frame's fields, checked, or ``BadFrame`` saying which field is wrong.

    ``{"type": "outcome", "id": "<unique>", "exercise": "rooms", "outcome": "passed",
    "seconds": 1.2, "message": "all expectations met", "at": "<ISO time>"}``
    """
    if data.get("type") != "outcome":
        raise BadFrame("unknown_type", 'send {"type": "outcome", ...} frames')
    report_id = data.get("id")
    if not isinstance(report_id, str) or not REPORT_ID_PATTERN.match(report_id):
        raise BadFrame("bad_id", '"id" must be 1-64 letters, digits, - or _')
    if data.get("exercise") not in exercise_ids:
        raise BadFrame("unknown_exercise", f'"exercise" must be one of {", ".join(exercise_ids)}')
    if data.get("outcome") not in outcomes:
        raise BadFrame("bad_outcome", f'"outcome" must be one of {", ".join(outcomes)}')
    seconds = data.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_CHECK_SECONDS:
        raise BadFrame("bad_seconds", f'"seconds" must be a number from 0 to {MAX_CHECK_SECONDS:g}')
    message = data.get("message", "")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS or not _encodable(message):
        raise BadFrame("bad_message", f'"message" must be text of at most {MAX_MESSAGE_CHARS} characters')
    return {
        "report_id": report_id,
        "exercise": data["exercise"],
        "outcome": data["outcome"],
        "seconds": round(float(seconds), 2),
        "message": first_line(message),
        "at": _check_time(data.get("at")),
    }


def first_line(message: str) -> str:
    lines = message.strip().splitlines()
    return (lines[0] if lines else "")[:MESSAGE_KEPT_CHARS]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate is valid JSON but not valid text
    except UnicodeEncodeError:
        return False
    return True


def _check_time(value) -> datetime:
    """When the check ran, by the attendee's clock (queued outcomes arrive late); the
    board's clock instead when the value is missing, malformed or far off."""
    now = datetime.now(UTC)
    if not isinstance(value, str) or len(value) > 40:
        return now
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return now
    if at.tzinfo is None:
        return now
    if not now - timedelta(days=7) <= at <= now + timedelta(minutes=1):
        return now
    return at.astimezone(UTC)
