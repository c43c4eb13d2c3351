"""``manage.py create_demo_users``: creates the three demo accounts once, leaves them alone
afterwards, and ``--reset-passwords`` puts the documented passwords back."""

import subprocess
import sys

from helpers import REPO

SCRIPT = """
import sys
from django.core.management import call_command
from workbook.django_env import setup_django

setup_django()
from django.contrib.auth import authenticate
from django.contrib.auth.models import User

if sys.argv[1] == "forget-bob":
    bob = User.objects.get(username="bob")
    bob.set_password("something-else-456")
    bob.save()
else:
    call_command("migrate", verbosity=0)
    call_command("create_demo_users", *sys.argv[2:])
names = ("alice", "bob", "carol")
print("logins:", *(bool(authenticate(username=name, password=f"{name}-pass-123")) for name in names))
"""


def run(data_dir, *args):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "WORKBOOK_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_demo_users_are_created_once_and_reset_on_request(tmp_path):
    assert run(tmp_path, "create") == ["alice: created", "bob: created", "carol: created", "logins: True True True"]
    assert run(tmp_path, "create") == ["alice: exists", "bob: exists", "carol: exists", "logins: True True True"]
    assert run(tmp_path, "forget-bob") == ["logins: True False True"]
    assert run(tmp_path, "create") == ["alice: exists", "bob: exists", "carol: exists", "logins: True False True"]
    assert run(tmp_path, "create", "--reset-passwords") == [
        "alice: reset",
        "bob: reset",
        "carol: reset",
        "logins: True True True",
    ]
