"""Broken versions of the stage consumers, for the exercises where the learner writes tests.

Each is the real consumer with one bug, the kind people ship. The learner's tests
must pass on the real consumer and fail on every one of these.
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import UntypedToken

from websocket_app.auth import AuthResult, token_from_query_string
from websocket_app.consumers.chat import ChatConsumer
from websocket_app.consumers.echo import EchoConsumer


# --- test_echo: the echo consumer of notebook 01 -------------------------------------------
class WrongReplyEcho(EchoConsumer):
    async def receive_message(self, message: str) -> None:
        await self.send_message(f"You say: {message}")  # the bug: "say", not "said"


class SilentEcho(EchoConsumer):
    async def connect(self) -> None:
        await self.accept()  # the bug: no greeting


class ClosesOnBadFrameEcho(EchoConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await super().receive(text_data, bytes_data)
        try:
            json.loads(text_data or "")["message"]
        except (ValueError, KeyError, TypeError):
            await self.close()  # the bug: one bad frame costs the connection


class CrashesOnBadFrameEcho(EchoConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # the bug: the classic first version (a binary frame's None reaches json.loads, so the ignore)
        await self.receive_message(json.loads(text_data)["message"])  # type: ignore[arg-type]


# --- test_rooms: the group chat of notebook 03 ---------------------------------------------
class NeverLeavesChat(ChatConsumer):
    async def disconnect(self, close_code: int) -> None:
        if self.room_group_name is not None:  # the bug: no group_discard
            await self.broadcast(f"{self.user.username} left the chat")


class OneRoomChat(ChatConsumer):
    async def connect(self) -> None:
        self.scope["url_route"]["kwargs"]["room_name"] = "lobby"  # the bug: every room is one room
        await super().connect()


class EchoesOnlyToSenderChat(ChatConsumer):
    async def receive_message(self, message: str) -> None:
        await self.send_message(f"{self.user.username}: {message}")  # the bug: not to the group


class RefreshTokenChat(ChatConsumer):
    async def authenticate(self) -> AuthResult:
        return await untyped_authentication(token_from_query_string(self.scope))


@database_sync_to_async
def untyped_authentication(token: str | None) -> AuthResult:
    """The bug: UntypedToken checks the signature and expiry, not that it is an *access* token."""
    try:
        if not token:
            raise TokenError("no token")
        # simplejwt annotates its parameter as Token, but it takes (and here gets) the encoded str
        untyped = UntypedToken(token)  # type: ignore[arg-type]
        user = get_user_model().objects.get(id=untyped["user_id"], is_active=True)
    except (TokenError, KeyError, ObjectDoesNotExist):
        return AuthResult(AnonymousUser(), "token invalid")
    return AuthResult(user)


Bug = tuple[str, Any, str]  # (variant id, consumer class, what it does wrong)

#: exercise id -> the correct consumer, and the bugs: (variant id, class, what it does wrong)
VARIANTS: dict[str, tuple[Any, list[Bug]]] = {
    "test_echo": (
        EchoConsumer,
        [
            ("wrong_reply", WrongReplyEcho, 'answers {"message": "You say: hi"} instead of "You said: hi"'),
            ("no_greeting", SilentEcho, "forgets to greet on connect"),
            ("closes_on_bad_frame", ClosesOnBadFrameEcho, "closes the connection after a bad frame"),
            ("crashes_on_bad_frame", CrashesOnBadFrameEcho, "crashes on a frame that is not JSON"),
        ],
    ),
    "test_rooms": (
        ChatConsumer,
        [
            ("never_leaves", NeverLeavesChat, "forgets to leave the room on disconnect (no group_discard)"),
            ("one_room", OneRoomChat, "puts every room in one group, so other rooms hear it"),
            ("sender_only", EchoesOnlyToSenderChat, "sends each message back to its sender only"),
            ("refresh_token", RefreshTokenChat, "lets a refresh token in as if it were an access token"),
        ],
    ),
}
