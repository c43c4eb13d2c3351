"""The README's command on a fresh clone, as attendees meet it on day one *and* day two.

A copy of the current work tree (tracked and new files, nothing git-ignored) stands in
for ``git clone``: it is what CI clones, and it includes uncommitted edits while developing.
Everything runs with the bare Python 3.11 a learner has, not this test's venv.
"""

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from helpers import environment_with, fresh_clone, learner_env, learner_env_python, running_lab

BARE_PYTHON = learner_env_python()


def workbook(clone: Path, *args, python: str = BARE_PYTHON, timeout: float = 600):
    return subprocess.run(
        [python, "-m", "workbook", *args], cwd=clone, env=learner_env(), capture_output=True, text=True, timeout=timeout
    )


def git_status(clone: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout


def no_build_output(clone: Path) -> list[str]:
    return [p.name for p in clone.iterdir() if p.name.endswith(".egg-info") or p.name in ("build", "dist")]


@pytest.mark.timeout(900)
def test_every_run_works_not_just_the_first(tmp_path):
    clone = fresh_clone(tmp_path / "clone")

    first = workbook(clone, "setup")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "creating a virtual environment" in first.stderr
    # One line per phase, not one per package: the installer's own output goes to a log.
    assert "Django==" not in first.stderr and (clone / ".venv" / "install.log").is_file()
    assert len(first.stderr.splitlines()) < 20, first.stderr
    assert "Ready: applied" in first.stdout

    # Day two: the same command again, and other commands. Nothing is installed again.
    for args in (["setup"], ["list"], ["setup"]):
        again = workbook(clone, *args, timeout=120)
        assert again.returncode == 0, f"{args}: {again.stderr[-3000:]}"
        assert "installing" not in again.stderr
    assert "Ready: database migrated, demo users present" in again.stdout

    # A later start of the lab answers; nothing new in the work tree, no build output at all.
    with running_lab("fresh-token", python=BARE_PYTHON, cwd=clone, env=learner_env()) as (url, _):
        status = httpx.get(f"{url}/api/status", params={"token": "fresh-token"}, timeout=10)
        assert status.status_code == 200
    assert git_status(clone) == ""
    assert no_build_output(clone) == []

    # A copy of a used clone (its .venv included, whose editable install points at the original).
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(clone), str(copy)], check=True)
    copied = workbook(copy, "list", timeout=300)
    assert copied.returncode == 0, copied.stderr[-3000:]
    where = subprocess.run(
        [copy / ".venv/bin/python", "-c", "import workbook; print(workbook.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(copy)), where.stdout + where.stderr

    # .venv deleted: it is created again.
    shutil.rmtree(copy / ".venv")
    recreated = workbook(copy, "list", timeout=600)
    assert recreated.returncode == 0, recreated.stderr[-3000:]
    assert "creating a virtual environment" in recreated.stderr

    # The pins changed: the environment is brought up to date, then used.
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a changed pin\n")
    updated = workbook(copy, "list", timeout=600)
    assert updated.returncode == 0 and "installing the pinned dependencies" in updated.stderr

    # The files of a used clone do not make a bare Python look prepared: no module errors.
    shutil.rmtree(copy / ".venv")
    (copy / "channels_workbook.egg-info").mkdir()  # what older set-ups left behind
    (copy / "channels_workbook.egg-info" / "PKG-INFO").write_text("Name: channels-workbook\nVersion: 0.1.0\n")
    stale = workbook(copy, "list", timeout=600)
    assert stale.returncode == 0, stale.stderr[-3000:]
    assert "creating a virtual environment" in stale.stderr


@pytest.mark.timeout(600)
def test_an_environment_with_this_checkout_installed_is_used_as_it_is(tmp_path):
    """The conda path: an environment made from environment.yml has the workbook installed."""
    clone = fresh_clone(tmp_path / "clone")
    env_dir = environment_with(clone, tmp_path / "condalike")
    result = workbook(clone, "list", python=str(env_dir / "bin/python"), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "echo_types" in result.stdout
    assert not (clone / ".venv").exists()  # used as it is: no .venv made
    assert git_status(clone) == "" and no_build_output(clone) == []

    # Binder: repo2docker installs environment.yml into such an environment, then runs postBuild.
    binder_env = {**learner_env(), "PATH": f"{env_dir / 'bin'}{os.pathsep}{learner_env()['PATH']}"}
    post_build = subprocess.run(
        ["bash", "postBuild"], cwd=clone, env=binder_env, capture_output=True, text=True, timeout=120
    )
    assert post_build.returncode == 0, post_build.stderr[-3000:]
    assert "Ready:" in post_build.stdout and (clone / ".workbook" / "db.sqlite3").is_file()
    run = subprocess.run(
        [
            env_dir / "bin/python",
            "-c",
            "import sys; from pathlib import Path; from workbook.notebook_runner import error_cells, run_notebook; "
            "notebook, seconds, _ = run_notebook(Path('notebooks/02_jwt_consumer.ipynb')); "
            "print([(cell.id, [e.evalue for e in errors]) for cell, errors, _ in error_cells(notebook)]); "
            "sys.exit(1 if error_cells(notebook) else 0)",
        ],
        cwd=clone,
        env=binder_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert not (clone / ".venv").exists() and git_status(clone) == ""

    # The same environment is no "prepared environment" for another checkout.
    other = fresh_clone(tmp_path / "other")
    elsewhere = workbook(other, "--help", python=str(env_dir / "bin/python"), timeout=600)
    assert elsewhere.returncode == 0, elsewhere.stderr[-3000:]
    assert (other / ".venv").exists()
