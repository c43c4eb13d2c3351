"""The first-run set-up without uv: plain venv + pip must work too (it is the fallback)."""

import os
import subprocess
import sys

import pytest
from helpers import REPO


@pytest.mark.timeout(900)
def test_pip_path_builds_a_working_environment(tmp_path):
    venv_dir = tmp_path / "venv"
    env = {**os.environ, "WORKBOOK_VENV": str(venv_dir), "WORKBOOK_INSTALLER": "pip"}
    result = subprocess.run(
        [sys.executable, "-m", "workbook", "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "installing the pinned dependencies with pip" in result.stderr
    assert "serve" in result.stdout
    assert not (venv_dir / "bin" / "uv").exists()  # really the pip path
    check = subprocess.run(
        [venv_dir / "bin" / "python", "-c", "import daphne, channels, rest_framework_simplejwt, workbook"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    # A second run finds the stamp and installs nothing.
    again = subprocess.run(
        [sys.executable, "-m", "workbook", "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "installing" not in again.stderr
