"""The board's websocket routes (its HTTP routes are in urls.py)."""

from django.urls import path

from .consumers import LiveBoardConsumer, ReportConsumer

websocket_urlpatterns = [
    path("board/ws/report/", ReportConsumer.as_asgi()),
    path("board/ws/live/", LiveBoardConsumer.as_asgi()),
]
