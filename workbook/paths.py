"""Where things are in a checkout of the workbook."""

import os
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = REPO_DIR / "tutorial_project"
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
EXERCISES_DIR = REPO_DIR / "exercises"
SOLUTIONS_DIR = REPO_DIR / "solutions"


def data_dir() -> Path:
    """The git-ignored folder with the SQLite database and the dev secret key."""
    return Path(os.environ.get("WORKBOOK_DATA_DIR") or REPO_DIR / ".workbook")
