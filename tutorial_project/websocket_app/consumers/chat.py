"""Setup 3: group chat. Every socket in a room is a member of one channel layer group."""

from ..protocol import BAD_ROOM, DEFAULT_ROOM, ROOM_NAME_RULE, UNAUTHENTICATED, is_valid_room_name
from .base import TokenAuthConsumer


class ChatConsumer(TokenAuthConsumer):
    room_group_name = None  # set once the socket has joined its room

    async def connect(self):
        result = await self.authenticate()  # ?token=, as in stage 2
        self.user = result.user
        await self.accept()
        if result.problem:
            await self.refuse(UNAUTHENTICATED, result.problem)
            return
        room_name = self.scope["url_route"]["kwargs"].get("room_name", DEFAULT_ROOM)
        if not is_valid_room_name(room_name):
            await self.refuse(BAD_ROOM, ROOM_NAME_RULE)
            return
        self.room_group_name = f"chat_{room_name}"  # room "lobby" is group "chat_lobby"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        # Everyone in the room, the newcomer included, hears who joined.
        await self.broadcast(f"👋 {self.user.username} joined the chat")

    async def receive_message(self, message: str):
        await self.broadcast(f"{self.user.username}: {message}")

    async def broadcast(self, text: str):
        """Send ``text`` to every socket in the room, through the channel layer."""
        await self.channel_layer.group_send(self.room_group_name, {"type": "chat.message", "message": text})

    async def chat_message(self, event):
        # The layer calls this for every "chat.message" event sent to the group
        # ("." in the type becomes "_" in the method name).
        await self.send_message(event["message"])

    async def disconnect(self, close_code):
        if self.room_group_name is None:  # refused before joining: nothing to leave
            return
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)
        await self.broadcast(f"{self.user.username} left the chat")
