"""Why was my connection refused? One handshake, the answer, and the server's log.

    diagnosis = await why_refused(server, "ws/chat/", token=tokens.access)
    diagnosis.cause      # e.g. ORIGIN_NOT_ALLOWED
    diagnosis            # cause, evidence, fix (a table in a notebook)

Most refusals look alike from the client: "HTTP 403", "HTTP 404", a close code.
daphne's log is no better: an Origin refusal is one ``WSREJECT`` line with no reason
(channels #2062). The helper tells them apart from what the handshake answered,
the ``Server`` header, a second handshake with the server's own Origin, the close
code and error frame (``websocket_app/protocol.py``), and what the log gained
during the attempt.
"""

import asyncio
import html
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import connect
from websockets.typing import Origin

from .client import SERVER_ORIGIN, OriginChoice, Target  # "send the Origin a page served by that server would send"
from .paths import PROJECT_DIR

if str(PROJECT_DIR) not in sys.path:  # protocol.py is plain Python: no Django set-up needed
    sys.path.insert(0, str(PROJECT_DIR))
from websocket_app.protocol import CLOSE_CODES, UNAUTHENTICATED  # noqa: E402

#: How long an accepted socket is watched: daphne notices a crashed application only at its
#: next once-a-second check, so anything shorter could call a crash "not refused".
SETTLE_SECONDS = 1.5
LOG_WAIT_SECONDS = 1.0  #: at most, for the server's last log line of a refused handshake

# The causes, as the helper names them.
NOTHING_LISTENING = "nothing is listening"
ORIGIN_NOT_ALLOWED = "origin not allowed"
CLOSED_BEFORE_ACCEPT = "consumer closed before accept"
NO_ROUTE = "no route"
NOT_AN_ASGI_SERVER = "not a websocket server"
UPGRADE_HEADERS_LOST = "upgrade headers lost on the way"
CRASHED_BEFORE_ACCEPT = "the application crashed before accept"
CRASHED_AFTER_ACCEPT = "the consumer crashed after accept"
BAD_TOKEN = "bad token"
REFUSED_WITH_CODE = "refused with a close code"
NOT_REFUSED = "not refused"


@dataclass
class Diagnosis:
    cause: str
    fix: str
    evidence: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"cause:    {self.cause}"] + [f"evidence: {item}" for item in self.evidence]
        return "\n".join(lines + [f"fix:      {self.fix}"])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [("cause", f"<b>{html.escape(self.cause)}</b>")]
        rows += [("evidence", f"<code>{html.escape(item)}</code>") for item in self.evidence]
        rows += [("fix", html.escape(self.fix))]
        body = "".join(
            f"<tr><th style='text-align:left'>{name}</th><td style='text-align:left'>{value}</td></tr>"
            for name, value in rows
        )
        return f"<table>{body}</table>"


@dataclass
class Attempt:
    """What one handshake got: an HTTP refusal, or an open socket and what it said."""

    status: int | None = None  # the HTTP status of a refused handshake
    server_header: str = ""
    frames: list[str | bytes] = field(default_factory=list)
    close_code: int | None = None
    error: str = ""  # the connection itself failed (nothing listening...)


async def attempt(ws_url: str, origin: str | None, settle: float = SETTLE_SECONDS) -> Attempt:
    """One handshake; if it is accepted, listen for ``settle`` s or until the server closes.

    ``settle=0`` only asks "accepted or not?" and closes at once.
    """
    try:
        websocket = await connect(ws_url, origin=None if origin is None else Origin(origin), open_timeout=5)
    except websockets.InvalidStatus as refused:
        return Attempt(status=refused.response.status_code, server_header=refused.response.headers.get("Server", ""))
    except (OSError, TimeoutError) as error:
        return Attempt(error=f"{type(error).__name__}: {error}")
    result = Attempt(status=101)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle
    try:
        while (remaining := deadline - loop.time()) > 0:
            result.frames.append(await asyncio.wait_for(websocket.recv(), remaining))
    except TimeoutError:
        pass
    except websockets.ConnectionClosed:
        result.close_code = websocket.close_code
    finally:
        await websocket.close()  # a no-op when the server closed it already
    return result


async def wait_for_log_end(
    read_log: Callable[[], str], start: int, path: str, timeout: float = LOG_WAIT_SECONDS
) -> None:
    """Return once the log (after ``start``) has the line that ends this handshake.

    The server writes it *after* the client got its answer: daphne's ``WSDISCONNECT
    /path`` or an HTTP access line ``"GET /path…" 404`` (daphne and runserver alike).
    Waiting for that line, not for a fixed time, costs a few milliseconds. A log that
    never gets it (a target without a log) costs ``timeout``, at most.
    """
    last_line = re.compile(rf'"(?:WSDISCONNECT {re.escape(path)}"|GET {re.escape(path)}[^"]*" \d{{3}})')
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not last_line.search(read_log()[start:]) and loop.time() < deadline:
        await asyncio.sleep(0.005)


def log_lines_since(log: str, start: int) -> list[str]:
    return log[start:].splitlines()


def exception_in(lines: list[str]) -> str:
    """The last ``SomeError: message`` line of a traceback in the log, or ''."""
    found = ""
    for line in lines:
        if re.match(r"^[\w.]+(Error|Exception|NotReady|Operation)\b.*: ", line):
            found = line
        elif "Exception inside application:" in line:
            found = found or line.split("Exception inside application:", 1)[1].strip()
    return found


def _ws_url(target: Target, path: str) -> tuple[str, str]:
    base = target if isinstance(target, str) else target.http_url
    return base.replace("http", "ws", 1).rstrip("/") + "/" + path.lstrip("/"), base.rstrip("/")


async def why_refused(
    target: Target,
    path: str = "ws/chat/",
    *,
    token: str | None = None,
    origin: OriginChoice = SERVER_ORIGIN,
    log: Callable[[], str] | None = None,
) -> Diagnosis:
    """Connect to ``target`` (a server, a proxy, or ``"http://host:port"``) and say why it
    refused, if it did. ``log`` (a callable returning the server's log so far) defaults to
    ``target.log`` when the target has one."""
    ws_url, own_origin = _ws_url(target, path)
    if token is not None:
        ws_url += ("&" if "?" in ws_url else "?") + f"token={token}"
    origin = own_origin if origin is SERVER_ORIGIN else origin
    read_log = log or getattr(target, "log", None)
    start = len(read_log()) if read_log else 0
    first = await attempt(ws_url, origin)
    if read_log and first.status is not None and first.status >= 400:
        await wait_for_log_end(read_log, start, urlsplit(ws_url).path)
    lines = log_lines_since(read_log(), start) if read_log else []
    shown = urlsplit(ws_url)._replace(query="token=…" if token else "").geturl()
    evidence = [f"handshake to {shown} with Origin {origin!r}: " + _answer(first)]
    evidence += [line.strip() for line in lines if _worth_showing(line)][:4]

    if first.error:
        return Diagnosis(NOTHING_LISTENING, "start the server, or check the host and port", evidence)
    if first.status == 403:
        return await _forbidden(ws_url, origin, own_origin, evidence)
    if first.status == 404:
        if first.server_header.startswith("WSGIServer"):
            return Diagnosis(
                NOT_AN_ASGI_SERVER,
                "runserver is Django's WSGI server: put 'daphne' first in INSTALLED_APPS "
                "(before django.contrib.staticfiles), or run daphne",
                evidence,
            )
        return Diagnosis(
            UPGRADE_HEADERS_LOST,
            "an ASGI server answered the handshake as plain HTTP: the Upgrade and Connection "
            "headers did not arrive. Behind nginx: proxy_http_version 1.1; "
            'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";',
            evidence,
        )
    if first.status is not None and first.status >= 500:
        problem = exception_in(lines)
        if "No route found for path" in problem:
            return Diagnosis(
                NO_ROUTE,
                "add the path to websocket_urlpatterns in routing.py (patterns have no leading slash)",
                evidence,
            )
        return Diagnosis(CRASHED_BEFORE_ACCEPT, f"fix the exception in the log: {problem or '?'}", evidence)
    if first.status is not None and first.status >= 400:
        return Diagnosis(f"HTTP {first.status}", "read the server's log", evidence)
    return _after_accept(first, lines, evidence)


async def _forbidden(ws_url: str, origin: str | None, own_origin: str, evidence: list[str]) -> Diagnosis:
    """403: the Origin check, or a consumer that closed before accept(). Ask again with
    the server's own Origin to tell them apart: daphne logs both as WSREJECT."""
    if origin != own_origin:
        second = await attempt(ws_url, own_origin, settle=0)  # only the status counts
        evidence.append(f"same handshake with Origin {own_origin!r}: {_answer(second)}")
        if second.status != 403:
            return Diagnosis(
                ORIGIN_NOT_ALLOWED,
                "AllowedHostsOriginValidator accepts only Origins whose host is in ALLOWED_HOSTS "
                "(and refuses a missing Origin): add the page's host to ALLOWED_HOSTS, "
                "or send the Origin of the page the server serves",
                evidence,
            )
    return Diagnosis(
        CLOSED_BEFORE_ACCEPT,
        "daphne turns close() before accept() into HTTP 403 and the code is lost: "
        "accept() first, send an error frame, then close(code=4xxx)",
        evidence,
    )


def _after_accept(first: Attempt, lines: list[str], evidence: list[str]) -> Diagnosis:
    errors = []
    for frame in first.frames:
        try:
            decoded = json.loads(frame)
        except (TypeError, ValueError):
            continue
        if isinstance(decoded, dict) and "error" in decoded:
            errors.append(decoded)
    if errors:
        evidence.append(f"error frame: {errors[-1]}")
    code = first.close_code
    if code == UNAUTHENTICATED:
        return Diagnosis(
            BAD_TOKEN,
            "connect with ?token=<a valid *access* token>: log in again or refresh at /api/token/refresh/",
            evidence,
        )
    if code in CLOSE_CODES:
        error, meaning = CLOSE_CODES[code]
        return Diagnosis(f"{REFUSED_WITH_CODE} {code} ({error})", meaning, evidence)
    if code == 1011:
        problem = exception_in(lines)
        return Diagnosis(CRASHED_AFTER_ACCEPT, f"fix the exception in the log: {problem or '?'}", evidence)
    if code is None:
        return Diagnosis(NOT_REFUSED, "the socket opened and stayed open", evidence)
    return Diagnosis(f"closed with code {code}", "read the server's log", evidence)


def _answer(result: Attempt) -> str:
    if result.error:
        return result.error
    if result.status != 101:
        server = f" (Server: {result.server_header})" if result.server_header else ""
        return f"HTTP {result.status}{server}"
    said = f", {len(result.frames)} frame(s)" if result.frames else ""
    closed = f", then closed with {result.close_code}" if result.close_code else ", still open"
    return f"accepted (101){said}{closed}"


def _worth_showing(line: str) -> bool:
    """The log lines that say something: access-log lines and exception lines."""
    line = line.strip()
    return bool(
        re.search(r'"(WS\w+|GET|POST) ', line)
        or "Not Found:" in line
        or "Exception inside application" in line
        or re.match(r"^[\w.]+(Error|Exception|NotReady|Operation)\b.*: ", line)
    )
