import json

from django.conf import settings
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView


def page_protocol() -> dict:
    """The protocol constants the test page needs, from protocol.py (never retyped in JavaScript)."""
    from . import protocol

    return {
        "close_codes": {
            name: getattr(protocol, name)
            for name in ("BAD_ROOM", "UNAUTHENTICATED", "TOKEN_EXPIRED", "RATE_LIMITED", "LAYER_UNAVAILABLE")
        },
        "max_message_chars": protocol.MAX_MESSAGE_CHARS,
        # An HTML pattern is anchored already, and browsers compile it with the "v" flag,
        # where a "-" inside [...] must be escaped.
        "room_pattern": protocol.ROOM_NAME_PATTERN.pattern.removeprefix("^").removesuffix("$").replace("_-]", "_\\-]"),
    }


def json_for_script(data) -> str:
    """``data`` as a JavaScript literal, safe inside <script> (as Django's json_script escapes it)."""
    text = json.dumps(data).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return mark_safe(text)


@method_decorator(xframe_options_exempt, name="dispatch")
class TestPageView(TemplateView):
    """The browser test page at /test-ws/; it connects back to the server that served it.

    The notebooks embed it in an iframe, and JupyterLab runs on another port (another
    origin), so X-Frame-Options cannot allow it. A Content-Security-Policy names the
    local pages that may frame it instead; every other site is still refused.
    """

    template_name = "test.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["stage"] = settings.WORKBOOK_STAGE
        context["protocol"] = page_protocol()
        context["protocol_json"] = json_for_script(context["protocol"])
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = f"frame-ancestors 'self' {settings.WORKBOOK_FRAME_ANCESTORS}"
        return response
