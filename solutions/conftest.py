"""Lets you run the test-writing exercises by hand: `.venv/bin/python -m pytest exercises/06_test_echo`.

The fixtures (echo_application, chat_application, tokens) are the checker's own.
"""

from workbook.checker.pytest_fixtures import *  # noqa: F401,F403  (the fixtures your tests ask for by name)
