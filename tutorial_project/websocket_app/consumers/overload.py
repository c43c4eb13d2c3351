"""Notebook 04: a room busier than its servers can deliver, said out loud instead of silently.

channels_redis (the core ``RedisChannelLayer``) keeps one queue per server process in Redis.
``group_send`` writes the message once into each member's server queue, and skips a queue
that already holds ``capacity`` messages (default 100): every member on that server misses
the message. The layer does not raise ``ChannelFull`` there; it counts the skipped queues
and only *logs* the count, at INFO: ``1 of 200 channels over capacity in group chat_lobby``
(channels_redis 4.3, ``core.py``, ``group_send``).

This mixin reads that count back for the ``group_send`` that logged it, and then:

- the server logs a WARNING naming the room and the running total of such losses;
- the sender gets an error frame ``room_overloaded`` (its socket stays open), so a person
  or a client knows the message did not reach everyone and can send it again later.
"""

import contextvars
import logging

from ..protocol import ROOM_OVERLOADED, error_frame

logger = logging.getLogger(__name__)

#: While a consumer's group_send runs, the list its skipped-queue counts are appended to.
#: A ContextVar: each consumer runs in its own asyncio task, so counts never mix.
_skipped_queues = contextvars.ContextVar("skipped_queues", default=None)

#: Messages the layer dropped, per room (group), since this server started.
dropped_per_room: dict = {}


class _ReadSkippedQueues(logging.Filter):
    """Sees channels_redis' "N of M channels over capacity in group G" record and keeps N."""

    def filter(self, record):
        skipped = _skipped_queues.get()
        if skipped is not None and str(record.msg).endswith("channels over capacity in group %s"):
            skipped.append(int(record.args[0]))
        return True  # the record itself is logged as before


_layer_logger = logging.getLogger("channels_redis.core")
_layer_logger.addFilter(_ReadSkippedQueues())
if _layer_logger.getEffectiveLevel() > logging.INFO:
    _layer_logger.setLevel(logging.INFO)  # a filter only sees records its logger lets through


class RoomOverloadMixin:
    """Counts and logs what the channel layer dropped, and tells the sender."""

    async def broadcast(self, text: str):
        skipped = []
        token = _skipped_queues.set(skipped)
        try:
            await super().broadcast(text)
        finally:
            _skipped_queues.reset(token)
        self.skipped_queues = sum(skipped)
        if self.skipped_queues:
            total = dropped_per_room[self.room_group_name] = dropped_per_room.get(self.room_group_name, 0) + 1
            logger.warning(
                "%s: the channel layer dropped a message for %s: %s server queue(s) full "
                "(%s messages dropped in this room since start)",
                ROOM_OVERLOADED,
                self.room_group_name,
                self.skipped_queues,
                total,
            )

    async def receive_message(self, message: str):
        self.skipped_queues = 0
        await super().receive_message(message)
        if self.skipped_queues:
            await self.send(
                text_data=error_frame(
                    ROOM_OVERLOADED,
                    "the room is too busy right now: your message did not reach "
                    "everyone; wait a moment and send it again",
                )
            )
