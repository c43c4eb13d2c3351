# Generated for the workshop board (Django 5.2)

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Workshop",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=25, unique=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name="Attendee",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40)),
                ("name_key", models.CharField(max_length=160)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("joined", models.DateTimeField(auto_now_add=True)),
                (
                    "workshop",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="attendees", to="workshop.workshop"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("workshop", "name_key"), name="one_name_per_workshop")],
            },
        ),
        migrations.CreateModel(
            name="Outcome",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("report_id", models.CharField(max_length=64)),
                ("exercise", models.CharField(max_length=50)),
                ("outcome", models.CharField(max_length=20)),
                ("seconds", models.FloatField()),
                ("message", models.CharField(max_length=200)),
                ("at", models.DateTimeField()),
                ("received", models.DateTimeField(auto_now_add=True)),
                (
                    "attendee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="outcomes", to="workshop.attendee"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["attendee", "exercise", "at"], name="workshop_ou_attende_9dcbe9_idx")],
                "constraints": [models.UniqueConstraint(fields=("attendee", "report_id"), name="each_report_once")],
            },
        ),
    ]
