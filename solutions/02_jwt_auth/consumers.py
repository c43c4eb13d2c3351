"""Exercise jwt_auth — authenticate the socket with a JWT.

Clients connect to ws/chat/?token=<access token> (from POST /api/token/).

- A valid access token: accept, send {"message": "Authenticated WebSocket connected"},
  then answer each {"message": m} with {"message": "Hello <username>, you sent: <m>"}.
- No token, a garbage token, an expired token, a *refresh* token, an inactive user:
  refuse with close code 4401, in a way a real client (a browser) can see.

Check it:  python -m workbook check jwt_auth   (it also runs your consumer in daphne)
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError

from websocket_app.consumers.base import MessageConsumer
from websocket_app.protocol import UNAUTHENTICATED  # 4401: every close code lives in protocol.py


class TokenEchoConsumer(MessageConsumer):
    async def connect(self):
        self.user = await self.get_user()
        # Accept first: a close() before accept() reaches a real client as HTTP 403.
        await self.accept()
        if self.user.is_anonymous:
            await self.send(text_data=json.dumps({"error": "unauthenticated", "detail": "token missing or invalid"}))
            await self.close(code=UNAUTHENTICATED)
            return
        await self.send(text_data=json.dumps({"message": "Authenticated WebSocket connected"}))

    @database_sync_to_async
    def get_user(self):
        query = parse_qs(self.scope["query_string"].decode("latin-1"))
        token = query.get("token", [None])[0]
        if not token:
            return AnonymousUser()
        jwt_auth = JWTAuthentication()  # accepts access tokens only, unlike UntypedToken
        try:
            return jwt_auth.get_user(jwt_auth.get_validated_token(token))
        except (AuthenticationFailed, TokenError):
            return AnonymousUser()

    async def receive_message(self, message):
        # MessageConsumer has checked the frame: only good {"message": "..."} frames get here.
        await self.send(text_data=json.dumps({"message": f"Hello {self.user.username}, you sent: {message}"}))
