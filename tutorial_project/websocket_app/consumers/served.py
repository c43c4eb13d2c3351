"""What ``python -m workbook serve --stage ...`` (and every notebook) runs: each stage's
consumer with the later chapters' defences in front of it. Read a class's bases left
to right: each mixin wraps the ones after it."""

from .authenticated import AuthenticatedEchoConsumer
from .chat import ChatConsumer
from .echo import EchoConsumer
from .fanout import FastFanoutMixin
from .hardening import RateLimitMixin, TicketAuthMixin, TokenExpiryMixin
from .layer_loss import LayerLossMixin
from .overload import RoomOverloadMixin


class ServedEchoConsumer(RateLimitMixin, EchoConsumer):
    pass


class ServedAuthenticatedEchoConsumer(RateLimitMixin, TokenExpiryMixin, TicketAuthMixin, AuthenticatedEchoConsumer):
    pass


class ServedChatConsumer(
    RateLimitMixin, TokenExpiryMixin, TicketAuthMixin, LayerLossMixin, RoomOverloadMixin, FastFanoutMixin, ChatConsumer
):
    pass


STAGE_CONSUMERS = {
    "echo": ServedEchoConsumer,
    "jwt": ServedAuthenticatedEchoConsumer,
    "chat": ServedChatConsumer,
}
