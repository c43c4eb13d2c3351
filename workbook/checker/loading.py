"""Importing a learner's file and routing its consumer, for the checker and for daphne."""

import importlib.util
import itertools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .outcome import LearnerCodeError

if TYPE_CHECKING:  # Django is imported at run time only once the project's settings are chosen
    from django.urls import URLPattern

_counter = itertools.count()

# The ASGI callables, as far as the checker needs to know them.
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def load_learner_module(path: Path) -> ModuleType:
    """Import ``path`` afresh (a new module each time, so edits are always seen)."""
    name = f"learner_{path.parent.name}_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # only for a path that is not a .py file
        raise LearnerCodeError(f"{path.name} cannot be imported as Python: is it a .py file?")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling need the module registered
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # SyntaxError, ImportError, NameError... all the learner's
        del sys.modules[name]
        raise LearnerCodeError.from_exception(error, path, "importing it") from error
    return module


def learner_attribute(module: ModuleType, name: str, path: Path) -> Any:
    """``module.name``: the learner's consumer class or middleware, whatever they made of it."""
    try:
        return getattr(module, name)
    except AttributeError:
        raise LearnerCodeError(f"{path.name} has no {name}: keep the name the exercise gives") from None


def exercise_routes(consumer: Any) -> "list[URLPattern]":
    """The routes a learner's chat-like consumer is served at: ws/chat/ and ws/chat/<room>/.

    Each is a ``checked_application``: what daphne could not send fails at the learner's line."""
    from django.urls import re_path

    return [
        re_path(r"^ws/chat/$", checked_application(consumer.as_asgi())),
        re_path(r"^ws/chat/(?P<room_name>[^/]+)/$", checked_application(consumer.as_asgi())),
    ]


def _problem_with(message: dict[str, Any], accepted: bool) -> str | None:
    """Why daphne could not send ``message``, in the learner's words; None when it can."""
    kind = message.get("type")
    if kind == "websocket.send":
        text, data = message.get("text"), message.get("bytes")
        if text is not None and not isinstance(text, str):
            return (
                f"send(text_data=...) got a {type(text).__name__}, not a str: "
                f"text frames carry text, so send json.dumps(...) of it"
            )
        if data is not None and not isinstance(data, (bytes, bytearray)):
            return f"send(bytes_data=...) got a {type(data).__name__}, not bytes"
        if not accepted:
            return "send() before accept(): a socket can only carry frames once it is accepted"
    if kind == "websocket.close":
        code = message.get("code")
        if code is not None and (type(code) is not int or not (code == 1000 or 3000 <= code <= 4999)):
            return (
                f"close(code={code!r}): daphne can only send close code 1000 or 3000-4999 "
                f"(the others are reserved for the protocol itself)"
            )
    return None


def checked_application(application: ASGIApp) -> ASGIApp:
    """``application`` with every message it sends checked as daphne would, *at the send*.

    An impossible frame (a dict as text, a reserved close code) then raises inside
    the learner's own ``send()``/``close()`` call, so the traceback points at their line,
    instead of failing later, far away, in the server or the checker.
    """

    async def checked(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        accepted = False

        async def checked_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            problem = _problem_with(message, accepted)
            if problem:  # a plain built-in error: the learner's traceback should name nothing of ours
                raise (ValueError if message.get("type") == "websocket.close" else TypeError)(problem)
            accepted = accepted or message.get("type") == "websocket.accept"
            await send(message)

        return await application(scope, receive, checked_send)

    return checked
