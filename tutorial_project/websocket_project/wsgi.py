"""WSGI entry point (HTTP only; websockets need asgi.py and daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
application = get_wsgi_application()
