"""One-time websocket tickets: ``POST /api/ws-ticket/`` with a JWT, then ``ws/chat/?ticket=...``.

Why: a URL ends up in access logs, proxy logs and browser history. A ticket in the
URL is harmless there, because it works once and only for TICKET_SECONDS; the
JWT itself travels in an ``Authorization`` header, which logs leave out.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import WebSocketTicket


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user, access_expires_at: int) -> str:
    ticket = secrets.token_urlsafe(32)
    WebSocketTicket.objects.create(key_hash=_hash(ticket), user=user, access_expires_at=access_expires_at)
    return ticket


def redeem_ticket(ticket: str):
    """``(user, access_expires_at)`` for a fresh, unused ticket, else ``(None, None)``. One use only."""
    cutoff = timezone.now() - timedelta(seconds=WebSocketTicket.TICKET_SECONDS)
    WebSocketTicket.objects.filter(created__lt=cutoff).delete()  # tidy up expired ones
    with transaction.atomic():
        found = WebSocketTicket.objects.select_related("user").filter(key_hash=_hash(ticket)).first()
        # Deleting decides who wins if two sockets race with the same ticket.
        if found is None or WebSocketTicket.objects.filter(pk=found.pk).delete()[0] != 1:
            return None, None
    return found.user, found.access_expires_at


class TicketView(APIView):
    """POST with ``Authorization: Bearer <access token>`` → ``{"ticket": ..., "expires_in": 30}``."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        ticket = issue_ticket(request.user, int(request.auth["exp"]))
        return Response({"ticket": ticket, "expires_in": WebSocketTicket.TICKET_SECONDS})
