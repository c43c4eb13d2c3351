"""First-run set-up, using only the standard library (nothing else is installed yet).

``python -m workbook <command>`` on a fresh clone creates ``.venv``, installs the
pinned dependencies into it (with uv when it can: seconds instead of ~40 s with
pip) and re-runs the command with the venv's Python. Later runs only check a
stamp inside the venv, so they start at once. An environment that already has
this checkout installed (a conda env from environment.yml, say) is used as it is.

"Am I in the prepared environment?" is decided from the interpreter itself
(``sys.prefix``) and from files inside that environment, never from what
happens to be importable from the current folder: files in the work tree
cannot make a bare ``python3.11`` look prepared.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

# importlib.metadata and venv are imported where they are used: every command (and
# `serve`'s start-up) passes through here, and in a prepared .venv neither is needed.

REPO_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = Path(os.environ.get("WORKBOOK_VENV") or REPO_DIR / ".venv")
STAMP = VENV_DIR / ".workbook-installed"
INSTALL_LOG = VENV_DIR / "install.log"
DISTRIBUTION = "channels-workbook"
MIN_PYTHON = (3, 11)
HEARTBEAT_SECONDS = 10


def say(text: str) -> None:
    print(f"[workbook] {text}", file=sys.stderr, flush=True)


def venv_python() -> Path:
    return VENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def stamp_text() -> str:
    """What the stamp must say: the pins (pyproject.toml) and the checkout they were installed from.

    A changed pin, or a ``.venv`` copied along with the checkout to another folder
    (its editable install still points at the old one), makes it differ.
    """
    pins = hashlib.sha256((REPO_DIR / "pyproject.toml").read_bytes()).hexdigest()
    return f"{pins} {REPO_DIR}"


def stamp_is_current() -> bool:
    return STAMP.is_file() and STAMP.read_text().strip() == stamp_text()


def installed_in_this_environment() -> bool:
    """True when this checkout is installed in the running interpreter's own site-packages.

    Only the environment's site-packages are searched (not ``sys.path``, which holds
    the current folder), and the install must point at this checkout.
    """
    from importlib import metadata

    site_dirs = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    for distribution in metadata.distributions(path=site_dirs):
        if (distribution.metadata["Name"] or "").lower().replace("_", "-") != DISTRIBUTION:
            continue
        direct_url = distribution.read_text("direct_url.json")
        if direct_url is None:
            return False
        url = json.loads(direct_url).get("url", "")
        return url.removeprefix("file://").rstrip("/") == REPO_DIR.as_posix()
    return False


def running_in_prepared_environment() -> bool:
    """True inside an up-to-date .venv, or an env (conda, a hub's) where this checkout is installed."""
    if Path(sys.prefix).resolve() == VENV_DIR.resolve():
        return stamp_is_current()
    if os.environ.get("WORKBOOK_VENV"):  # an explicit WORKBOOK_VENV wins
        return False
    return installed_in_this_environment()


def ensure_environment(argv: list[str]) -> None:
    """Return if this interpreter is ready; otherwise prepare .venv and re-exec in it."""
    if running_in_prepared_environment():
        return
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"[workbook] Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; "
            f"this is {sys.version.split()[0]}. Run the command with python3.11."
        )
    python = venv_python()
    if not python.exists():
        say(f"creating a virtual environment in {VENV_DIR}")
        import venv

        venv.EnvBuilder(with_pip=True).create(VENV_DIR)
    if not stamp_is_current():
        install_dependencies(python)
        STAMP.write_text(stamp_text())
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
        # Compile bytecode now: with PYTHONDONTWRITEBYTECODE=1 every server start
        # would otherwise recompile Django and Twisted (≈3x slower starts).
        command = [uv, "pip", "install", "--python", str(python), "--compile-bytecode", "-e", target]
        what = "installing the pinned dependencies with uv"
    else:
        command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-e", target]
        what = "installing the pinned dependencies with pip (about a minute)"
    if run_logged(command, what) != 0:
        sys.exit(
            f"[workbook] installing the dependencies failed; the end of {INSTALL_LOG}:\n"
            + tail(INSTALL_LOG)
            + "\nCheck the network connection to the package index "
            "and run the command again."
        )


def run_logged(command: list[str], what: str) -> int:
    """Run an installer with its output in INSTALL_LOG; one line now, one every 10 s, one at the end."""
    say(f"{what} (log: {INSTALL_LOG.relative_to(REPO_DIR) if INSTALL_LOG.is_relative_to(REPO_DIR) else INSTALL_LOG})")
    started = time.monotonic()
    with open(INSTALL_LOG, "w") as log:
        # The build runs in a temporary folder, never in the checkout (see pyproject.toml).
        process = subprocess.Popen(command, cwd=VENV_DIR, stdout=log, stderr=subprocess.STDOUT)
        while True:
            try:
                returncode = process.wait(timeout=HEARTBEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:
                say(f"  still installing ({time.monotonic() - started:.0f} s so far)")
    if returncode == 0:
        say(f"  done in {time.monotonic() - started:.1f} s")
    return returncode


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def find_or_install_uv(python: Path) -> str | None:
    """uv on PATH, or uv installed into the venv with pip (a few seconds), or None."""
    for candidate in (shutil.which("uv"), VENV_DIR / "bin" / "uv"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv"],
        cwd=VENV_DIR,
        capture_output=True,
        text=True,
    )
    uv = VENV_DIR / "bin" / "uv"
    if result.returncode == 0 and uv.exists():
        return str(uv)
    say("uv is not available; falling back to pip")
    return None
