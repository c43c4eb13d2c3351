"""Consumers with one mistake each (notebook 07). Each overrides one method of a real
consumer, so the mistake is the difference between two short methods."""

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from websocket_app.consumers import ChatConsumer, EchoConsumer
from websocket_app.protocol import DEFAULT_ROOM


class UserCountConsumer(EchoConsumer):
    """The fixed version: greets with the number of users, read in a worker thread."""

    async def connect(self):
        await self.accept()
        count = await database_sync_to_async(get_user_model().objects.count)()
        await self.send_message(f"WebSocket connected ({count} users)")


class OrmInAsyncConsumer(EchoConsumer):
    """The mistake: the ORM called directly from async code."""

    async def connect(self):
        await self.accept()
        count = get_user_model().objects.count()
        await self.send_message(f"WebSocket connected ({count} users)")


class UnhandledTypeChatConsumer(ChatConsumer):
    """The mistake: an event type no method handles (``chat.messages`` → ``chat_messages``)."""

    async def broadcast(self, text: str):
        """Send ``text`` to every socket in the room, through the channel layer."""
        await self.channel_layer.group_send(self.room_group_name, {"type": "chat.messages", "message": text})


class WrongGroupChatConsumer(ChatConsumer):
    """The mistake: sending to a group name spelled differently from the one joined."""

    async def broadcast(self, text: str):
        """Send ``text`` to every socket in the room, through the channel layer."""
        room_name = self.scope["url_route"]["kwargs"].get("room_name", DEFAULT_ROOM)
        await self.channel_layer.group_send(f"chat-{room_name}", {"type": "chat.message", "message": text})


class ClosesBeforeAcceptConsumer(EchoConsumer):
    """The classic first version's refusal: ``close()`` before ``accept()`` (a bare HTTP 403 in daphne)."""

    async def connect(self):
        await self.close(code=4401)
