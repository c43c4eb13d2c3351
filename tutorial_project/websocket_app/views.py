from django.conf import settings
from django.views.generic import TemplateView


class TestPageView(TemplateView):
    """The browser test page at /test-ws/; it connects back to the server that served it."""

    template_name = "test.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["stage"] = settings.WORKBOOK_STAGE
        return context
