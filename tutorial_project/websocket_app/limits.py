"""A token bucket: how many messages a connection may send, and how fast; and what a
connection does with a frame over it."""

import time

from .protocol import FLOOD_CLOSE_AFTER, RATE_LIMITED, error_frame


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``per_second``; each message takes one.

    A burst of ``burst`` messages passes at once; after that, ``per_second`` on average.
    ``per_second <= 0`` switches the limit off.
    """

    def __init__(self, per_second: float, burst: int, clock=time.monotonic):
        self.per_second = per_second
        self.burst = burst
        self.tokens = float(burst)
        self.clock = clock
        self.updated = clock()

    def allow(self) -> bool:
        if self.per_second <= 0:
            return True
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class FrameLimit:
    """A connection's answer to a frame over its bucket: drop it and tell the client; after
    FLOOD_CLOSE_AFTER dropped frames in a row, close the socket with RATE_LIMITED (4429).

    Used by the chat (``RateLimitMixin``) and the workshop board's report socket alike.
    """

    def __init__(self, bucket: TokenBucket, unit: str = "messages", advice: str = "this one was dropped"):
        self.bucket = bucket
        self.unit = unit  # "messages", "reports": what the client is told it sends too many of
        self.advice = advice
        self.dropped_in_a_row = 0

    async def admit(self, consumer) -> bool:
        """True: handle the frame. False: it was dropped, and ``consumer``'s client was told."""
        if self.bucket.allow():
            self.dropped_in_a_row = 0
            return True
        self.dropped_in_a_row += 1
        if self.dropped_in_a_row > FLOOD_CLOSE_AFTER:
            await consumer.refuse(RATE_LIMITED, f"too many {self.unit}: the connection is closed")
        else:
            await consumer.send(
                text_data=error_frame(
                    "rate_limited",
                    f"slow down: at most {self.bucket.per_second:g} {self.unit} per second; {self.advice}",
                )
            )
        return False
