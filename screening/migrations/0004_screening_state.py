"""The evaluation's columns move off the participants table into screening's own one-to-one table:
every participant gets its row, with the values it had (participants 0003 then drops the columns)."""

import django.db.models.deletion
from django.db import migrations, models

# Every participant, evaluated or not, gets its state row with the values of its old columns.
COPY_FORWARD = """
    INSERT INTO screening_screeningstate
        (participant_id, evaluated_version, reevaluation_requested_at, status, status_valid_until, evaluated_at)
    SELECT id, evaluated_version, reevaluation_requested_at, status, status_valid_until, evaluated_at
    FROM participants_participant
"""
# Undone before participants 0003 is undone (the columns are back, with their defaults).
COPY_BACK = """
    UPDATE participants_participant p
    SET evaluated_version = s.evaluated_version, reevaluation_requested_at = s.reevaluation_requested_at,
        status = s.status, status_valid_until = s.status_valid_until, evaluated_at = s.evaluated_at
    FROM screening_screeningstate s WHERE s.participant_id = p.id
"""


class Migration(migrations.Migration):

    dependencies = [
        ("participants", "0002_participant_data_version_participant_evaluated_at_and_more"),
        ("screening", "0003_adjudication"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScreeningState",
            fields=[
                (
                    "participant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="screening_state",
                        serialize=False,
                        to="participants.participant",
                    ),
                ),
                ("evaluated_version", models.PositiveIntegerField(default=0)),
                ("reevaluation_requested_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("NOT_EVALUATED", "Not evaluated yet"),
                            ("ELIGIBLE", "Eligible"),
                            ("INELIGIBLE", "Ineligible"),
                            ("INCOMPLETE", "Incomplete"),
                            ("PENDING_REVIEW", "Pending review"),
                        ],
                        db_index=True,
                        default="NOT_EVALUATED",
                        max_length=20,
                    ),
                ),
                ("status_valid_until", models.DateField(blank=True, db_index=True, null=True)),
                ("evaluated_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RunSQL(COPY_FORWARD, COPY_BACK),
    ]
