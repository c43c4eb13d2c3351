from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView


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
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = f"frame-ancestors 'self' {settings.WORKBOOK_FRAME_ANCESTORS}"
        return response
