"""The workbook's wire protocol: the one place every frame and close code is defined.

Every frame the server sends is a JSON object:

- ``{"message": "..."}`` — what the classic first version of each consumer sends;
- ``{"error": "<code>", "detail": "<what to do>"}`` — a frame the server could not
  use. The connection stays open: one bad frame never costs the conversation;
- ``{"event": "reauthenticated", "expires_at": <exp>}`` — the answer to a client's
  ``{"type": "reauthenticate", "token": "<new access token>"}``, which keeps an
  authenticated socket open past its first token's expiry.

When the server refuses a socket it accepts first, sends an error frame, then
closes with a 4xxx code from ``CLOSE_CODES``: a consumer that closes *before*
``accept()`` becomes a bare HTTP 403 in daphne, and the code never reaches a
real client (``WebsocketCommunicator`` would still report it, misleadingly).
"""

import json
import re

# Plain ints, not an IntEnum: daphne's websocket library rejects anything else.
BAD_ROOM = 4400
UNAUTHENTICATED = 4401
TOKEN_EXPIRED = 4408
RATE_LIMITED = 4429
LAYER_UNAVAILABLE = 4503

#: Every close code the consumers use: (error code in the frame sent just before, meaning).
#: daphne does not pass a close *reason* on to the client, so the error frame says why.
CLOSE_CODES = {
    BAD_ROOM: ("bad_room", "the room name in the URL is not allowed"),
    UNAUTHENTICATED: (
        "unauthenticated",
        "no token, or the token is invalid, expired, not an access token, or its user is inactive or deleted",
    ),
    TOKEN_EXPIRED: (
        "token_expired",
        "the access token expired while the socket was open: get a new one (/api/token/refresh/) and reconnect",
    ),
    RATE_LIMITED: ("rate_limited", "the client kept sending far above the rate limit"),
    LAYER_UNAVAILABLE: (
        "layer_unavailable",
        "the channel layer (Redis) cannot be reached: reconnect in a few seconds",
    ),
}

#: Refusals that happen before any consumer runs, and what the client sees.
HANDSHAKE_REFUSALS = {
    "Origin missing or not in ALLOWED_HOSTS": "HTTP 403 at the handshake (no close code)",
    "No route for the path": "the handshake fails (no close code)",
    "Message above daphne's 1 MiB limit": "connection dropped, client sees 1006",
    "Redis lost while the socket is open (chat stage)": "close 4503, as above",
}

#: Largest text frame the consumers parse; larger ones get ``frame_too_large``.
MAX_FRAME_CHARS = 64 * 1024
#: Longest chat message; longer ones get ``message_too_long``.
MAX_MESSAGE_CHARS = 2000

#: Per-connection rate limit: a bucket of BURST messages refilled at PER_SECOND.
#: A frame over the limit is dropped with a ``rate_limited`` error frame; after
#: FLOOD_CLOSE_AFTER such frames in a row the socket is closed with RATE_LIMITED.
RATE_LIMIT_PER_SECOND = 10
RATE_LIMIT_BURST = 20
FLOOD_CLOSE_AFTER = 40

#: Error frame to the sender of a chat message the channel layer could not deliver to the
#: whole room: a server's queue for the room was full (channels_redis' ``capacity``), so that
#: server's members did not get it. The socket stays open; the sender may send it again.
ROOM_OVERLOADED = "room_overloaded"

#: Room names: 1-50 letters, digits, ``-`` or ``_``. This is the app's own rule, stricter than
#: Channels' (group names may also contain ``.`` and be up to 99 characters long): short,
#: plain names are easy to type, to show and to put in a URL.
ROOM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
ROOM_NAME_RULE = "room names use 1-50 letters, digits, '-' or '_'"
DEFAULT_ROOM = "global_chat"


class BadFrame(Exception):
    """A frame the server cannot use; ``code`` says why, ``detail`` what to do."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def as_frame(self) -> str:
        return error_frame(self.code, self.detail)


def message_frame(text: str) -> str:
    return json.dumps({"message": text})


def error_frame(code: str, detail: str) -> str:
    return json.dumps({"error": code, "detail": detail})


def event_frame(event: str, **fields) -> str:
    return json.dumps({"event": event, **fields})


def parse_message(text_data: str | None, bytes_data: bytes | None = None) -> str:
    """Return the ``message`` of a ``{"message": "..."}`` frame or raise ``BadFrame``."""
    return message_of(decode_frame(text_data, bytes_data))


def decode_frame(text_data: str | None, bytes_data: bytes | None = None) -> dict:
    """The frame as a JSON object, or ``BadFrame``: binary, too large, not JSON, not an object."""
    if text_data is None:
        raise BadFrame("binary_not_supported", 'send text frames like {"message": "hi"}')
    if len(text_data) > MAX_FRAME_CHARS:
        raise BadFrame("frame_too_large", f"frames are limited to {MAX_FRAME_CHARS} characters")
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):  # very deep nesting raises RecursionError
        raise BadFrame("invalid_json", 'send JSON like {"message": "hi"}') from None
    if not isinstance(data, dict):
        raise BadFrame("not_an_object", 'send a JSON object like {"message": "hi"}')
    return data


def message_of(data: dict) -> str:
    """The ``message`` of a decoded frame, checked: present, a string, not too long, valid text."""
    if "message" not in data:
        raise BadFrame("missing_message", 'the object needs a "message" key')
    message = data["message"]
    if not isinstance(message, str):
        raise BadFrame("message_not_a_string", '"message" must be a string')
    return checked_text(message)


def checked_text(message: str) -> str:
    """``message`` if it is short enough and valid text, else ``BadFrame``."""
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadFrame("message_too_long", f"messages are limited to {MAX_MESSAGE_CHARS} characters")
    if not _is_valid_unicode(message):
        # A lone surrogate ("\ud800") is valid JSON but cannot be encoded as UTF-8.
        raise BadFrame("invalid_text", "the message contains invalid Unicode")
    return message


def looks_like_json(text: str) -> bool:
    """Whether ``text`` parses as JSON at all (the jwt stage answers other text in plain text)."""
    if len(text) > MAX_FRAME_CHARS:
        return True  # too large to parse: let decode_frame refuse it
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_valid_room_name(name: str) -> bool:
    return bool(ROOM_NAME_PATTERN.match(name))
