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
