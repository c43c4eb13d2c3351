"""Small helpers shared by the tests."""
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

ORIGIN_HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def application_for(stage: str):
    """The websocket side of asgi.py for one stage, for in-process communicator tests."""
    from websocket_app.routing import websocket_urlpatterns_for

    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns_for(stage))))


def communicator(stage: str, path: str = "/ws/chat/", headers=ORIGIN_HEADERS):
    return WebsocketCommunicator(application_for(stage), path, headers=headers)
