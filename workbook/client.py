"""Client helpers for notebooks and tests: tokens over HTTP, websockets with a timeout.

    tokens = get_tokens(server, "alice", "alice-pass-123")
    alice = await Client.connect(server, "alice", token=tokens.access)
    await alice.send("hi")
    await alice.receive()          # never waits forever: 5 s, then NothingReceived
    alice.transcript               # who sent and received what, as a table

Every receive has a timeout because an interrupted notebook cell cannot cancel
a pending ``await`` promptly: a receive without one can freeze the kernel.
"""

import asyncio
import html
import json
import re
import time
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Final, Literal, Protocol

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

DEFAULT_TIMEOUT = 5.0
#: Silence that means "nothing more is coming": a local server answers within a few
#: milliseconds, even on a busy 2-core machine.
QUIET_SECONDS = 0.25


class Reachable(Protocol):
    """What a client can talk to: a workbook ``Server``, a ``ReverseProxy``, runserver..."""

    @property
    def http_url(self) -> str: ...


Target = Reachable | str  #: a server, or its base URL such as "http://127.0.0.1:8000"


class _ServerOrigin(Enum):
    """The type of ``SERVER_ORIGIN``: one value, so a type checker can tell it from a str."""

    SERVER_ORIGIN = "the Origin a page served by this server would send"


SERVER_ORIGIN: Final = _ServerOrigin.SERVER_ORIGIN  #: "send the Origin a page served by this server would send"
OriginChoice = str | None | Literal[_ServerOrigin.SERVER_ORIGIN]  #: an Origin, none (None), or SERVER_ORIGIN


class HandshakeRefused(RuntimeError):
    """The server answered the websocket handshake with an HTTP error (e.g. 403)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"the server refused the websocket handshake with HTTP {status} ({url})")
        self.status = status


class NothingReceived(TimeoutError):
    """A receive timed out: the server sent nothing in time."""


class SocketClosed(ConnectionError):
    """The socket is closed; ``code`` and ``reason`` say how the server closed it."""

    def __init__(self, code: int | None, reason: str):
        super().__init__(f"the socket is closed (code {code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class RequestFailed(RuntimeError):
    """An HTTP call to the server failed; the message names the endpoint, the status, the
    cause the client can see, and what to do next. Never a bare JSONDecodeError."""

    def __init__(self, endpoint: str, status: int | None, cause: str, next_step: str):
        answered = f"answered HTTP {status}" if status is not None else "did not answer"
        super().__init__(f"{endpoint} {answered}: {cause}. Next: {next_step}")
        self.endpoint, self.status, self.cause, self.next_step = endpoint, status, cause, next_step


class LoginFailed(RequestFailed):
    """The server refused the credentials (HTTP 400/401 from a token endpoint)."""


@dataclass
class Tokens:
    access: str
    refresh: str

    def __repr__(self) -> str:  # tokens are secrets: never print them whole
        return f"Tokens(access='{self.access[:12]}…', refresh='{self.refresh[:12]}…')"


def _base_url(server: Target) -> str:
    return server if isinstance(server, str) else server.http_url


def post_json(server: Target, path: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
    """POST JSON to ``path`` and return the JSON answer, or raise ``RequestFailed`` saying why."""
    endpoint = f"POST {path}"
    try:
        response = httpx.post(_base_url(server) + path, json=payload, headers=headers, timeout=DEFAULT_TIMEOUT * 2)
    except httpx.TransportError as error:
        raise RequestFailed(
            endpoint,
            None,
            f"{type(error).__name__}: {error}",
            "is the server running? (print(server), then start it again)",
        ) from None
    if response.status_code >= 400:
        raise _failure(server, endpoint, response)
    try:
        return response.json()
    except ValueError:
        raise RequestFailed(
            endpoint,
            response.status_code,
            "the answer is not JSON: " + _first_line(response.text),
            "check the URL: is this a workbook server?",
        ) from None


def _failure(server: Target, endpoint: str, response: httpx.Response) -> RequestFailed:
    status = response.status_code
    cause = _cause(server, response)
    if status in (400, 401) and "/api/token/" in endpoint:
        hint = (
            "check the username and password (README.md lists the demo users); if they should "
            "exist, run prepare() — or python -m workbook setup — and try again"
        )
        return LoginFailed(endpoint, status, cause, hint)
    if "no such table" in cause:
        hint = (
            "the database is not migrated: run prepare() in the notebook (or python -m workbook "
            "setup in a terminal), then run this cell again"
        )
    elif status == 404:
        hint = "this stage has no such endpoint: the token endpoints exist at the jwt and chat stages"
    elif status >= 500:
        hint = "read the server's log: print(server.log_tail(30))"
    else:
        hint = "read the detail above"
    return RequestFailed(endpoint, status, cause, hint)


def _cause(server: Target, response: httpx.Response) -> str:
    """What the client can see of why: a JSON ``detail``, Django's error page, or the server log."""
    try:
        data = response.json()
        if isinstance(data, dict):
            return str(data.get("detail") or data)
    except ValueError:
        pass
    # Django's debug error page: "<ExceptionType> at /path" and the exception's message.
    title = re.search(r"<title>(.*?)</title>", response.text, re.S)
    value = re.search(r'<pre class="exception_value">(.*?)</pre>', response.text, re.S)
    if title and value:
        return html.unescape(f"{title.group(1).split(' at ')[0].strip()}: {value.group(1).strip()}")
    logged = _last_error_in_log(server)
    return logged or _first_line(response.text) or response.reason_phrase


def _last_error_in_log(server: Target) -> str | None:
    log_tail = getattr(server, "log_tail", None)
    if log_tail is None:
        return None
    errors = [line.strip() for line in log_tail(40).splitlines() if re.match(r"\s*[\w.]+(Error|Exception): ", line)]
    return errors[-1] if errors else None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def get_tokens(server: Target, username: str, password: str) -> Tokens:
    """Log in at ``/api/token/`` and return the access and refresh tokens."""
    data = post_json(server, "/api/token/", {"username": username, "password": password})
    return Tokens(access=data["access"], refresh=data["refresh"])


def refresh_access_token(server: Target, refresh: str) -> str:
    """Trade a refresh token for a new access token at ``/api/token/refresh/``."""
    return str(post_json(server, "/api/token/refresh/", {"refresh": refresh})["access"])


class Transcript:
    """A record of a conversation: who sent what, who received what, who was closed."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, str, str, str]] = []
        self._start = time.monotonic()

    def add(self, who: str, event: str, detail: str) -> None:
        self.rows.append((time.monotonic() - self._start, who, event, detail))

    def clear(self) -> None:
        self.rows.clear()
        self._start = time.monotonic()

    def events(self, who: str | None = None) -> list[tuple[str, str]]:
        """``(event, detail)`` pairs, optionally for one client: handy in assertions."""
        return [(event, detail) for _, name, event, detail in self.rows if who in (None, name)]

    def __str__(self) -> str:
        width = max((len(who) for _, who, _, _ in self.rows), default=6)
        return "\n".join(
            f"{seconds * 1000:8.1f} ms  {who:<{width}}  {event:<9} {detail}"
            for seconds, who, event, detail in self.rows
        )

    def __repr__(self) -> str:
        return str(self) or "(empty transcript)"

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:right'>{seconds * 1000:.1f} ms</td>"
            f"<td>{html.escape(who)}</td><td>{html.escape(event)}</td>"
            f"<td style='text-align:left'><code>{html.escape(detail)}</code></td></tr>"
            for seconds, who, event, detail in self.rows
        )
        return (
            "<table><thead><tr><th>time</th><th>client</th><th>event</th>"
            f"<th style='text-align:left'>frame</th></tr></thead><tbody>{cells}</tbody></table>"
        )


def readable_frame(data: str | bytes) -> str:
    """A frame as a person wants to read it: JSON with its emoji, long frames cut short."""
    if isinstance(data, bytes):
        return f"<{len(data)} binary bytes>"
    try:
        decoded = json.loads(data)
        if isinstance(decoded, dict) and "token" in decoded:
            decoded = {**decoded, "token": "…"}  # a transcript is shown and shared: no secrets
        readable = json.dumps(decoded, ensure_ascii=False)
        readable.encode("utf-8")  # a lone surrogate cannot be shown: keep the escaped form
        data = readable
    except (ValueError, RecursionError, UnicodeEncodeError):
        pass
    return data if len(data) <= 200 else data[:200] + f"… ({len(data)} characters)"


class Client:
    """One websocket connection with a name, recording everything in a transcript."""

    def __init__(self, name: str, websocket: ClientConnection, transcript: Transcript) -> None:
        self.name = name
        self.websocket = websocket
        self.transcript = transcript
        self._close_recorded = False

    @classmethod
    async def connect(
        cls,
        server: Target,
        name: str = "client",
        *,
        token: str | None = None,
        path: str = "ws/chat/",
        origin: OriginChoice = SERVER_ORIGIN,
        transcript: Transcript | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> "Client":
        """Open a websocket to ``server``. ``origin=None`` sends no Origin header."""
        transcript = transcript if transcript is not None else Transcript()
        base = server if isinstance(server, str) else server.http_url
        url = base.replace("http", "ws", 1) + "/" + path.lstrip("/")
        if token is not None:
            url += ("&" if "?" in url else "?") + "token=" + token
        if origin is SERVER_ORIGIN:
            origin = base
        shown_url = url.split("?")[0] + ("?token=…" if token is not None else "")
        try:
            websocket = await ws_connect(
                url, origin=None if origin is None else Origin(origin), open_timeout=timeout, **options
            )
        except websockets.InvalidStatus as refused:
            status = refused.response.status_code
            transcript.add(name, "refused", f"HTTP {status} at the handshake ({shown_url})")
            raise HandshakeRefused(status, shown_url) from None
        transcript.add(name, "connected", shown_url)
        return cls(name, websocket, transcript)

    async def send(self, message: object = None, *, raw: str | bytes | None = None) -> None:
        """Send ``{"message": message}``, a dict as JSON, or ``raw`` text/bytes as they are."""
        if raw is not None:
            frame = raw
        elif isinstance(message, dict):
            frame = json.dumps(message)
        else:
            frame = json.dumps({"message": message})
        self.transcript.add(self.name, "sent", readable_frame(frame))
        try:
            await self.websocket.send(frame)
        except websockets.ConnectionClosed:
            raise self._closed() from None

    async def receive(self, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """The next frame, decoded from JSON when it is JSON. Waits at most ``timeout`` s."""
        try:
            frame = await asyncio.wait_for(self.websocket.recv(), timeout)
        except TimeoutError:
            raise NothingReceived(
                f"{self.name} received nothing within {timeout} s; the server only answers "
                f"when there is something to say (did you send a message?)"
            ) from None
        except websockets.ConnectionClosed:
            raise self._closed() from None
        self.transcript.add(self.name, "received", readable_frame(frame))
        try:
            return json.loads(frame)
        except (TypeError, ValueError):
            return frame

    async def receive_many(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Any]:
        """The next ``count`` frames, returned as soon as they are here (each waits at most ``timeout`` s)."""
        return [await self.receive(timeout) for _ in range(count)]

    async def receive_all(self, timeout: float = QUIET_SECONDS) -> list[Any]:
        """Every frame that arrives until ``timeout`` s pass in silence.

        Use it to show that nothing (more) arrives; when you know how many frames
        are coming, ``receive_many(n)`` returns the moment they are here.
        """
        frames = []
        while True:
            try:
                frames.append(await self.receive(timeout))
            except NothingReceived:
                return frames

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, str]:
        """Wait until the server closes the socket; return ``(code, reason)``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NothingReceived(f"the server did not close {self.name}'s socket in {timeout} s")
            try:
                await self.receive(remaining)
            except SocketClosed as closed:
                return closed.code, closed.reason

    async def close(self, code: int = 1000) -> None:
        if self.websocket.state is websockets.State.CLOSED:
            return
        await self.websocket.close(code)
        self._close_recorded = True
        self.transcript.add(self.name, "closed", f"by the client (code {code})")

    def _closed(self) -> SocketClosed:
        code, reason = self.websocket.close_code, self.websocket.close_reason or ""
        if code == 1006:
            reason = reason or "connection dropped without a close frame"
        if not self._close_recorded:
            self._close_recorded = True
            detail = f"code {code}" + (f": {reason}" if reason else "")
            self.transcript.add(self.name, "closed", detail)
        return SocketClosed(code, reason)

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
