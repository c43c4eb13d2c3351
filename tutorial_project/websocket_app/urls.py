from django.http import HttpResponse
from django.urls import path

from .views import TestPageView


def no_favicon(request):
    """Browsers ask every site for /favicon.ico; answer "nothing here" without a 404 in the log."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "max-age=86400"
    return response


urlpatterns = [
    path("test-ws/", TestPageView.as_view(), name="test_ws"),
    path("favicon.ico", no_favicon),
]
