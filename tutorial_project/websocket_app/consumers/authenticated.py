"""Setup 2: the echo consumer behind a JWT (``ws/chat/?token=<access token>``)."""
import logging

from .base import TokenAuthConsumer

logger = logging.getLogger(__name__)


class AuthenticatedEchoConsumer(TokenAuthConsumer):
    async def on_authenticated(self):
        await self.send_message("Authenticated WebSocket connected")

    async def receive_message(self, message: str):
        await self.send_message(f"Hello {self.user.username}, you sent: {message}")

    async def disconnect(self, close_code):
        logger.info("Disconnected user: %s (code %s)", self.user, close_code)
