"""Exercise echo_types — echo with message types.

Write a consumer that reads JSON frames with a "type" and answers each one:

    {"type": "echo",  "message": "hi"}   ->  {"message": "hi"}
    {"type": "upper", "message": "hi"}   ->  {"message": "HI"}
    {"type": "ping"}                     ->  {"type": "pong"}

Anything else (not JSON, not an object, an unknown type, a missing or non-string
"message", a binary frame) gets an error frame {"error": "<code>", "detail": "..."},
and the connection stays open.

Check it:  python -m workbook check echo_types   (or check("echo_types") in a notebook)
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer


class TypedEchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send_json({"message": "WebSocket connected"})

    async def receive(self, text_data=None, bytes_data=None):
        data = self.decode(text_data)
        if data is None:
            await self.send_error("invalid_frame", 'send a JSON object like {"type": "ping"}')
            return
        kind = data.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in ("echo", "upper"):
            message = data.get("message")
            if not isinstance(message, str):
                await self.send_error("invalid_message", '"message" must be a string')
            elif kind == "upper":
                await self.send_json({"message": message.upper()})
            else:
                await self.send_json({"message": message})
        else:
            await self.send_error("unknown_type", '"type" must be echo, upper or ping')

    @staticmethod
    def decode(text_data):
        """The frame as a dict, or None when it is binary, not JSON or not an object."""
        if text_data is None:
            return None
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    async def send_json(self, data):
        await self.send(text_data=json.dumps(data))

    async def send_error(self, code, detail):
        await self.send_json({"error": code, "detail": detail})
