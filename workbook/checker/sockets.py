"""A test socket for the checker: every step says what it was doing, so a failure reads
"after sending {...}: expected {...}, got {...}" instead of a traceback."""
import json
from pathlib import Path

from channels.testing import WebsocketCommunicator

from .outcome import LearnerCodeError, Unmet, describe

REPLY_SECONDS = 2.0
ORIGIN_HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


class CheckedSocket:
    def __init__(self, application, path: str, learner_file: Path, name: str = "client"):
        self.communicator = WebsocketCommunicator(application, path, headers=ORIGIN_HEADERS)
        self.learner_file = learner_file
        self.name = name

    async def _next_output(self, step: str, timeout: float = REPLY_SECONDS):
        """The application's next ASGI message, or None if it sends nothing in time."""
        try:
            return await self.communicator.receive_output(timeout)
        except TimeoutError:
            return None
        except Exception as error:
            raise LearnerCodeError.from_exception(error, self.learner_file, step) from error

    async def connect(self, step: str) -> None:
        try:
            accepted, code = await self.communicator.connect(REPLY_SECONDS)
        except TimeoutError:
            raise Unmet(step, "the socket to be accepted", "no answer within 2 s") from None
        except Exception as error:
            raise LearnerCodeError.from_exception(error, self.learner_file, step) from error
        if not accepted:
            raise Unmet(step, "the socket to be accepted", f"a refusal (close code {code})")

    async def receive(self, step: str, expected: str):
        """The next frame, decoded from JSON. ``expected`` is only for the failure message."""
        output = await self._next_output(step)
        if output is None:
            raise Unmet(step, expected, "nothing within 2 s",
                        "did your code send a frame? (a hang looks the same)")
        if output["type"] == "websocket.close":
            raise Unmet(step, expected, f"the socket closed (code {output.get('code')})")
        text = output.get("text")
        if text is None:
            raise Unmet(step, expected, "a binary frame", "send text: self.send(text_data=...)")
        try:
            return json.loads(text)
        except ValueError:
            raise Unmet(step, expected, f"text that is not JSON: {text[:80]!r}",
                        "send json.dumps(...)") from None

    async def expect(self, expected: dict, step: str) -> None:
        frame = await self.receive(step, describe(expected))
        if frame != expected:
            raise Unmet(step, describe(expected), describe(frame))

    async def expect_error(self, step: str, code: str | None = None) -> dict:
        wanted = f'an error frame {{"error": "{code or "..."}", ...}}'
        frame = await self.receive(step, wanted)
        if not isinstance(frame, dict) or not isinstance(frame.get("error"), str):
            raise Unmet(step, wanted, describe(frame))
        if code is not None and frame["error"] != code:
            raise Unmet(step, wanted, describe(frame))
        return frame

    async def expect_close(self, code: int, step: str) -> None:
        wanted = f"the socket to close with code {code}"
        output = await self._next_output(step)
        if output is None:
            raise Unmet(step, wanted, "the socket still open after 2 s")
        if output["type"] != "websocket.close":
            raise Unmet(step, wanted, f"the frame {output.get('text', output.get('bytes'))!r}")
        if output.get("code") != code:
            raise Unmet(step, wanted, f"close code {output.get('code')}")

    async def expect_nothing(self, step: str, why: str) -> None:
        try:
            quiet = await self.communicator.receive_nothing(timeout=0.3)
        except Exception as error:
            raise LearnerCodeError.from_exception(error, self.learner_file, step) from error
        if not quiet:
            frame = await self._next_output(step)
            raise Unmet(step, f"nothing ({why})", describe(frame.get("text") if frame else None))

    async def send(self, frame, step: str = "") -> None:
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
