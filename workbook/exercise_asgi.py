"""The ASGI application daphne runs to try a learner's consumer for real.

The checker (and ``serve_exercise`` in the exercises notebook) start daphne with
``WORKBOOK_EXERCISE_FILE`` and ``WORKBOOK_EXERCISE_CONSUMER`` set; this module
serves that consumer at ``ws/chat/`` behind the same Origin check as the project.
"""

import os
from pathlib import Path

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from workbook.checker.loading import exercise_routes, learner_attribute, load_learner_module  # noqa: E402

_path = Path(os.environ["WORKBOOK_EXERCISE_FILE"])
consumer = learner_attribute(load_learner_module(_path), os.environ["WORKBOOK_EXERCISE_CONSUMER"], _path)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(exercise_routes(consumer))),
    }
)
