"""What the board keeps: workshops, their attendees, and every outcome they reported."""

from django.db import models


class Workshop(models.Model):
    code = models.CharField(max_length=25, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.code


class Attendee(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(max_length=40)
    name_key = models.CharField(max_length=160)  # casefolded: "Ada" and "ADA" are one name
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 of the attendee's token
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "name_key"], name="one_name_per_workshop")]

    def __str__(self):
        return self.name


class Outcome(models.Model):
    """One check, as the attendee's machine reported it. Never code, files or paths."""

    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="outcomes")
    report_id = models.CharField(max_length=64)  # chosen by the attendee: a resent report counts once
    exercise = models.CharField(max_length=50)
    outcome = models.CharField(max_length=20)
    seconds = models.FloatField()
    message = models.CharField(max_length=200)
    at = models.DateTimeField()  # when the check ran
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attendee", "report_id"], name="each_report_once")]
        indexes = [models.Index(fields=["attendee", "exercise", "at"])]
