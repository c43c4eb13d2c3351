from django.urls import path

from .views import TestPageView

urlpatterns = [
    path("test-ws/", TestPageView.as_view(), name="test_ws"),
]
