"""Websocket routes (HTTP routes are in urls.py).

Every stage answers at ``ws/chat/``, so the same test page works at every stage;
which consumer answers is chosen when the server starts (``WORKBOOK_STAGE``).
The chat stage also serves rooms: ``ws/chat/<room>/``.
"""

from django.conf import settings
from django.urls import re_path

from .consumers.served import STAGE_CONSUMERS


def websocket_urlpatterns_for(stage: str) -> list:
    try:
        consumer = STAGE_CONSUMERS[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}: use one of {', '.join(STAGE_CONSUMERS)}") from None
    patterns = [re_path(r"^ws/chat/$", consumer.as_asgi())]
    if stage == "chat":
        # Any segment matches so that a bad name reaches the consumer and gets a clear
        # refusal (close code 4400) instead of "no route" at the handshake.
        patterns.append(re_path(r"^ws/chat/(?P<room_name>[^/]+)/$", consumer.as_asgi()))
    return patterns


websocket_urlpatterns = websocket_urlpatterns_for(settings.WORKBOOK_STAGE)
