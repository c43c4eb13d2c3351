"""One consumer per stage of the workbook (the seed keeps all three in consumers.py).

- ``EchoConsumer`` (stage ``echo``): Setup 1, answers "You said: ..."
- ``AuthenticatedEchoConsumer`` (stage ``jwt``): Setup 2, a ``?token=`` is required
- ``ChatConsumer`` (stage ``chat``): Setup 3, a channel layer group per room
"""
from .authenticated import AuthenticatedEchoConsumer
from .chat import ChatConsumer
from .echo import EchoConsumer

__all__ = ["EchoConsumer", "AuthenticatedEchoConsumer", "ChatConsumer"]
