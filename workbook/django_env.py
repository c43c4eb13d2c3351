"""Django inside this Python process: for notebooks, the checker and tests."""

import os
import sys
from typing import TextIO

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


def prepare_database(stdout: TextIO | None = None) -> str:
    """Apply pending migrations and create missing demo users; say in one line what was done.

    Idempotent and quick when everything is in place (≈ 0.05 s after Django is set
    up), so every entry point — a notebook's first cell, ``serve``, ``check``,
    ``lab`` — calls it instead of relying on someone having run ``setup``.
    Synchronous Django code: from a running event loop (a notebook) call it in a thread.
    """
    import io
    import time

    started = time.monotonic()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
    report = io.StringIO()
    call_command("create_demo_users", stdout=report)
    if stdout is not None:
        stdout.write(report.getvalue())
    created = [line.split(":")[0] for line in report.getvalue().splitlines() if line.endswith(": created")]
    done = []
    if pending:
        done.append(f"applied {len(pending)} database migrations")
    if created:
        done.append(f"created the demo users {', '.join(created)}")
    seconds = time.monotonic() - started
    if not done:
        return f"Ready: database migrated, demo users present ({seconds:.1f} s)."
    return f"Ready: {' and '.join(done)} ({seconds:.1f} s)."
