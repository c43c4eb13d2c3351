"""Exercise jwt_auth — authenticate the socket with a JWT.

Clients connect to ws/chat/?token=<access token> (from POST /api/token/).

- A valid access token: accept, send {"message": "Authenticated WebSocket connected"},
  then answer each {"message": m} with {"message": "Hello <username>, you sent: <m>"}.
- No token, a garbage token, an expired token, a *refresh* token, an inactive user:
  refuse with close code 4401, in a way a real client (a browser) can see.

Check it:  python -m workbook check jwt_auth   (it also runs your consumer in daphne)
"""

import json
from urllib.parse import parse_qs  # noqa: F401  (you will need these)

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
        # TODO: refuse anonymous users with close code UNAUTHENTICATED, so that a real
        # client (not only channels' test communicator) sees the code; greet the others.
        await self.accept()
        await self.send(text_data=json.dumps({"message": "Authenticated WebSocket connected"}))

    @database_sync_to_async
    def get_user(self):
        # TODO: read ?token= from self.scope["query_string"] and validate it with
        # simplejwt's JWTAuthentication; return AnonymousUser() when it is not valid.
        return AnonymousUser()

    async def receive_message(self, message):
        # MessageConsumer has checked the frame: only good {"message": "..."} frames get here.
        await self.send(text_data=json.dumps({"message": f"Hello {self.user.username}, you sent: {message}"}))
