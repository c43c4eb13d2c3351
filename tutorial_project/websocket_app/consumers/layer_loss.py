"""Notebook 04: what the chat consumer does when its channel layer (Redis) goes away."""

import contextlib

from redis.exceptions import RedisError

from ..protocol import LAYER_UNAVAILABLE, error_frame

LAYER_ERRORS = (OSError, RedisError)  # with the Redis layers, a lost Redis raises redis-py's errors


class LayerLossMixin:
    """Without this, a lost Redis crashes the consumer and daphne closes the socket with a
    bare 1011. With it, the client gets 4503 (``layer_unavailable``: reconnect shortly),
    a message that could not be sent is reported, and the server carries on."""

    async def connect(self):
        try:
            await super().connect()  # joining the room's group needs the layer
        except LAYER_ERRORS:
            await self.refuse(LAYER_UNAVAILABLE, "the chat backend is down; try again shortly")

    async def receive_message(self, message: str):
        try:
            await super().receive_message(message)
        except LAYER_ERRORS:  # the message is lost: say so, and keep the socket
            await self.send(
                text_data=error_frame("layer_unavailable", "the chat backend is down; your message was not delivered")
            )

    async def disconnect(self, close_code):
        with contextlib.suppress(*LAYER_ERRORS):  # Redis is gone; its group memberships expire on their own
            await super().disconnect(close_code)

    async def __call__(self, scope, receive, send):
        # Channels waits for layer messages alongside websocket frames; when Redis goes
        # away that wait raises. Close with a code that tells the client what to do.
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS:
            await send({"type": "websocket.close", "code": LAYER_UNAVAILABLE})
