"""Broken on purpose (notebook 07): websocket_project/asgi.py with one import moved up.

The order matters. Settings and ``get_asgi_application()`` come first, because
importing routing imports consumers, which import models: before Django is set
up that raises ``AppRegistryNotReady``.
"""

import os

from django.core.asgi import get_asgi_application

from websocket_app import routing  # moved up (an import sorter does this)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
django_asgi_app = get_asgi_application()

# Only now is it safe to import code that touches models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin check refuses handshakes from pages on other sites (and with no
        # Origin at all) with HTTP 403, before any consumer runs.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routing.websocket_urlpatterns))),
    }
)
