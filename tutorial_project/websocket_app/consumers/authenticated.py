"""Setup 2: the echo consumer behind a JWT (``ws/chat/?token=<access token>``)."""
import json
import logging

from ..protocol import MAX_MESSAGE_CHARS, BadFrame
from .base import TokenAuthConsumer

logger = logging.getLogger(__name__)


class AuthenticatedEchoConsumer(TokenAuthConsumer):
    async def on_authenticated(self):
        await self.send_message("Authenticated WebSocket connected")

    async def receive(self, text_data=None, bytes_data=None):
        """Two protocols on one socket: JSON frames get JSON back; plain text gets plain text.

        The classic first version of this consumer echoed raw text
        (``yo`` → ``Hello alice, you sent: yo``); clients written for it keep working.
        """
        if text_data is not None and not _is_json(text_data):
            if await self.within_rate_limit():
                await self.receive_plain_text(text_data)
            return
        await super().receive(text_data, bytes_data)

    async def receive_plain_text(self, text: str):
        if len(text) > MAX_MESSAGE_CHARS:
            await self.send(text_data=BadFrame(
                "message_too_long", f"messages are limited to {MAX_MESSAGE_CHARS} characters").as_frame())
            return
        await self.send(text_data=self.reply_to(text))

    async def receive_message(self, message: str):
        await self.send_message(self.reply_to(message))

    def reply_to(self, message: str) -> str:
        return f"Hello {self.user.username}, you sent: {message}"

    async def disconnect(self, close_code):
        logger.info("Disconnected user: %s (code %s)", self.user, close_code)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True
