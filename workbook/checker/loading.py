"""Importing a learner's file and routing its consumer, for the checker and for daphne."""
import importlib.util
import itertools
import sys
from pathlib import Path

from .outcome import LearnerCodeError

_counter = itertools.count()


def load_learner_module(path: Path):
    """Import ``path`` afresh (a new module each time, so edits are always seen)."""
    name = f"learner_{path.parent.name}_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling need the module registered
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # SyntaxError, ImportError, NameError... all the learner's
        del sys.modules[name]
        raise LearnerCodeError.from_exception(error, path, "importing it") from error
    return module


def learner_attribute(module, name: str, path: Path):
    try:
        return getattr(module, name)
    except AttributeError:
        raise LearnerCodeError(f"{path.name} has no {name}: keep the name the exercise gives") from None


def exercise_routes(consumer) -> list:
    """The routes a learner's chat-like consumer is served at: ws/chat/ and ws/chat/<room>/."""
    from django.urls import re_path

    return [
        re_path(r"^ws/chat/$", consumer.as_asgi()),
        re_path(r"^ws/chat/(?P<room_name>[^/]+)/$", consumer.as_asgi()),
    ]
