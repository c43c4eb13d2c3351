"""A test socket for the checker: every step says what it was doing, so a failure reads
"after sending {...}: expected {...}, got {...}" instead of a traceback."""

import asyncio
import json
from pathlib import Path
from typing import Any

from channels.testing import WebsocketCommunicator

from .loading import ASGIApp
from .outcome import LearnerCodeError, Unmet, describe

REPLY_SECONDS = 2.0
ORIGIN_HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
STANDARD_CLOSE_CODES = {
    1000: "normal",
    1001: "going away",
    1005: "no code given",
    1006: "connection lost, no close frame",
    1011: "an internal server error",
}


def close_words(code: int | None) -> str:
    """A close code with its meaning, e.g. ``1000 (normal)``; the 4xxx names come from protocol.py."""
    from websocket_app.protocol import CLOSE_CODES

    if code is None:
        code = 1000  # close() without a code: daphne sends 1000
    if code in CLOSE_CODES:
        return f"{code} ({CLOSE_CODES[code][0]})"
    return f"{code} ({STANDARD_CLOSE_CODES.get(code, 'a code of your own')})"


class CheckedSocket:
    def __init__(self, application: ASGIApp, path: str, learner_file: Path, name: str = "client") -> None:
        self.communicator = WebsocketCommunicator(application, path, headers=ORIGIN_HEADERS)
        self.learner_file = learner_file
        self.name = name
        self.last_frame_step: str | None = None  # the step whose answer was the last frame received

    async def _next_output(self, step: str, timeout: float = REPLY_SECONDS) -> dict[str, Any] | None:
        """The application's next ASGI message, or None if it sends nothing in time.

        If the learner's code raises meanwhile, that is reported at once, as theirs.
        """
        communicator = self.communicator
        if communicator.output_queue.empty() and not communicator.future.done():
            getter = asyncio.create_task(communicator.output_queue.get())
            await asyncio.wait({getter, communicator.future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                return getter.result()
            getter.cancel()
        if not communicator.output_queue.empty():
            return communicator.output_queue.get_nowait()
        if communicator.future.done() and not communicator.future.cancelled():
            error = communicator.future.exception()
            if error is not None:
                raise LearnerCodeError.from_exception(error, self.learner_file, step) from error
        return None

    def _closed(self, output: dict[str, Any]) -> str:
        """How a close reads in a failure: with its meaning, and when it came."""
        text = f"the socket closed with {close_words(output.get('code'))}"
        if self.last_frame_step:
            text += f" right after answering {self.last_frame_step}"
        return text

    async def connect(self, step: str) -> None:
        try:
            accepted, code = await self.communicator.connect(REPLY_SECONDS)
        except TimeoutError:
            raise Unmet(step, "the socket to be accepted", "no answer within 2 s") from None
        except Exception as error:
            raise LearnerCodeError.from_exception(error, self.learner_file, step) from error
        if not accepted:
            raise Unmet(
                step,
                "the socket to be accepted",
                f"a refusal (close code {close_words(code)})",
                "accept() first; to refuse someone, accept() then close(code=...)",
            )

    async def receive(self, step: str, expected: str, silence_advice: str = "") -> Any:
        """The next frame, decoded from JSON. ``expected`` is only for the failure message."""
        output = await self._next_output(step)
        if output is None:
            raise Unmet(
                step,
                expected,
                "nothing within 2 s",
                silence_advice
                or "every frame needs exactly one answer: does this branch "
                "send one? (code that waits forever looks the same)",
            )
        if output["type"] == "websocket.close":
            raise Unmet(step, expected, self._closed(output))
        text = output.get("text")
        if text is None:
            raise Unmet(step, expected, "a binary frame", "send text: self.send(text_data=...)")
        try:
            frame = json.loads(text)
        except ValueError:
            raise Unmet(step, expected, f"text that is not JSON: {text[:80]!r}", "send json.dumps(...)") from None
        self.last_frame_step = step
        return frame

    async def expect(self, expected: dict[str, Any], step: str, advice: str = "") -> None:
        frame = await self.receive(step, describe(expected), advice)
        if frame != expected:
            raise Unmet(step, describe(expected), describe(frame), advice)

    async def expect_error(self, step: str, code: str | None = None, advice: str = "") -> dict[str, Any]:
        wanted = f'an error frame {{"error": "{code or "..."}", ...}}'
        frame = await self.receive(step, wanted, advice)
        if not isinstance(frame, dict) or not isinstance(frame.get("error"), str):
            raise Unmet(step, wanted, describe(frame), advice)
        if code is not None and frame["error"] != code:
            raise Unmet(step, wanted, describe(frame), advice)
        return frame

    async def expect_still_open(self, step: str) -> None:
        """Nothing more after an answer: in particular no close."""
        output = await self._next_output(step, timeout=0.05)
        if output is None:
            return
        if output["type"] == "websocket.close":
            raise Unmet(
                step,
                "the socket to stay open",
                f"the socket closed with {close_words(output.get('code'))} right after that answer",
                "send the error frame and keep the connection: do not close()",
            )
        raise Unmet(
            step, "one frame only", f"a second frame {describe(output.get('text'))}", "answer each frame exactly once"
        )

    async def expect_close(self, code: int, step: str) -> None:
        wanted = f"the socket to close with {close_words(code)}"
        output = await self._next_output(step)
        if output is None:
            raise Unmet(step, wanted, "the socket still open after 2 s")
        if output["type"] != "websocket.close":
            raise Unmet(step, wanted, f"the frame {output.get('text', output.get('bytes'))!r}")
        if output.get("code") != code:
            raise Unmet(
                step,
                wanted,
                f"close code {close_words(output.get('code'))}",
                "use the constant from websocket_app.protocol",
            )

    async def expect_nothing(self, step: str, why: str, advice: str = "") -> None:
        output = await self._next_output(step, timeout=0.3)
        if output is None:
            return
        if output["type"] == "websocket.close":
            raise Unmet(step, f"nothing ({why})", self._closed(output), advice)
        try:
            got = describe(json.loads(output.get("text") or ""))
        except ValueError:
            got = describe(output.get("text", output.get("bytes")))
        raise Unmet(step, f"nothing ({why})", got, advice)

    async def send(self, frame: dict[str, Any] | list[Any] | str | bytes, step: str = "") -> None:
        if isinstance(frame, bytes):
            await self.communicator.send_to(bytes_data=frame)
        elif isinstance(frame, str):
            await self.communicator.send_to(text_data=frame)
        else:
            await self.communicator.send_json_to(frame)

    async def disconnect(self, step: str) -> None:
        try:
            await self.communicator.disconnect(timeout=REPLY_SECONDS)
        except TimeoutError:
            raise Unmet(step, "disconnect() to finish", "it still ran after 2 s") from None
        except Exception as error:
            raise LearnerCodeError.from_exception(error, self.learner_file, step) from error
