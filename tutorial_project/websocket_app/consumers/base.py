"""What every stage's consumer shares: reading ``{"message": ...}`` frames safely."""
from channels.generic.websocket import AsyncWebsocketConsumer

from ..auth import authenticate_token, token_from_query_string
from ..protocol import CLOSE_CODES, UNAUTHENTICATED, BadFrame, error_frame, message_frame, parse_message


class MessageConsumer(AsyncWebsocketConsumer):
    """The seed's ``receive`` would crash on a bad frame and lose the connection.

    Here a bad frame gets an error frame and the connection stays open;
    subclasses only see valid messages, in ``receive_message``.
    """

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = parse_message(text_data, bytes_data)
        except BadFrame as bad:
            await self.send(text_data=bad.as_frame())
            return
        await self.receive_message(message)

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
    """Authenticates ``?token=`` in ``connect()``; subclasses implement ``on_authenticated``."""

    user = None

    async def connect(self):
        result = await authenticate_token(token_from_query_string(self.scope))
        self.user = result.user
        # Accept before closing: a close before accept() becomes a bare HTTP 403
        # in daphne, and the client never learns why it was refused.
        await self.accept()
        if result.problem:
            await self.refuse(UNAUTHENTICATED, result.problem)
            return
        await self.on_authenticated()

    async def on_authenticated(self):
        raise NotImplementedError

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.user.is_authenticated
