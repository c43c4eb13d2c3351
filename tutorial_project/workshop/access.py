"""Who may do what on this board: the instructor (by key) and attendees (by token)."""

import functools

from django.conf import settings

from websocket_app.limits import TokenBucket
from websocket_app.protocol import RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND

from .models import Attendee, Workshop
from .rules import same_secret, token_hash


def group_name(workshop: Workshop) -> str:
    """The channel layer group of the workshop's instructor pages."""
    return f"workshop.{workshop.code}"


@functools.cache
def current_workshop() -> Workshop:
    """The workshop this board process serves (created on first start, kept across restarts)."""
    workshop, _ = Workshop.objects.get_or_create(code=settings.WORKBOOK_BOARD_CODE)
    return workshop


def is_instructor(key) -> bool:
    return same_secret(key, settings.WORKBOOK_BOARD_KEY)


def attendee_for_token(token) -> Attendee | None:
    """The attendee of this workshop the token belongs to, else None."""
    if not isinstance(token, str) or not token:
        return None
    return (
        Attendee.objects.select_related("workshop")
        .filter(token_hash=token_hash(token), workshop=current_workshop())
        .first()
    )


def bearer_token(scope) -> str | None:
    """The token from an ``Authorization: Bearer …`` header (kept out of URLs and their logs)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


_buckets: dict = {}  # attendee id -> TokenBucket, shared by all of an attendee's sockets


def attendee_bucket(attendee_id: int) -> TokenBucket:
    """The chat's rate limit, per attendee (per board process) rather than per socket:
    opening more sockets buys no extra reports."""
    bucket = _buckets.get(attendee_id)
    if bucket is None:
        bucket = _buckets[attendee_id] = TokenBucket(RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST)
    return bucket
