"""``python -m workbook <command>``: see ``python -m workbook --help``."""

import sys

from .bootstrap import ensure_environment

ensure_environment(sys.argv[1:])  # may re-run this command inside .venv

from .cli import main  # noqa: E402  (needs the installed dependencies)

sys.exit(main(sys.argv[1:]))
