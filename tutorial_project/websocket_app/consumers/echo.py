"""Setup 1: the echo consumer."""

import logging

from .base import MessageConsumer

logger = logging.getLogger(__name__)


class EchoConsumer(MessageConsumer):
    async def connect(self):
        await self.accept()
        await self.send_message("WebSocket connected")

    async def receive_message(self, message: str):
        await self.send_message(f"You said: {message}")

    async def disconnect(self, close_code):
        logger.info("WebSocket disconnected (code %s)", close_code)
