"""First-run set-up, using only the standard library (nothing else is installed yet).

``python -m workbook <command>`` on a fresh clone creates ``.venv``, installs the
pinned dependencies into it (with uv when it can: seconds instead of ~40 s with
pip) and re-runs the command with the venv's Python. Later runs only check a
stamp, so they start at once. An environment that already has the workbook
installed (a conda env from environment.yml, say) is used as it is.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = Path(os.environ.get("WORKBOOK_VENV") or REPO_DIR / ".venv")
STAMP = VENV_DIR / ".workbook-installed"
MIN_PYTHON = (3, 11)


def say(text: str) -> None:
    print(f"[workbook] {text}", file=sys.stderr, flush=True)


def venv_python() -> Path:
    return VENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_fingerprint() -> str:
    """Changes whenever the pins change, so an old venv is brought up to date."""
    return hashlib.sha256((REPO_DIR / "pyproject.toml").read_bytes()).hexdigest()


def running_in_prepared_environment() -> bool:
    """True inside .venv (up to date), or any env where this checkout is installed."""
    if Path(sys.prefix).resolve() == VENV_DIR.resolve():
        return STAMP.is_file() and STAMP.read_text().strip() == requirements_fingerprint()
    try:
        metadata.distribution("channels-workbook")
    except metadata.PackageNotFoundError:
        return False
    return os.environ.get("WORKBOOK_VENV") is None  # an explicit WORKBOOK_VENV wins


def ensure_environment(argv: list[str]) -> None:
    """Return if this interpreter is ready; otherwise prepare .venv and re-exec in it."""
    if running_in_prepared_environment():
        return
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"[workbook] Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; "
                 f"this is {sys.version.split()[0]}. Run the command with python3.11.")
    python = venv_python()
    if not python.exists():
        say(f"creating a virtual environment in {VENV_DIR}")
        venv.EnvBuilder(with_pip=True).create(VENV_DIR)
    if not (STAMP.is_file() and STAMP.read_text().strip() == requirements_fingerprint()):
        install_dependencies(python)
        STAMP.write_text(requirements_fingerprint())
    os.execv(python, [str(python), "-m", "workbook", *argv])


def install_dependencies(python: Path) -> None:
    choice = os.environ.get("WORKBOOK_INSTALLER", "auto")
    if choice not in ("auto", "uv", "pip"):
        sys.exit(f"[workbook] WORKBOOK_INSTALLER={choice!r}: use auto, uv or pip")
    uv = None if choice == "pip" else find_or_install_uv(python)
    if choice == "uv" and uv is None:
        sys.exit("[workbook] WORKBOOK_INSTALLER=uv but uv could not be found or installed")
    target = f"{REPO_DIR}[test]"
    if uv:
        say("installing the pinned dependencies with uv")
        # Compile bytecode now: with PYTHONDONTWRITEBYTECODE=1 every server start
        # would otherwise recompile Django and Twisted (≈3x slower starts).
        command = [uv, "pip", "install", "--python", str(python), "--compile-bytecode",
                   "-e", target]
    else:
        say("installing the pinned dependencies with pip (about a minute)")
        command = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
                   "-e", target]
    result = subprocess.run(command, cwd=REPO_DIR)
    if result.returncode != 0:
        sys.exit("[workbook] installing the dependencies failed (see above). Check the "
                 "network connection to the package index and run the command again.")


def find_or_install_uv(python: Path) -> str | None:
    """uv on PATH, or uv installed into the venv with pip (a few seconds), or None."""
    for candidate in (shutil.which("uv"), VENV_DIR / "bin" / "uv"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv"],
        cwd=REPO_DIR, capture_output=True, text=True,
    )
    uv = VENV_DIR / "bin" / "uv"
    if result.returncode == 0 and uv.exists():
        return str(uv)
    say("uv is not available; falling back to pip")
    return None
