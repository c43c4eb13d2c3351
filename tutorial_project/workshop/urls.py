"""The board's HTTP routes (its websocket routes are in routing.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("board/", views.board_page, name="board"),
    path("board/api/state/", views.state_api, name="board_state"),
    path("board/api/join/", views.join_api, name="board_join"),
    path("board/api/health/", views.health, name="board_health"),
]
