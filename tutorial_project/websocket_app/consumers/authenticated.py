"""Setup 2: the echo consumer behind a JWT (``ws/chat/?token=<access token>``)."""

import logging

from ..protocol import UNAUTHENTICATED, BadFrame, checked_text, looks_like_json
from .base import TokenAuthConsumer

logger = logging.getLogger(__name__)


class AuthenticatedEchoConsumer(TokenAuthConsumer):
    async def connect(self):
        result = await self.authenticate()
        self.user = result.user
        # Accept before refusing: a close before accept() becomes a bare HTTP 403 in
        # daphne, and the client would never learn why it was refused.
        await self.accept()
        if result.problem:
            await self.refuse(UNAUTHENTICATED, result.problem)
            return
        await self.send_message("Authenticated WebSocket connected")

    async def receive(self, text_data=None, bytes_data=None):
        # The classic first version spoke plain text (yo -> "Hello alice, you sent: yo").
        # Plain text still gets plain text back; JSON gets JSON.
        if text_data is not None and not looks_like_json(text_data):
            try:
                await self.send(text_data=self.reply_to(checked_text(text_data)))
            except BadFrame as bad:
                await self.send(text_data=bad.as_frame())
            return
        await super().receive(text_data, bytes_data)

    async def receive_message(self, message: str):
        await self.send_message(self.reply_to(message))

    def reply_to(self, message: str) -> str:
        return f"Hello {self.user.username}, you sent: {message}"

    async def disconnect(self, close_code):
        if self.user.is_authenticated:  # a refused socket has nobody to log
            logger.info("Disconnected user: %s (code %s)", self.user, close_code)
