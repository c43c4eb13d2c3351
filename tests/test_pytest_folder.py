"""Notebook 06's test folder: pytest in a subprocess, outcomes read back, expectations enforced."""

import gc
import shutil

import pytest

from workbook.pytest_folder import TestFolder, UnexpectedOutcome


@pytest.fixture
def folder():
    folder = TestFolder()
    yield folder
    folder.remove()
    assert not folder.path.exists()


def test_a_run_reports_each_outcome_and_the_failure_reason(folder):
    (folder.path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_good():\n    assert 1 + 1 == 2\n\n"
        "def test_bad():\n    assert {'a': 1} == {'a': 2}, 'the dicts differ'\n\n"
        "@pytest.mark.skip(reason='not today')\ndef test_skipped():\n    pass\n"
    )
    run = folder.run(
        "test_sample.py", expect={"test_good": "PASSED", "test_bad": "FAILED", "test_skipped": ("SKIPPED", "PASSED")}
    )
    assert run.outcome("test_good") == "PASSED"
    assert run.message("test_bad").startswith("AssertionError: the dicts differ")
    assert run.message("test_skipped") == "not today"
    assert run.summary == "1 failed, 1 passed, 1 skipped in " + run.summary.split(" in ")[1]
    assert "FAILED" in repr(run) and "<table>" in run._repr_html_()


def test_an_outcome_other_than_expected_raises(folder):
    (folder.path / "test_one.py").write_text("def test_one():\n    assert True\n")
    with pytest.raises(UnexpectedOutcome, match="test_one: expected FAILED, got PASSED"):
        folder.run("test_one.py", expect={"test_one": "FAILED"})


def test_a_test_missing_from_the_run_is_an_error(folder):
    (folder.path / "test_one.py").write_text("def test_one():\n    assert True\n")
    with pytest.raises(KeyError, match="no test 'test_two'"):
        folder.run("test_one.py", expect={"test_two": "PASSED"})


def test_the_conftest_gives_django_fixtures_and_a_private_database(folder):
    (folder.path / "test_db.py").write_text(
        "from django.conf import settings\n"
        "def test_database_is_the_copy(alice_token):\n"
        f"    assert str(settings.DATABASES['default']['NAME']).startswith({str(folder.data)!r})\n"
        "    assert alice_token.count('.') == 2\n"
    )
    folder.run("test_db.py", expect={"test_database_is_the_copy": "PASSED"})


def test_a_hanging_run_is_stopped(folder):
    (folder.path / "test_hang.py").write_text("import time\n\ndef test_hang():\n    time.sleep(30)\n")
    run = folder.run("test_hang.py", timeout=3, options=("-p", "no:timeout"))
    assert run.returncode == -1 and "did not finish within 3 s" in run.output


def test_the_demo_users_sign_in_with_the_fast_hasher_in_the_copy(folder):
    (folder.path / "test_sign_in.py").write_text(
        "from django.contrib.auth import authenticate\n"
        "def test_alice_signs_in():\n"
        "    alice = authenticate(username='alice', password='alice-pass-123')\n"
        "    assert alice is not None and alice.password.startswith('md5$')\n"
        "def test_a_wrong_password_does_not():\n"
        "    assert authenticate(username='alice', password='alice-pass-124') is None\n"
    )
    folder.run("test_sign_in.py", expect={"test_alice_signs_in": "PASSED", "test_a_wrong_password_does_not": "PASSED"})


def test_a_run_loads_only_what_the_folder_needs(folder):
    (folder.path / "test_loaded.py").write_text(
        "import sys\n"
        "from django.conf import settings\n"
        "def test_plugins(request):\n"
        "    names = {name for name, _ in request.config.pluginmanager.list_name_plugin()}\n"
        "    assert {'pytest_asyncio.plugin', 'pytest_timeout'} <= names, names\n"
        "    assert 'anyio' not in names, names\n"
        "def test_settings_for_tests_without_twisted():\n"
        "    assert settings.SETTINGS_MODULE == 'settings_for_tests'\n"
        "    assert 'daphne' not in settings.INSTALLED_APPS and 'websocket_app' in settings.INSTALLED_APPS\n"
        "    assert 'twisted.internet.reactor' not in sys.modules\n"
    )
    folder.run("test_loaded.py", expect={"test_plugins": "PASSED", "test_settings_for_tests_without_twisted": "PASSED"})


def test_each_run_sees_the_latest_code_and_environment(folder, monkeypatch):
    """A run's process is started one run ahead; it must still import the files as they are now."""
    test_file = folder.path / "test_latest.py"
    for mark in ("first", "second"):
        with (folder.path / "settings_for_tests.py").open("a") as settings:
            settings.write(f"MARK = {mark!r}\n")
        monkeypatch.setenv("WORKBOOK_TEST_MARK", mark)
        test_file.write_text(
            "import os\nfrom django.conf import settings\n"
            f"def test_{mark}():\n"
            f"    assert settings.MARK == {mark!r}\n"
            f"    assert os.environ['WORKBOOK_TEST_MARK'] == {mark!r}\n"
        )
        folder.run("test_latest.py", expect={f"test_{mark}": "PASSED"})


def test_the_waiting_process_stops_with_remove_and_when_the_folder_is_dropped():
    removed = TestFolder()
    waiting = removed._next[0]
    removed.remove()
    assert waiting.poll() is not None

    dropped = TestFolder()
    waiting, path = dropped._next[0], dropped.path
    del dropped  # e.g. the cell that made it run again
    gc.collect()
    try:
        assert waiting.wait(timeout=5) is not None
    finally:
        shutil.rmtree(path, ignore_errors=True)
