from django.conf import settings
from django.db import models


class ChatMessage(models.Model):
    """One message said in a room; the history exercise keeps them and replays the last few."""

    room = models.CharField(max_length=50, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"{self.user.username}: {self.text}"


class WebSocketTicket(models.Model):
    """A one-time ticket for opening a websocket without putting a JWT in its URL.

    Only a hash of the ticket is stored (like a password): a leaked database
    row cannot be used to connect. A ticket works once, within TICKET_SECONDS.
    """

    TICKET_SECONDS = 30

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created = models.DateTimeField(auto_now_add=True)
    # The socket may live as long as the access token that bought the ticket.
    access_expires_at = models.IntegerField(help_text="exp of the access token, seconds since the epoch")
