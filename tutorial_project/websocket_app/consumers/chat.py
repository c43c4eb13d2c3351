"""Setup 3: group chat. Every socket in a room is a member of one channel layer group."""
from ..protocol import BAD_ROOM, DEFAULT_ROOM, LAYER_UNAVAILABLE, error_frame, is_valid_room_name
from .base import TokenAuthConsumer

try:  # with the Redis layers, a lost Redis raises redis-py's errors
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - channels_redis not installed
    RedisError = OSError
LAYER_ERRORS = (OSError, RedisError)


class ChatConsumer(TokenAuthConsumer):
    room_group_name = None  # set once the socket has joined its room

    async def on_authenticated(self):
        room_name = self.scope["url_route"]["kwargs"].get("room_name", DEFAULT_ROOM)
        if not is_valid_room_name(room_name):
            await self.refuse(BAD_ROOM, "room names use 1-50 letters, digits, '-' or '_'")
            return
        group_name = f"chat_{room_name}"  # the seed's naming: room "lobby" is group "chat_lobby"
        try:
            await self.channel_layer.group_add(group_name, self.channel_name)
        except LAYER_ERRORS:
            await self.refuse(LAYER_UNAVAILABLE, "the chat backend is down; try again shortly")
            return
        self.room_group_name = group_name
        # Everyone in the room (the newcomer included) hears who joined.
        await self.broadcast(f"👋 {self.user.username} joined the chat")

    async def receive_message(self, message: str):
        try:
            await self.broadcast(f"{self.user.username}: {message}")
        except LAYER_ERRORS:  # the message is lost: say so, and keep the socket
            await self.send(text_data=error_frame(
                "layer_unavailable", "the chat backend is down; your message was not delivered"))

    async def broadcast(self, text: str):
        """Send ``text`` to every socket in the room, through the channel layer."""
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": text}
        )

    async def chat_message(self, event):
        # The layer calls this for every "chat.message" event sent to the group
        # ("." in the type becomes "_" in the method name).
        await self.send_message(event["message"])

    async def disconnect(self, close_code):
        if self.room_group_name is None:  # refused before joining: nothing to leave
            return
        try:
            await self.channel_layer.group_discard(self.room_group_name, self.channel_name)
            await self.broadcast(f"{self.user.username} left the chat")
        except LAYER_ERRORS:
            pass  # Redis is gone; its group memberships expire on their own

    async def __call__(self, scope, receive, send):
        # Channels waits for layer messages alongside websocket frames; when Redis goes
        # away that wait raises, and daphne would close the socket with a bare 1011.
        # Close with a code that tells the client what happened and what to do instead.
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS:
            await send({"type": "websocket.close", "code": LAYER_UNAVAILABLE})
