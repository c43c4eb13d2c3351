"""The behaviour each exercise must show, step by step.

Each check gets a ``Context`` (the learner's file, tokens for the demo users) and
raises ``Unmet`` at the first expectation the learner's code does not meet, or
``LearnerCodeError`` when the learner's code raised (in this process or in daphne).
Close codes and limits come from ``websocket_app.protocol``, like the consumers'.
"""

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from websockets.exceptions import WebSocketException

from websocket_app.protocol import BAD_ROOM, UNAUTHENTICATED

from ..client import Client, HandshakeRefused, NothingReceived, SocketClosed
from ..server import Server, start_server
from .loading import ASGIApp, checked_application, exercise_routes, learner_attribute, load_learner_module
from .outcome import LearnerCodeError, Unmet, describe, known_cause
from .sockets import CheckedSocket, close_words
from .tracebacks import crashes_in_log, repo_relative

if TYPE_CHECKING:  # imported where used at run time: Django must be set up first
    from channels.generic.websocket import AsyncWebsocketConsumer


@dataclass
class Context:
    learner_file: Path
    entry_point: str  # the name the learner's file defines: a consumer class or a middleware stack
    tokens: dict[str, str | None]  # kind -> token: alice, bob, carol, missing (None), garbage, expired, ...

    def load(self) -> Any:
        """The learner's ``entry_point``, from their file as it is now."""
        module = load_learner_module(self.learner_file)
        return learner_attribute(module, self.entry_point, self.learner_file)

    def socket(self, application: ASGIApp, path: str, name: str = "client") -> CheckedSocket:
        return CheckedSocket(application, path, self.learner_file, name)

    def query(self, kind: str) -> str:
        token = self.tokens[kind]
        return "" if token is None else f"?token={token}"


def chat_application(consumer: Any) -> ASGIApp:
    from channels.routing import URLRouter

    return URLRouter(exercise_routes(consumer))


@sync_to_async
def make_tokens() -> dict[str, str | None]:
    """Access tokens for the demo users, and the bad tokens every auth check tries."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    users = get_user_model().objects
    alice = users.get(username="alice")
    inactive, _ = users.get_or_create(username="checker-inactive", defaults={"is_active": False})
    inactive.is_active = True  # in memory only: a token issued before the account was disabled
    expired = AccessToken.for_user(alice)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    return {
        "alice": str(AccessToken.for_user(alice)),
        "bob": str(AccessToken.for_user(users.get(username="bob"))),
        "carol": str(AccessToken.for_user(users.get(username="carol"))),
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": str(expired),
        "refresh": str(RefreshToken.for_user(alice)),
        "inactive": str(AccessToken.for_user(inactive)),
    }


BAD_TOKENS = {
    "missing": "connecting without a token",
    "garbage": "connecting with a garbage token",
    "expired": "connecting with an expired access token",
    "refresh": "connecting with a refresh token instead of an access token",
    "inactive": "connecting with the token of an inactive user",
}


# --- echo_types ---------------------------------------------------------------------------
async def check_echo_types(context: Context) -> None:
    application = chat_application(context.load())
    socket = context.socket(application, "/ws/chat/")
    await socket.connect("connecting")
    await socket.expect({"message": "WebSocket connected"}, "connecting")
    for frame, reply in [
        ({"type": "echo", "message": "hi"}, {"message": "hi"}),
        ({"type": "upper", "message": "hi there"}, {"message": "HI THERE"}),
        ({"type": "ping"}, {"type": "pong"}),
    ]:
        await socket.send(frame)
        await socket.expect(reply, f"sending {describe(frame)}")
    bad_frames: list[tuple[dict[str, Any] | str | bytes, str]] = [
        ("not json", "text that is not JSON"),
        ("[1, 2]", "a JSON list"),
        ({"type": "shout", "message": "hi"}, "an unknown type"),
        ({"type": "echo"}, "an echo without a message"),
        ({"type": "upper", "message": 5}, "a message that is not a string"),
        (b"\x00\x01", "a binary frame"),
    ]
    for bad_frame, what in bad_frames:
        step = f"sending {what} ({describe(bad_frame) if not isinstance(bad_frame, bytes) else 'bytes'})"
        await socket.send(bad_frame)
        await socket.expect_error(step)
        await socket.expect_still_open(f"the error frame for {what}")
    await socket.send({"type": "echo", "message": "still here"})
    await socket.expect({"message": "still here"}, "the bad frames, sending an echo (the socket must stay open)")
    await socket.disconnect("disconnecting")


# --- jwt_auth: against a real daphne, where a close before accept() is an HTTP 403 ---------
TOKEN_ADVICE = {
    "missing": "with no ?token= at all, the user is AnonymousUser()",
    "garbage": "catch simplejwt's InvalidToken/TokenError and return AnonymousUser()",
    "expired": "validate the token with JWTAuthentication().get_validated_token(): it checks expiry",
    "refresh": "UntypedToken (and RefreshToken) accept refresh tokens: validate with "
    "JWTAuthentication().get_validated_token(), which accepts access tokens only",
    "inactive": "load the user with JWTAuthentication().get_user(validated_token): it refuses "
    "inactive users (catch AuthenticationFailed)",
}


async def check_jwt_auth(context: Context) -> None:
    context.load()  # import errors are reported here, with their line, not from daphne's log
    env = {"WORKBOOK_EXERCISE_FILE": str(context.learner_file), "WORKBOOK_EXERCISE_CONSUMER": context.entry_point}
    with start_server(
        "jwt", application="workbook.exercise_asgi:application", env=env, wait_for_handshake=False
    ) as server:
        step = "connecting with alice's access token"
        async with crashes_reported(server, context, step):
            alice = await _live_connect(server, context, "alice", step)
            greeting = {"message": "Authenticated WebSocket connected"}
            await _live_expect(alice, greeting, step)
        step = 'sending {"message": "hi"} as alice'
        async with crashes_reported(server, context, step):
            await alice.send("hi")
            await _live_expect(alice, {"message": "Hello alice, you sent: hi"}, step)
            await alice.close()
        for kind, step in BAD_TOKENS.items():
            async with crashes_reported(server, context, step):
                await _expect_refused(server, context, kind, step)


async def _expect_refused(server: Server, context: Context, kind: str, step: str) -> None:
    client = await _live_connect(server, context, kind, step)
    try:
        code, _ = await client.wait_closed(timeout=2)
    except NothingReceived:
        await client.close()
        code = None
    received = [detail for event, detail in client.transcript.events() if event == "received"]
    if any("Authenticated WebSocket connected" in frame for frame in received):
        raise Unmet(
            step,
            f"a refusal with close code {close_words(UNAUTHENTICATED)}",
            "the greeting: your consumer let this token in as a signed-in user",
            TOKEN_ADVICE[kind],
        )
    if code is None:
        raise Unmet(
            step,
            f"the socket to close with code {close_words(UNAUTHENTICATED)}",
            "the socket still open after 2 s",
            "after accept(), an anonymous user gets close(code=UNAUTHENTICATED)",
        )
    if code != UNAUTHENTICATED:
        raise Unmet(
            step,
            f"close code {close_words(UNAUTHENTICATED)}",
            f"close code {close_words(code)}",
            "close with UNAUTHENTICATED from websocket_app.protocol",
        )


@asynccontextmanager
async def crashes_reported(server: Server, context: Context, step: str, wait: float = 1.0) -> AsyncIterator[None]:
    """If a step goes wrong, look in daphne's log first: a crash of the learner's code there
    is the real cause, whatever the client saw (HTTP 500, close 1011, silence)."""
    mark = len(server.log())
    try:
        yield
    except Unmet:
        deadline = time.monotonic() + wait  # daphne may log a moment after the client noticed
        while True:
            crashes = crashes_in_log(server.log()[mark:], context.learner_file)
            if crashes or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        if crashes:
            crash = crashes[-1]
            raise LearnerCodeError(
                f"your code raised {crash.exception}{crash.where} while {step} (in daphne)",
                crash.lines(),
                repo_relative(server.log_path),
                known_cause(crash.exception),
            ) from None
        raise


async def _live_connect(server: Server, context: Context, kind: str, step: str) -> Client:
    try:
        return await Client.connect(server, kind, token=context.tokens[kind])
    except HandshakeRefused as refused:
        if refused.status == 403:
            raise Unmet(
                step,
                "the handshake to be accepted (refusals come after accept())",
                "HTTP 403 at the handshake",
                "a close() before accept() reaches a real client as HTTP 403 and its code is "
                "lost: accept() first, then close(code=UNAUTHENTICATED)",
            ) from None
        raise Unmet(
            step,
            "the handshake to be accepted",
            f"HTTP {refused.status} at the handshake",
            "the server failed while connecting: read its log",
        ) from None
    except (OSError, TimeoutError, WebSocketException) as error:  # dropped, reset, not a handshake
        raise Unmet(
            step, "the handshake to be accepted", f"the connection failed ({type(error).__name__}: {error})"
        ) from None


async def _live_expect(client: Client, expected: dict[str, Any], step: str) -> None:
    try:
        frame = await client.receive(timeout=2)
    except TimeoutError:
        raise Unmet(step, describe(expected), "nothing within 2 s") from None
    except SocketClosed as closed:
        raise Unmet(step, describe(expected), f"the socket closed with {close_words(closed.code)}") from None
    if frame != expected:
        raise Unmet(step, describe(expected), describe(frame))


# --- rooms --------------------------------------------------------------------------------
SEPARATE_ROOMS = 'each room is its own group: join f"chat_{room}" with the room name from the URL'


async def check_rooms(context: Context) -> None:
    from channels.layers import get_channel_layer

    application = chat_application(context.load())
    room, other_room = f"check-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    alice = context.socket(application, f"/ws/chat/{room}/{context.query('alice')}", "alice")
    await alice.connect(f"alice connecting to ws/chat/{room}/")
    await alice.expect(
        {"message": "👋 alice joined the chat"},
        "alice joining",
        "the newcomer hears their own join notice too: broadcast it to the group",
    )
    bob = context.socket(application, f"/ws/chat/{room}/{context.query('bob')}", "bob")
    await bob.connect(f"bob connecting to ws/chat/{room}/")
    await bob.expect({"message": "👋 bob joined the chat"}, "bob joining (bob's socket)")
    await alice.expect(
        {"message": "👋 bob joined the chat"},
        "bob joining (alice's socket)",
        "tell everyone in the room: self.broadcast(...), not self.send(...)",
    )
    carol = context.socket(application, f"/ws/chat/{other_room}/{context.query('carol')}", "carol")
    await carol.connect("carol connecting to another room")
    await carol.expect({"message": "👋 carol joined the chat"}, "carol joining another room")
    for name, socket in (("alice", alice), ("bob", bob)):
        await socket.expect_nothing(
            f"carol joining another room ({name}'s socket)",
            "carol is elsewhere",
            f"{name} heard carol join another room: {SEPARATE_ROOMS}",
        )
    await alice.send({"message": "hi"})
    step = 'alice sending {"message": "hi"}'
    try:
        await alice.expect({"message": "alice: hi"}, f"{step} (alice's own socket)")
    except Unmet as unmet:
        if unmet.got == "nothing within 2 s":
            unmet = Unmet(
                unmet.step,
                unmet.expected,
                unmet.got,
                "everyone in the room gets the message, the sender too: broadcast it to the group",
            )
        raise unmet from None
    try:
        await bob.expect({"message": "alice: hi"}, f"{step} (bob's socket)")
    except Unmet as unmet:
        if unmet.got == "nothing within 2 s":
            unmet = Unmet(
                unmet.step,
                unmet.expected,
                "nothing, while alice's own socket got it",
                "send to the room (group_send, e.g. self.broadcast), not to the sender (self.send)",
            )
        raise unmet from None
    await carol.expect_nothing(
        f"{step} in her room (carol's socket)",
        "carol is in another room",
        f"carol is in another room and heard it: {SEPARATE_ROOMS}",
    )
    await bob.disconnect("bob disconnecting")
    await alice.expect({"message": "bob left the chat"}, "bob leaving (alice's socket)")
    members = get_channel_layer().groups.get(f"chat_{room}", {})
    if len(members) != 1:
        raise Unmet(
            "bob leaving",
            "only alice's channel left in the group",
            f"{len(members)} channels: bob's socket would still get the room's messages",
            "call group_discard in disconnect()",
        )
    await alice.disconnect("alice disconnecting")
    await carol.disconnect("carol disconnecting")
    bad = context.socket(application, f"/ws/chat/bad.room/{context.query('alice')}")
    await bad.connect("connecting to ws/chat/bad.room/")
    await bad.expect_error(
        "connecting to the bad room name 'bad.room'",
        "bad_room",
        "check the name with ROOM_NAME_PATTERN before joining; refuse it with an "
        "error frame, then close(code=BAD_ROOM)",
    )
    await bad.expect_close(BAD_ROOM, "refusing the bad room name")


# --- jwt_middleware -----------------------------------------------------------------------
def probe_consumer() -> "type[AsyncWebsocketConsumer]":
    """A consumer that reports the scope's user, to see what the middleware put there."""
    import json

    from channels.generic.websocket import AsyncWebsocketConsumer

    class ScopeUserProbe(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept()
            user = self.scope.get("user")
            if user is None:
                report = {"user": "no user in the scope"}
            else:
                report = {"user": user.username if user.is_authenticated else "anonymous"}
            await self.send(text_data=json.dumps(report))

    return ScopeUserProbe


async def check_jwt_middleware(context: Context) -> None:
    from channels.routing import URLRouter
    from django.urls import re_path

    stack = context.load()
    application = checked_application(stack(URLRouter([re_path(r"^ws/probe/$", probe_consumer().as_asgi())])))
    signed_in = [
        ("with alice's token", context.query("alice"), "alice"),
        ("with bob's token among other parameters", f"?room=lobby&token={context.tokens['bob']}&x=1", "bob"),
    ]
    cases = [
        (label, query, user, "the token may stand among other parameters: read it with parse_qs")
        for label, query, user in signed_in
    ]
    cases += [
        (BAD_TOKENS[kind].removeprefix("connecting "), context.query(kind), "anonymous", TOKEN_ADVICE[kind])
        for kind in BAD_TOKENS
    ]
    for label, query, expected_user, advice in cases:
        socket = context.socket(application, f"/ws/probe/{query}")
        step = f"connecting {label}"
        await socket.connect(step)
        await socket.expect({"user": expected_user}, f"{step} (the probe reports scope['user'])", advice)
        if "user" in socket.communicator.scope:
            raise Unmet(
                step,
                "the caller's scope left unchanged",
                "scope['user'] set on it",
                "pass on a copy: scope = dict(scope, user=...)",
            )
        await socket.disconnect("disconnecting")


# --- history ------------------------------------------------------------------------------
HISTORY_LENGTH = 10  # as exercises/05_history/consumers.py ships it


@sync_to_async
def _saved_messages(room: str) -> list[str]:
    from websocket_app.models import ChatMessage

    return [str(message) for message in ChatMessage.objects.filter(room=room).select_related("user")]


@sync_to_async
def _seed_message(room: str, username: str, text: str) -> None:
    from django.contrib.auth import get_user_model

    from websocket_app.models import ChatMessage

    ChatMessage.objects.create(room=room, user=get_user_model().objects.get(username=username), text=text)


@sync_to_async
def _forget_rooms(*rooms: str) -> None:
    from websocket_app.models import ChatMessage

    ChatMessage.objects.filter(room__in=rooms).delete()


async def check_history(context: Context) -> None:
    from channels.layers import get_channel_layer

    consumer = context.load()
    application = chat_application(consumer)
    history_length = getattr(inspect.getmodule(consumer), "HISTORY_LENGTH", None)
    if history_length != HISTORY_LENGTH:
        raise Unmet(
            "reading HISTORY_LENGTH",
            f"HISTORY_LENGTH = {HISTORY_LENGTH}, as the exercise gives it",
            f"{history_length!r}",
            "keep the constant as shipped",
        )
    room, seeded_room = f"history-{uuid.uuid4().hex[:8]}", f"seeded-{uuid.uuid4().hex[:8]}"
    try:
        alice = context.socket(application, f"/ws/chat/{room}/{context.query('alice')}", "alice")
        await alice.connect("alice connecting to a new room")
        await alice.expect({"message": "👋 alice joined the chat"}, "alice joining an empty room")
        said = [f"message {number}" for number in range(1, HISTORY_LENGTH + 3)]
        for text in said:
            await alice.send({"message": text})
            await alice.expect({"message": f"alice: {text}"}, f'alice sending {{"message": "{text}"}}')
        saved = await _saved_messages(room)
        if saved != [f"alice: {text}" for text in said]:
            raise Unmet(
                f"alice sending {len(said)} messages",
                f"{len(said)} ChatMessage rows for the room",
                f"{len(saved)} rows",
                "save each message in receive()",
            )
        bob = context.socket(application, f"/ws/chat/{room}/{context.query('bob')}", "bob")
        await bob.connect("bob joining the room")
        await _expect_history(bob, [f"alice: {text}" for text in said[-HISTORY_LENGTH:]], said)
        await bob.disconnect("bob disconnecting")
        members = get_channel_layer().groups.get(f"chat_{room}", {})
        if len(members) != 1:
            raise Unmet(
                "bob leaving",
                "only alice's channel left in the group",
                f"{len(members)} channels: bob would still be sent the room's messages",
                "leave the group in disconnect(): group_discard",
            )
        await alice.disconnect("alice disconnecting")
        await _seed_message(seeded_room, "carol", "written straight into the database")
        carol = context.socket(application, f"/ws/chat/{seeded_room}/{context.query('carol')}", "carol")
        await carol.connect("carol joining a room whose only message is in the database")
        await carol.expect(
            {"message": "carol: written straight into the database"},
            "carol joining (history must come from the database, for this room only)",
        )
        await carol.disconnect("carol disconnecting")
    finally:
        await _forget_rooms(room, seeded_room)


async def _expect_history(bob: CheckedSocket, wanted: list[str], said: list[str]) -> None:
    """bob's first frames, up to his join notice, must be exactly ``wanted``: else say how they differ."""
    step = f"bob joining a room where {len(said)} messages were said"
    got: list[Any] = []
    while True:
        frame = await bob.receive(step, '{"message": "👋 bob joined the chat"} after the history')
        if frame == {"message": "👋 bob joined the chat"}:
            break
        got.append(frame.get("message") if isinstance(frame, dict) else frame)
        if len(got) > len(said) + 1:
            break
    if got == wanted:
        return
    expected = f"the last {len(wanted)} messages, oldest first ({wanted[0]!r} … {wanted[-1]!r})"
    if len(got) > len(wanted):
        advice = f"replay only the last HISTORY_LENGTH ({len(wanted)}): slice the newest, then reverse"
    elif got == list(reversed(wanted)):
        advice = "these are newest first: reverse them before sending"
    elif got == [line.split(": ", 1)[1] for line in wanted]:
        advice = "send each as '<username>: <text>': str(message) gives that"
    elif not got:
        advice = "send the history first (last_messages()), then the join notice"
    elif len(got) < len(wanted):
        advice = "replay HISTORY_LENGTH messages when the room has that many"
    else:
        advice = "take the newest HISTORY_LENGTH with order_by('-created', '-id'), then reverse"
    shown = f"{len(got)} messages" + (f" ({got[0]!r} … {got[-1]!r})" if got else "")
    raise Unmet(step, expected, shown, advice)


CHECKS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "echo_types": check_echo_types,
    "jwt_auth": check_jwt_auth,
    "rooms": check_rooms,
    "jwt_middleware": check_jwt_middleware,
    "history": check_history,
}
