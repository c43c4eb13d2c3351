"""Turning a JWT from the query string into a Django user.

simplejwt's ``JWTAuthentication`` does the checking: signature, expiry, and that
the token is an *access* token (``UntypedToken`` would also accept a refresh
token, which is meant to be used only at ``/api/token/refresh/``).
"""

from dataclasses import dataclass
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError


@dataclass
class AuthResult:
    user: object  # a User, or AnonymousUser when ``problem`` is set
    problem: str = ""  # why authentication failed, safe to show the client
    expires_at: int | None = None  # the token's ``exp`` claim (seconds since the epoch)


def query_parameter(scope, name: str) -> str | None:
    """One parameter of the websocket URL's query string, if it is there."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else None


def token_from_query_string(scope) -> str | None:
    """The ``?token=`` parameter of the websocket URL, if there is one."""
    return query_parameter(scope, "token")


@database_sync_to_async  # the ORM is synchronous; this also closes stale DB connections
def authenticate_token(raw_token: str | None) -> AuthResult:
    """Validate an access token and look up its user. Never raises for a bad token."""
    if not raw_token:
        return AuthResult(AnonymousUser(), "no token: connect with ?token=<access token>")
    jwt_auth = JWTAuthentication()
    try:
        validated_token = jwt_auth.get_validated_token(raw_token)
        user = jwt_auth.get_user(validated_token)  # refuses unknown and inactive users
    except (AuthenticationFailed, TokenError):
        # InvalidToken is an AuthenticationFailed. The details are not sent back:
        # a client probing tokens learns nothing beyond "not valid".
        return AuthResult(AnonymousUser(), "token invalid, expired or not an access token")
    return AuthResult(user, expires_at=validated_token.get("exp"))


@database_sync_to_async
def authenticate_ticket(ticket: str) -> AuthResult:
    """A one-time ticket from ``/api/ws-ticket/`` instead of a JWT in the URL."""
    from .tickets import redeem_ticket

    user, expires_at = redeem_ticket(ticket)
    if user is None or not user.is_active:
        return AuthResult(AnonymousUser(), "ticket unknown, already used or expired: get a new one")
    return AuthResult(user, expires_at=expires_at)


async def authenticate_scope(scope) -> AuthResult:
    """``?ticket=`` if the URL has one, otherwise ``?token=``."""
    ticket = query_parameter(scope, "ticket")
    if ticket:
        return await authenticate_ticket(ticket)
    return await authenticate_token(token_from_query_string(scope))
