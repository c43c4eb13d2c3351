"""The live workshop board: attendees' check outcomes, fanned out to the instructor's page.

A small Channels app of its own (``python -m workbook board`` runs it): attendees
report over ``board/ws/report/``, the instructor's page listens on
``board/ws/live/``, and a channel layer group carries every outcome between them.
"""
