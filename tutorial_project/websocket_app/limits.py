"""A token bucket: how many messages a connection may send, and how fast."""

import time


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
