"""HTTP routes. Websocket routes live in websocket_app/routing.py, not here."""

from django.urls import include, path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from websocket_app.tickets import TicketView

urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    # Hardening: a one-time ticket, so the JWT never appears in a websocket URL.
    path("api/ws-ticket/", TicketView.as_view(), name="ws_ticket"),
    path("", include("websocket_app.urls")),
]
