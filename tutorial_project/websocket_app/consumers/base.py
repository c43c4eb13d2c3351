"""What every stage's consumer shares: reading ``{"message": ...}`` frames safely,
a per-connection rate limit, and (for the authenticated stages) token checks."""
import asyncio
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from ..auth import authenticate_scope, authenticate_token
from ..limits import TokenBucket
from ..protocol import (
    CLOSE_CODES, FLOOD_CLOSE_AFTER, RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND, RATE_LIMITED,
    TOKEN_EXPIRED, UNAUTHENTICATED, BadFrame, decode_frame, error_frame, event_frame, message_frame,
    message_of,
)


def _rate_per_second() -> float:
    override = settings.WORKBOOK_RATE_LIMIT_PER_SECOND
    return float(override) if override is not None else RATE_LIMIT_PER_SECOND


class MessageConsumer(AsyncWebsocketConsumer):
    """The seed's ``receive`` would crash on a bad frame and lose the connection.

    Here a bad frame gets an error frame and the connection stays open;
    subclasses only see valid messages, in ``receive_message``. A client that
    sends faster than the rate limit has its extra frames dropped (and told so).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limiter = TokenBucket(_rate_per_second(), RATE_LIMIT_BURST)
        self.dropped_in_a_row = 0

    async def receive(self, text_data=None, bytes_data=None):
        if not await self.within_rate_limit():
            return
        try:
            await self.receive_frame(decode_frame(text_data, bytes_data))
        except BadFrame as bad:
            await self.send(text_data=bad.as_frame())

    async def receive_frame(self, data: dict):
        """A decoded JSON object; the stages only want its ``message``."""
        await self.receive_message(message_of(data))

    async def within_rate_limit(self) -> bool:
        if self.limiter.allow():
            self.dropped_in_a_row = 0
            return True
        self.dropped_in_a_row += 1
        if self.dropped_in_a_row > FLOOD_CLOSE_AFTER:
            await self.refuse(RATE_LIMITED, "too many messages: the connection is closed")
        else:
            await self.send(text_data=error_frame(
                "rate_limited", f"slow down: at most {self.limiter.per_second:g} messages per second; "
                                "this one was dropped"))
        return False

    async def receive_message(self, message: str):
        raise NotImplementedError

    async def send_message(self, text: str):
        await self.send(text_data=message_frame(text))

    async def refuse(self, close_code: int, detail: str):
        """Tell the client why in an error frame, then close with ``close_code``."""
        error_code, _meaning = CLOSE_CODES[close_code]
        await self.send(text_data=error_frame(error_code, detail))
        await self.close(code=close_code)


class TokenAuthConsumer(MessageConsumer):
    """Authenticates in ``connect()``; subclasses implement ``on_authenticated``.

    Credentials: ``?token=<access token>`` as in the seed, or ``?ticket=<one-time
    ticket>`` from ``/api/ws-ticket/`` (which keeps the JWT out of URLs and logs).
    The socket is closed with TOKEN_EXPIRED when the access token expires (a
    socket must not outlive the credentials it was opened with), unless the
    client sends a fresh one first: ``{"type": "reauthenticate", "token": ...}``.
    """

    user = None
    expiry_task = None

    async def connect(self):
        result = await authenticate_scope(self.scope)
        self.user = result.user
        # Accept before closing: a close before accept() becomes a bare HTTP 403
        # in daphne, and the client never learns why it was refused.
        await self.accept()
        if result.problem:
            await self.refuse(UNAUTHENTICATED, result.problem)
            return
        if result.expires_at is not None:
            self.expiry_task = asyncio.ensure_future(self.close_at_expiry(result.expires_at))
        await self.on_authenticated()

    async def close_at_expiry(self, expires_at: int):
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.refuse(TOKEN_EXPIRED, "your access token expired: get a new one and reconnect")

    async def receive_frame(self, data: dict):
        if data.get("type") == "reauthenticate":
            await self.reauthenticate(data.get("token"))
        else:
            await super().receive_frame(data)

    async def reauthenticate(self, token):
        """A fresh access token of the same user moves the socket's expiry; nothing else does."""
        result = await authenticate_token(token if isinstance(token, str) else None)
        if result.problem or result.user.pk != self.user.pk:
            await self.send(text_data=error_frame(
                "reauthentication_failed", "send a valid access token of the same user"))
            return
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        self.expiry_task = asyncio.ensure_future(self.close_at_expiry(result.expires_at))
        await self.send(text_data=event_frame("reauthenticated", expires_at=result.expires_at))

    async def websocket_disconnect(self, message):
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        await super().websocket_disconnect(message)

    async def on_authenticated(self):
        raise NotImplementedError

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.user.is_authenticated
