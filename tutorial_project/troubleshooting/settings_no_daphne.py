"""The real settings, with ``daphne`` missing from ``INSTALLED_APPS``.

Then ``manage.py runserver`` is Django's own WSGI server again: it cannot speak
websocket, so a handshake arrives as a plain HTTP GET and Django answers 404.
"""

from websocket_project.settings import *  # noqa: F401,F403
from websocket_project.settings import INSTALLED_APPS as _REAL_APPS

INSTALLED_APPS = [app for app in _REAL_APPS if app != "daphne"]
