"""Fixtures for the exercises where the learner writes tests (test_echo, test_rooms).

``echo_application`` and ``chat_application`` are the consumer under test, routed at
``ws/chat/`` and ``ws/chat/<room>/``. By hand they are the real consumers; the checker
sets ``WORKBOOK_TEST_VARIANTS`` and every test then runs once per variant: the real
consumer (``correct``) and each broken one from ``buggy_consumers``.
"""

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest

from ..django_env import prepare_database, setup_django

setup_django()
prepare_database(stdout=io.StringIO())  # the demo users the tokens belong to

from channels.layers import channel_layers  # noqa: E402

from .buggy_consumers import VARIANTS  # noqa: E402
from .loading import exercise_routes  # noqa: E402

#: exercise id -> the variant ids its fixtures run with (``correct`` alone when run by hand)
_CHOSEN = dict(item.split("=", 1) for item in os.environ.get("WORKBOOK_TEST_VARIANTS", "").split(";") if item)


def _variants(exercise_id: str) -> list[str]:
    return _CHOSEN.get(exercise_id, "correct").split(",")


def _application(exercise_id: str, variant: str) -> Any:
    from channels.routing import URLRouter

    correct, bugs = VARIANTS[exercise_id]
    consumer = correct if variant == "correct" else dict((name, cls) for name, cls, _ in bugs)[variant]
    return URLRouter(exercise_routes(consumer))


@pytest.fixture(params=_variants("test_echo"))
def echo_application(request: pytest.FixtureRequest) -> Any:
    """The echo consumer of notebook 01 at ws/chat/."""
    return _application("test_echo", request.param)


@pytest.fixture(params=_variants("test_rooms"))
def chat_application(request: pytest.FixtureRequest) -> Any:
    """The group chat consumer of notebook 03 at ws/chat/<room>/ (connect with ?token=...)."""
    return _application("test_rooms", request.param)


@pytest.fixture
def tokens() -> dict[str, str]:
    """Access tokens for alice, bob and carol, and alice's *refresh* token as "refresh"."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    users = get_user_model().objects
    found = {name: str(AccessToken.for_user(users.get(username=name))) for name in ("alice", "bob", "carol")}
    found["refresh"] = str(RefreshToken.for_user(users.get(username="alice")))
    return found


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    """A new in-memory channel layer for every test: each test has its own event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
