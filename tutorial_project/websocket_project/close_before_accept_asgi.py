"""The classic first version's way of refusing a socket, kept to show why the workbook
does it differently.

The classic chat consumer calls ``close(code=1008)`` *before* ``accept()``. In daphne
that becomes a plain HTTP 403 to the handshake: a real client never sees 1008,
although ``WebsocketCommunicator`` reports it. Run with
``start_server(..., application="websocket_project.close_before_accept_asgi:application",
wait_for_handshake=False)``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402


class ClosesBeforeAcceptConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close(code=1008)  # as the classic version did: refused before accept()


websocket_application = AllowedHostsOriginValidator(
    URLRouter([re_path(r"^ws/chat/$", ClosesBeforeAcceptConsumer.as_asgi())])
)
application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
