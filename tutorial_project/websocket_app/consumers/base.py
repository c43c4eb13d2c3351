"""What the stages' consumers share: reading ``{"message": ...}`` frames safely,
refusing a socket so the client learns why, and (stages 2 and 3) who is connecting."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser

from ..auth import AuthResult, authenticate_token, token_from_query_string
from ..protocol import CLOSE_CODES, BadFrame, decode_frame, error_frame, message_frame, message_of


class MessageConsumer(AsyncWebsocketConsumer):
    """The classic first consumer did ``json.loads(text_data)["message"]``: one bad frame
    crashed it and lost the connection.

    Here a bad frame gets an error frame and the connection stays open; subclasses
    only see valid messages, in ``receive_message``.
    """

    async def receive(self, text_data=None, bytes_data=None):
        try:
            await self.receive_frame(decode_frame(text_data, bytes_data))
        except BadFrame as bad:
            await self.send(text_data=bad.as_frame())

    async def receive_frame(self, data: dict):
        """A decoded JSON object; the stages only want its ``message``."""
        await self.receive_message(message_of(data))

    async def receive_message(self, message: str):
        raise NotImplementedError

    async def send_message(self, text: str):
        await self.send(text_data=message_frame(text))

    async def refuse(self, close_code: int, detail: str):
        """Tell the client why in an error frame, then close with ``close_code``."""
        error_code, _meaning = CLOSE_CODES[close_code]
        await self.send(text_data=error_frame(error_code, detail))
        await self.close(code=close_code)


class TokenAuthConsumer(MessageConsumer):
    """A consumer whose clients say who they are with ``?token=<access token>``."""

    user = AnonymousUser()

    async def authenticate(self) -> AuthResult:
        """The URL's ``?token=``, checked by simplejwt (see ``auth.py``)."""
        return await authenticate_token(token_from_query_string(self.scope))
