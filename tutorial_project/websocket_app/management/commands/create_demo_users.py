"""``manage.py create_demo_users``: the workbook's demo accounts (safe to run twice)."""

from django.contrib.auth import get_user_model
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
        for username, password in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            if created or reset_passwords:
                user.set_password(password)
                user.is_active = True
                user.save()
            state = "created" if created else ("reset" if reset_passwords else "exists")
            self.stdout.write(f"{username}: {state}")
