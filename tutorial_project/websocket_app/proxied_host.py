"""Accept the JupyterHub's public host name, learned from requests its proxy forwards.

On a hub the browser reaches this server as ``https://hub.example.org/user/alice/proxy/8000/``.
jupyter-server-proxy passes the browser's ``Host`` header through, so Django sees the hub's
name, which is in no setting (hubs often leave ``public_url`` unset) and would answer
``DisallowedHost``. The proxy marks each HTTP request it forwards with
``X-Forwarded-Context: /user/alice/proxy/8000``; only the hub-authenticated user can send
requests through it, and the server itself listens on the loopback interface only.

So, under a hub (``JUPYTERHUB_SERVICE_PREFIX`` is set), a request carrying this server's own
proxy path adds its host to ``ALLOWED_HOSTS`` — the hub's own host, not every host. The
websocket Origin check (``AllowedHostsOriginValidator``) reads the same list, so the test
page served through the proxy may open its socket, and a page of any other site still may not.
"""

import logging

from django.conf import settings
from django.http.request import split_domain_port

logger = logging.getLogger(__name__)


def expected_context(port: str) -> str | None:
    """The ``X-Forwarded-Context`` jupyter-server-proxy sends for this server, or None off a hub."""
    prefix = settings.WORKBOOK_JUPYTERHUB_PREFIX
    if not prefix:
        return None
    return prefix.rstrip("/") + f"/proxy/{port}"


class ProxiedHostMiddleware:
    """Must come first in MIDDLEWARE: later middleware validates the host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = request.META.get("HTTP_X_FORWARDED_CONTEXT")
        if context and context == expected_context(request.META.get("SERVER_PORT", "")):
            domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
            if domain and domain not in settings.ALLOWED_HOSTS:
                # The same list object the websocket Origin check was built with.
                settings.ALLOWED_HOSTS.append(domain)
                logger.warning("Accepting host %r: it came through JupyterHub's proxy (%s/)", domain, context)
        return self.get_response(request)
