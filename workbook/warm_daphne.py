"""daphne, with the work of a fresh server's first seconds done before it listens.

    python -m workbook.warm_daphne [daphne's options] websocket_project.asgi:application

The same command line as ``python -m daphne`` and the same application; only the
start-up differs. A freshly started daphne used to pause once, ~50-200 ms, in its
first seconds, which a learner (and the benchmark's p99) saw as one slow message.
Measured: the cause is Python's garbage collector. Importing Django, Channels and
Twisted creates ~100 000 long-lived objects, and a *full* collection walks all of
them: two or three of those ran during start-up, and one more ran shortly after the
server reported ready, once the first connections had allocated a little. So here:

- the collector is off while daphne imports the application (nothing to collect
  there: imports create few cycles, and none worth 50 ms);
- what the first connections would import lazily is imported now: the channel
  layer (``channels_redis`` and msgpack for the Redis layers) and PyJWT;
- ``gc.freeze()`` then moves everything start-up created into the permanent
  generation, which no collection walks again (CPython's documented remedy), and the
  collector is switched back on before daphne listens. Later collections only walk
  what the running server allocates.
"""

import gc

gc.disable()  # before the imports below: the collector is switched on again in warm_up()

import logging  # noqa: E402
import re  # noqa: E402

from daphne import cli as daphne_cli  # noqa: E402
from daphne.access import AccessLogGenerator  # noqa: E402
from daphne.cli import CommandLineInterface  # noqa: E402

logger = logging.getLogger(__name__)


def import_what_first_requests_need() -> None:
    """Best effort: a project without these (or with a broken layer setting) fails
    where it always did, at the first request that needs them, not here."""
    from django.conf import settings

    try:
        from channels.layers import get_channel_layer

        get_channel_layer()  # builds the layer: imports its backend and serializer
    except Exception as error:  # noqa: BLE001 - reported at first use, as without warm-up
        logger.debug("warm-up: no channel layer (%s)", error)
    if "rest_framework_simplejwt" in settings.INSTALLED_APPS:
        import rest_framework_simplejwt.backends  # noqa: F401  (imports PyJWT)


def warm_up() -> None:
    import_what_first_requests_need()
    gc.freeze()  # whatever start-up created is never walked by a collection again
    gc.enable()


class RedactingAccessLog(AccessLogGenerator):
    """daphne's access log, without the values of secret query parameters.

    HTTP lines carry the whole URL (``GET /board/?key=…``); a log is shared and kept, a
    secret in it is a secret leaked. ``key=s3cret`` is written as ``key=…``.
    """

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):  # type: ignore[no-untyped-def]
        super().write_entry(host, date, redact_secrets(request), status, length, ident, user)


SECRET_PARAMETERS = ("key", "token", "ticket", "password", "refresh", "access")


def redact_secrets(request_line: str) -> str:
    return re.sub(rf"([?&](?:{'|'.join(SECRET_PARAMETERS)})=)[^&\s]*", r"\1…", request_line)


daphne_cli.AccessLogGenerator = RedactingAccessLog  # what daphne's CLI builds its access log with


class WarmCommandLineInterface(CommandLineInterface):
    def load_asgi_app(self, asgi_app_path: str) -> object:
        application = super().load_asgi_app(asgi_app_path)
        warm_up()
        return application


if __name__ == "__main__":
    WarmCommandLineInterface.entrypoint()
