"""The board's two websockets.

- ``board/ws/report/``: an attendee's checker sends ``{"type": "outcome", ...}`` frames
  (``Authorization: Bearer <attendee token>``); each is stored, acknowledged with
  ``{"event": "recorded", "id": ...}`` and fanned out to the instructor's pages.
- ``board/ws/live/?key=KEY``: the instructor's page gets the whole board once
  (``{"event": "state", ...}``), then one frame per change.

Refusals follow the chat: accept, send an error frame, close with a 4xxx code.
"""

import json
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from websocket_app.limits import FrameLimit
from websocket_app.protocol import (
    CLOSE_CODES,
    UNAUTHENTICATED,
    BadFrame,
    decode_frame,
    error_frame,
    event_frame,
)

from .access import attendee_bucket, attendee_for_token, bearer_token, current_workshop, group_name, is_instructor
from .rules import parse_report
from .state import board_state, exercise_ids, outcome_names, record


class BoardConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message):
        """Run the handler for ``message`` — without Channels' clean-up hop before it.

        Channels 4.2+ closes stale database connections before *every* handler, in the
        one thread all Django database work shares: a thread hop per frame, queued
        behind the reports being written. Measured with 100 attendees on a busy machine,
        those hops were most of the delay to the page. The board's handlers reach the
        database only through ``database_sync_to_async``, which does the same clean-up.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def refuse(self, close_code: int, detail: str):
        """Say why in an error frame, then close with ``close_code`` (after accept, so it arrives)."""
        await self.send(text_data=error_frame(CLOSE_CODES[close_code][0], detail))
        await self.close(code=close_code)


class ReportConsumer(BoardConsumer):
    attendee = None
    # Reports only go *out* to the layer (group_send); nothing is ever sent to this socket
    # through it. With no layer named here, Channels gives the consumer no channel of its
    # own: a class's hundreds of short report sockets never subscribe to the layer, and
    # closing them cannot cancel a Redis read that carried an outcome for the page.
    channel_layer_alias = None

    async def connect(self):
        self.attendee = await database_sync_to_async(attendee_for_token)(bearer_token(self.scope))
        await self.accept()
        if self.attendee is None:
            await self.refuse(
                UNAUTHENTICATED,
                "this board does not know your token: "
                "join it again (python -m workbook join URL --code CODE --name NAME)",
            )
            return
        self.workshop = self.attendee.workshop
        self.rate_limit = FrameLimit(
            attendee_bucket(self.attendee.pk), unit="reports", advice="this one was dropped, send it again later"
        )
        self.exercise_ids, self.outcomes = exercise_ids(), outcome_names()

    async def receive(self, text_data=None, bytes_data=None):
        if self.attendee is None or not await self.rate_limit.admit(self):
            return
        try:
            report = parse_report(decode_frame(text_data, bytes_data), self.exercise_ids, self.outcomes)
        except BadFrame as bad:
            await self.send(text_data=bad.as_frame())
            return
        cell = await database_sync_to_async(record)(self.attendee, report)
        if cell is not None:  # None: a report sent again after a lost acknowledgement
            await get_channel_layer().group_send(
                group_name(self.workshop),
                {
                    "type": "board.outcome",
                    "name": self.attendee.name,
                    "exercise": report["exercise"],
                    "report": report["report_id"],
                    "cell": cell,
                },
            )
        await self.send(text_data=event_frame("recorded", id=report["report_id"]))


class LiveBoardConsumer(BoardConsumer):
    group = None

    async def connect(self):
        key = parse_qs(self.scope["query_string"].decode("latin-1")).get("key", [None])[0]
        await self.accept()
        if not is_instructor(key):
            await self.refuse(
                UNAUTHENTICATED,
                "wrong or missing instructor key: open the page URL that `python -m workbook board` printed",
            )
            return
        workshop = await database_sync_to_async(current_workshop)()
        self.group = group_name(workshop)
        # Join the group before reading the state: a change in between arrives twice, never not at all.
        await self.channel_layer.group_add(self.group, self.channel_name)
        state = await database_sync_to_async(board_state)(workshop)
        await self.send(text_data=json.dumps({"event": "state", **state}))

    async def receive(self, text_data=None, bytes_data=None):
        if self.group is not None:
            await self.send(text_data=error_frame("read_only", "the board's page only listens"))

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def board_outcome(self, event):
        await self.send(
            text_data=event_frame(
                "outcome", name=event["name"], exercise=event["exercise"], report=event["report"], cell=event["cell"]
            )
        )

    async def board_joined(self, event):
        await self.send(text_data=event_frame("joined", name=event["name"]))
