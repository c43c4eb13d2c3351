"""The real project's ASGI application plus the broken consumers of notebook 07.

``ws/chat/…`` answers exactly as the real chat stage does; the other routes each
run one mistake. Start with ``start_server("chat",
application="troubleshooting.asgi:application")``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from websocket_app.routing import websocket_urlpatterns_for  # noqa: E402

from . import consumers  # noqa: E402

ROOM = r"(?P<room_name>[^/]+)"
broken_urlpatterns = [
    re_path(r"^ws/orm/broken/$", consumers.OrmInAsyncConsumer.as_asgi()),
    re_path(r"^ws/orm/fixed/$", consumers.UserCountConsumer.as_asgi()),
    re_path(rf"^ws/unhandled-type/{ROOM}/$", consumers.UnhandledTypeChatConsumer.as_asgi()),
    re_path(rf"^ws/wrong-group/{ROOM}/$", consumers.WrongGroupChatConsumer.as_asgi()),
    re_path(r"^ws/closes-before-accept/$", consumers.ClosesBeforeAcceptConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns_for("chat") + broken_urlpatterns))
        ),
    }
)
