"""Two baselines for the echo benchmark, each served by daphne like the workbook's own consumer:

- ``bare_asgi_echo``: a plain ASGI application, no Channels at all: what daphne costs;
- ``minimal_consumer_echo``: the smallest Channels ``AsyncWebsocketConsumer``, no routing,
  no Origin check, no frame checks: what Channels itself costs.

Both do the same JSON work as the stage-1 consumer (``{"message": "You said: ..."}``), so
the table can show what Channels costs and what the workbook adds on top.

    start_server("echo", application="workbook.bench.echo_apps:bare_asgi_echo")
"""

import json
from typing import Any

import django

django.setup()  # the Channels consumer reads CHANNEL_LAYERS; daphne's environment names the settings

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402


def reply_to(text: str) -> str:
    return json.dumps({"message": f"You said: {json.loads(text)['message']}"})


async def bare_asgi_echo(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps({"message": "WebSocket connected"})})
        elif event["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": reply_to(event["text"])})
        elif event["type"] == "websocket.disconnect":
            return


class MinimalEchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=json.dumps({"message": "WebSocket connected"}))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=reply_to(text_data or ""))


minimal_consumer_echo = MinimalEchoConsumer.as_asgi()
