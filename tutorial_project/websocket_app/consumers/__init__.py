"""One consumer per stage of the workbook, each as short as the Channels tutorial's:

- ``EchoConsumer`` (stage ``echo``, notebook 01): answers "You said: ..."
- ``AuthenticatedEchoConsumer`` (stage ``jwt``, notebook 02): a ``?token=`` is required
- ``ChatConsumer`` (stage ``chat``, notebook 03): a channel layer group per room

The later chapters' features are separate mixins (``layer_loss.py`` for 04,
``hardening.py`` for 05); ``served.py`` combines them into what the servers run.
"""

from .authenticated import AuthenticatedEchoConsumer
from .chat import ChatConsumer
from .echo import EchoConsumer

__all__ = ["EchoConsumer", "AuthenticatedEchoConsumer", "ChatConsumer"]
