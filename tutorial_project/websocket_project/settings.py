"""Settings for the tutorial project.

Everything a learner may want to change comes from environment variables, so the
same project serves every stage of the workbook:

- ``WORKBOOK_STAGE``          which consumer answers at ``ws/chat/``: echo, jwt or chat
- ``WORKBOOK_CHANNEL_LAYER``  memory (default), redis or redis-pubsub
- ``WORKBOOK_REDIS_URL``      the Redis server for the redis layers
- ``WORKBOOK_DATA_DIR``       where the SQLite database and the dev secret key live
- ``DJANGO_SECRET_KEY``       a real secret (otherwise one is generated per checkout)
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.utils.log import DEFAULT_LOGGING

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
# Git-ignored: the database and the generated key never end up in a commit.
DATA_DIR = Path(os.environ.get("WORKBOOK_DATA_DIR") or REPO_DIR / ".workbook")


def _dev_secret_key(data_dir: Path) -> str:
    """Read this checkout's dev key, creating it on first use (never committed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    try:
        # O_EXCL: two processes starting at once cannot both write a key.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip() or _dev_secret_key_race(key_file)
    with os.fdopen(fd, "w") as handle:
        key = secrets.token_urlsafe(50)
        handle.write(key)
    return key


def _dev_secret_key_race(key_file: Path) -> str:
    """The other process created the file but has not written it yet: wait briefly."""
    import time

    for _ in range(50):
        time.sleep(0.02)
        key = key_file.read_text().strip()
        if key:
            return key
    raise RuntimeError(f"{key_file} exists but is empty; delete it and start again")


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _dev_secret_key(DATA_DIR)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"


def _jupyterhub_hosts() -> list:
    """Under JupyterHub the test page is reached through the hub's public address."""
    from urllib.parse import urlsplit

    urls = (os.environ.get("JUPYTERHUB_PUBLIC_URL"), os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL"))
    return [urlsplit(url).hostname for url in urls if url and urlsplit(url).hostname]


# The Origin check for websockets (AllowedHostsOriginValidator) uses this list too.
ALLOWED_HOSTS = (
    ["127.0.0.1", "localhost", "[::1]"]
    + _jupyterhub_hosts()
    + [host for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host]
)

# Under JupyterHub (and Binder) the browser reaches this server through the hub's proxy, by the
# hub's public name; websocket_app/proxied_host.py accepts that name, learned from the proxy.
WORKBOOK_JUPYTERHUB_PREFIX = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")

# Pages allowed to show /test-ws/ in an iframe (JupyterLab on any local port).
WORKBOOK_FRAME_ANCESTORS = os.environ.get("WORKBOOK_FRAME_ANCESTORS", "http://localhost:* http://127.0.0.1:*")

INSTALLED_APPS = [
    "daphne",  # first: its runserver command replaces Django's, serving ASGI
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework_simplejwt",
    "websocket_app",
]

MIDDLEWARE = [
    "websocket_app.proxied_host.ProxiedHostMiddleware",  # first: the others validate the host
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "websocket_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "websocket_project.wsgi.application"
ASGI_APPLICATION = "websocket_project.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        # Several daphne processes may share the file: wait for a lock instead of failing.
        "OPTIONS": {"timeout": 20},
    }
}

if os.environ.get("WORKBOOK_FAST_PASSWORD_HASHER") == "1":
    # Tests only: the default hasher costs ~0.6 s per login on purpose.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Setup 2: JWT ---------------------------------------------------------------
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework_simplejwt.authentication.JWTAuthentication",)}
SIMPLE_JWT = {
    # simplejwt's defaults, written out so learners can see (and change) them.
    # WORKBOOK_ACCESS_TOKEN_SECONDS shortens access tokens for demos and tests.
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=int(os.environ.get("WORKBOOK_ACCESS_TOKEN_SECONDS", 300))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}

# --- Limits (defaults in websocket_app/protocol.py) ---------------------------------
# Messages per second per connection; 0 switches the limit off (benchmarks do).
WORKBOOK_RATE_LIMIT_PER_SECOND = os.environ.get("WORKBOOK_RATE_LIMIT_PER_SECOND")

# --- Which consumer answers at ws/chat/ -------------------------------------------
WORKBOOK_STAGE = os.environ.get("WORKBOOK_STAGE", "chat")

# --- Setup 3: channel layers ------------------------------------------------------
WORKBOOK_CHANNEL_LAYER = os.environ.get("WORKBOOK_CHANNEL_LAYER", "memory")
WORKBOOK_REDIS_URL = os.environ.get("WORKBOOK_REDIS_URL", "redis://127.0.0.1:6379/0")

_REDIS_BACKENDS = {
    "redis": "channels_redis.core.RedisChannelLayer",
    "redis-pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
if WORKBOOK_CHANNEL_LAYER == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif WORKBOOK_CHANNEL_LAYER in _REDIS_BACKENDS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _REDIS_BACKENDS[WORKBOOK_CHANNEL_LAYER],
            "CONFIG": {
                # redis-py 8 times reads out after 5 s, exactly channels_redis' blocking
                # wait for new messages: an idle consumer would die. Wait longer.
                "hosts": [{"address": WORKBOOK_REDIS_URL, "socket_timeout": 30}],
                # channels_redis' defaults, written out (notebook 04 explains them; the pub/sub
                # layer has no queues in Redis and ignores all three). capacity:
                # messages a server's queue may hold; a group_send to a full one is dropped for
                # that server's members (the chat consumer then tells the sender, overload.py).
                # expiry: seconds an undelivered message lives. group_expiry: seconds a
                # membership lives (a socket open longer silently leaves its group).
                "capacity": int(os.environ.get("WORKBOOK_LAYER_CAPACITY", 100)),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    raise ValueError(f"WORKBOOK_CHANNEL_LAYER={WORKBOOK_CHANNEL_LAYER!r}: use memory, redis or redis-pubsub")

# --- Logging ------------------------------------------------------------------------
# daphne prints every log record once, with a timestamp. Django's own console handler would
# print each of its warnings ("Unauthorized: /api/token/") a second time: drop it. Configuring
# "django" resets its children, so runserver's access log ("django.server") is restated as is.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"django.server": DEFAULT_LOGGING["formatters"]["django.server"]},
    "handlers": {"django.server": DEFAULT_LOGGING["handlers"]["django.server"]},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": DEFAULT_LOGGING["loggers"]["django.server"],
    },
}
