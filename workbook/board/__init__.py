"""The live workshop board, attendee and instructor side.

    python -m workbook board                                    # instructor: start it
    python -m workbook join URL --code KITE-4821 --name Ada     # attendee: once
    python -m workbook leave                                    # attendee: stop reporting

From a notebook: ``from workbook.board import join, leave``. Once joined, every
check reports its outcome (exercise id, outcome, duration, the first line of its
message, the time — never code, files or paths) in the background.
"""

from .client import join, leave, report_outcome  # noqa: F401
