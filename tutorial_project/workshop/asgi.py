"""ASGI entry point of the workshop board (``python -m workbook board`` runs it in daphne).

Its own entry point, URLs and database, next to the tutorial's ``websocket_project.asgi``:
the board shares the project's code and settings, never its routes or data.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workshop.settings")
django_asgi_app = get_asgi_application()  # first: routing imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from workshop.database import prepare_board_database  # noqa: E402
from workshop.routing import websocket_urlpatterns  # noqa: E402

prepare_board_database()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Pages of other sites (and clients without an Origin) get HTTP 403 at the handshake.
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
