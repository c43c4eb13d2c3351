"""Exercise jwt_middleware — one JWT middleware instead of token code in every consumer.

Write an ASGI middleware that reads ?token=<access token> and sets scope["user"]:
the token's user when the access token is valid, AnonymousUser() otherwise (no token,
garbage, expired, a refresh token, an inactive user). Other query parameters may be
present too (?room=lobby&token=...). Do not change the scope you were given: pass a copy on.

Then a consumer just reads self.scope["user"], and routing wraps it:
    JWTAuthMiddlewareStack(URLRouter(websocket_urlpatterns))

Check it:  python -m workbook check jwt_middleware
"""

from urllib.parse import parse_qs  # noqa: F401  (you will need these)

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError


@database_sync_to_async
def user_for_token(token):
    """The token's user, or AnonymousUser. The ORM is synchronous: run it in a thread."""
    # TODO: validate the token with simplejwt's JWTAuthentication and return its user.
    return AnonymousUser()


class JWTAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        # TODO: read ?token= from scope["query_string"] and pass on a *copy* of the scope
        # whose "user" is user_for_token(token).
        return await super().__call__(scope, receive, send)


def JWTAuthMiddlewareStack(inner):
    return JWTAuthMiddleware(inner)
