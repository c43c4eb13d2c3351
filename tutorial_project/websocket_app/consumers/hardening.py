"""Notebook 05's defences, each a mixin that wraps one part of a stage's consumer.

The stage consumers (echo.py, authenticated.py, chat.py) stay as short as the Channels
tutorial's; ``served.py`` puts these in front of them for the servers the workbook runs.
"""

import asyncio
import time

from django.conf import settings

from ..auth import AuthResult, authenticate_ticket, authenticate_token, query_parameter
from ..limits import FrameLimit, TokenBucket
from ..protocol import (
    RATE_LIMIT_BURST,
    RATE_LIMIT_PER_SECOND,
    TOKEN_EXPIRED,
    error_frame,
    event_frame,
)


class RateLimitMixin:
    """A token bucket per connection: a frame over the limit is dropped (and the client
    told so); FLOOD_CLOSE_AFTER dropped frames in a row close the socket with 4429."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        override = settings.WORKBOOK_RATE_LIMIT_PER_SECOND  # benchmarks lift the limit
        per_second = float(override) if override is not None else RATE_LIMIT_PER_SECOND
        self.rate_limit = FrameLimit(TokenBucket(per_second, RATE_LIMIT_BURST))

    async def receive(self, text_data=None, bytes_data=None):
        if await self.rate_limit.admit(self):  # False: dropped, and the client told why
            await super().receive(text_data, bytes_data)


class TicketAuthMixin:
    """``?ticket=<one-time ticket>`` from ``/api/ws-ticket/`` instead of a JWT in the URL."""

    async def authenticate(self) -> AuthResult:
        ticket = query_parameter(self.scope, "ticket")
        if ticket:
            return await authenticate_ticket(ticket)
        return await super().authenticate()


class TokenExpiryMixin:
    """A socket must not outlive the token it was opened with: at the token's ``exp`` it is
    closed with 4408, unless the client sends a fresh token of the same user first:
    ``{"type": "reauthenticate", "token": "<access token>"}``."""

    expires_at = None
    expiry_task = None

    async def authenticate(self) -> AuthResult:
        result = await super().authenticate()
        self.expires_at = result.expires_at
        return result

    async def connect(self):
        await super().connect()
        if self.user.is_authenticated and self.expires_at is not None:
            self.close_at(self.expires_at)

    def close_at(self, expires_at: int):
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        self.expiry_task = asyncio.create_task(self.close_at_expiry(expires_at))

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
            await self.send(
                text_data=error_frame("reauthentication_failed", "send a valid access token of the same user")
            )
            return
        self.close_at(result.expires_at)
        await self.send(text_data=event_frame("reauthenticated", expires_at=result.expires_at))

    async def websocket_disconnect(self, message):
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        await super().websocket_disconnect(message)
