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
        # TODO: decode the frame, dispatch on its "type" and answer every frame,
        # good or bad, as the docstring at the top says. (self.send_json and
        # self.send_error below are ready to use.)
        pass

    async def send_json(self, data):
        await self.send(text_data=json.dumps(data))

    async def send_error(self, code, detail):
        await self.send_json({"error": code, "detail": detail})
