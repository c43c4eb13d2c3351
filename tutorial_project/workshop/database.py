"""The board's SQLite file: created and migrated when a board starts."""
import fcntl
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from .rules import is_valid_code


def prepare_board_database() -> None:
    """Migrate (two board processes starting together take turns) and create the workshop."""
    from .access import current_workshop

    if not is_valid_code(settings.WORKBOOK_BOARD_CODE) or not settings.WORKBOOK_BOARD_KEY:
        raise ImproperlyConfigured("start the board with python -m workbook board "
                                   "(WORKBOOK_BOARD_CODE and WORKBOOK_BOARD_KEY are missing or invalid)")
    database = Path(settings.DATABASES["default"]["NAME"])
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        call_command("migrate", interactive=False, verbosity=0)
        current_workshop()
