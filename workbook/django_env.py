"""Django inside this Python process: for notebooks, the checker and tests."""
import os
import sys

from .paths import PROJECT_DIR


def setup_django(stage: str | None = None) -> None:
    """Make the tutorial project importable and set Django up (safe to call twice).

    ``stage`` picks the consumer behind ``ws/chat/`` for in-process tests; it
    has to be chosen before the first call, like any setting.
    """
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "websocket_project.settings")
    if stage is not None:
        os.environ["WORKBOOK_STAGE"] = stage
    import django

    django.setup()


def prepare_database(stdout=None) -> None:
    """Apply migrations and create the demo users (both idempotent)."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("create_demo_users", stdout=stdout or sys.stdout)
