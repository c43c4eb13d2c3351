"""Settings for the workshop board: the tutorial project's, narrowed to what the board needs.

The board is a separate daphne process with its own entry point (``workshop.asgi``),
its own URLs and its own SQLite file, so running a workshop never touches the
tutorial's database. Set by ``python -m workbook board``:

- ``WORKBOOK_BOARD_CODE``   the workshop code attendees join with (e.g. ``KITE-4821``)
- ``WORKBOOK_BOARD_KEY``    the instructor's key for the page, its websocket and the JSON
- ``WORKBOOK_BOARD_DB``     the SQLite file (default ``.workbook/board.sqlite3``)
- ``WORKBOOK_BOARD_HOSTS``  extra host names attendees use to reach the board (comma-separated)
"""

import os
from pathlib import Path

from websocket_project.settings import *  # noqa: F401,F403  (secret key, hosts, channel layers)
from websocket_project.settings import ALLOWED_HOSTS, CHANNEL_LAYERS, DATA_DIR

# Attendees on the network reach this server: no debug pages with tracebacks for them.
DEBUG = os.environ.get("WORKBOOK_BOARD_DEBUG") == "1"

WORKBOOK_BOARD_CODE = os.environ.get("WORKBOOK_BOARD_CODE", "")
WORKBOOK_BOARD_KEY = os.environ.get("WORKBOOK_BOARD_KEY", "")

# The Origin check (AllowedHostsOriginValidator) reads this list too.
ALLOWED_HOSTS = ALLOWED_HOSTS + [host for host in os.environ.get("WORKBOOK_BOARD_HOSTS", "").split(",") if host]

INSTALLED_APPS = ["daphne", "channels", "workshop"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "workshop.urls"
ASGI_APPLICATION = "workshop.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(os.environ.get("WORKBOOK_BOARD_DB") or DATA_DIR / "board.sqlite3"),
        # Two board processes may share the file: WAL lets readers go on while one writes;
        # IMMEDIATE takes the write lock up front, so a writer waits its turn instead of
        # failing with "database is locked" halfway through a transaction.
        # synchronous=OFF: no fsync. A WAL checkpoint's fsync stalled every report for
        # ~0.8 s on the test machine; what OFF risks is a board's data after a power cut
        # or an OS crash, never after the board (or daphne) crashes or is stopped.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF",
        },
        # Keep the connection: Channels closes "obsolete" ones around every database call,
        # and reopening SQLite for each report would cost more than the report itself.
        "CONN_MAX_AGE": None,
    }
}

# A class reporting at once may put hundreds of outcomes in flight to one instructor
# page; at the default capacity (100) the layer would silently drop the rest.
for _layer in CHANNEL_LAYERS.values():
    _layer.setdefault("CONFIG", {})["capacity"] = 2000

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
