"""Exercise rooms — group chat with rooms from the URL.

Clients connect to ws/chat/<room>/?token=<access token> (authentication is done for you).

- The room name must match ROOM_NAME_PATTERN; otherwise send an error frame
  {"error": "bad_room", ...} and close with code 4400.
- On joining, everyone in the room (the newcomer too) gets {"message": "👋 <username> joined the chat"}.
- Each {"message": m} reaches everyone in the room as {"message": "<username>: <m>"};
  people in other rooms hear nothing.
- On leaving, the socket leaves the group (group_discard) and the others get
  {"message": "<username> left the chat"}.

Check it:  python -m workbook check rooms
"""

import json

from websocket_app.auth import authenticate_token, token_from_query_string
from websocket_app.consumers.base import MessageConsumer

# The close codes (4400, 4401) and the room-name pattern live in one place: protocol.py.
from websocket_app.protocol import BAD_ROOM, ROOM_NAME_PATTERN, UNAUTHENTICATED


class RoomChatConsumer(MessageConsumer):
    group_name = None  # set once the socket has joined a room

    async def connect(self):
        result = await authenticate_token(token_from_query_string(self.scope))
        self.user = result.user
        await self.accept()
        if result.problem:
            await self.close(code=UNAUTHENTICATED)
            return
        room = self.scope["url_route"]["kwargs"].get("room_name", "global_chat")
        # TODO 1: refuse a room name that does not match ROOM_NAME_PATTERN (error frame, then BAD_ROOM).
        # TODO 2: join the group f"chat_{room}" and tell the room who joined.

    async def receive_message(self, message):
        # MessageConsumer has checked the frame: only good {"message": "..."} frames get here.
        # TODO 3: send f"{self.user.username}: {message}" to everyone in the room.
        pass

    async def broadcast(self, text):
        await self.channel_layer.group_send(self.group_name, {"type": "chat.message", "message": text})

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))

    async def disconnect(self, close_code):
        # TODO 4: leave the group and tell the others who left.
        pass
