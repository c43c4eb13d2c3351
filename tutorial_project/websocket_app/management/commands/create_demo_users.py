"""``manage.py create_demo_users``: the workbook's demo accounts (safe to run twice)."""

from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand

# Documented in README.md. Demo accounts for a local tutorial database only.
DEMO_USERS = {"alice": "alice-pass-123", "bob": "bob-pass-123", "carol": "carol-pass-123"}


class Command(BaseCommand):
    help = "Create the demo users alice, bob and carol (existing users are left alone)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="also set existing demo users' passwords back to the documented ones",
        )

    def handle(self, *args, reset_passwords=False, **options):
        User = get_user_model()
        existing = set(User.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
        to_set = [name for name in DEMO_USERS if reset_passwords or name not in existing]
        # A password hash is slow on purpose (~0.3 s here). hashlib releases the GIL while it
        # works, so the three hashes run side by side on the machine's cores.
        with ThreadPoolExecutor() as pool:
            hashes = dict(zip(to_set, pool.map(make_password, [DEMO_USERS[name] for name in to_set]), strict=True))
        for username in DEMO_USERS:
            if username in hashes:
                user, _ = User.objects.get_or_create(username=username)
                user.password = hashes[username]
                user.is_active = True
                user.save()
            state = "exists" if username not in hashes else "reset" if username in existing else "created"
            self.stdout.write(f"{username}: {state}")
