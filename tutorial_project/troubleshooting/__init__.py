"""Broken on purpose: the mistakes of notebook 07, each next to the real project.

Nothing here is imported by the real project. Each file is a copy of a real file
with one mistake in it (or a consumer that overrides one method of a real one),
so notebook 07 can show the mistake as a small diff and run it in its own daphne.
"""
