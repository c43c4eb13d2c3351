"""Exercise history — a joining client first hears what was said before.

Clients connect to ws/chat/<room>/?token=<access token>. Authentication, rooms and
broadcasting are done for you. Add a history kept in the database
(websocket_app.models.ChatMessage):

- Every message said in a room is saved (room, user, text) before it is broadcast.
- A client joining a room first receives the room's last HISTORY_LENGTH messages,
  oldest first, each as {"message": "<username>: <text>"}, and only then the
  "👋 <username> joined the chat" notice. Messages from other rooms are not replayed.

Check it:  python -m workbook check history
"""

import json

from channels.db import database_sync_to_async

from websocket_app.auth import authenticate_token, token_from_query_string
from websocket_app.consumers.base import MessageConsumer
from websocket_app.models import ChatMessage  # noqa: F401  (you will need it)
from websocket_app.protocol import BAD_ROOM, ROOM_NAME_PATTERN, UNAUTHENTICATED

HISTORY_LENGTH = 10


class HistoryChatConsumer(MessageConsumer):
    group_name = None

    async def connect(self):
        result = await authenticate_token(token_from_query_string(self.scope))
        self.user = result.user
        await self.accept()
        self.room = self.scope["url_route"]["kwargs"].get("room_name", "global_chat")
        if result.problem or not ROOM_NAME_PATTERN.match(self.room):
            await self.close(code=UNAUTHENTICATED if result.problem else BAD_ROOM)
            return
        self.group_name = f"chat_{self.room}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        for line in await self.last_messages():
            await self.send(text_data=json.dumps({"message": line}))
        await self.broadcast(f"👋 {self.user.username} joined the chat")

    @database_sync_to_async
    def last_messages(self):
        """The room's last HISTORY_LENGTH messages as "<username>: <text>", oldest first."""
        # TODO 1: query ChatMessage for this room: the newest HISTORY_LENGTH, returned oldest first.
        return []

    @database_sync_to_async
    def save_message(self, text):
        # TODO 2: save the message (room, user, text) as a ChatMessage.
        pass

    async def receive_message(self, message):
        # MessageConsumer has checked the frame: only good {"message": "..."} frames get here.
        await self.save_message(message)
        await self.broadcast(f"{self.user.username}: {message}")

    async def broadcast(self, text):
        await self.channel_layer.group_send(self.group_name, {"type": "chat.message", "message": text})

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))

    async def disconnect(self, close_code):
        if self.group_name is not None:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
