"""The evaluation's columns now live in screening.ScreeningState (screening 0004 copied them)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("participants", "0002_participant_data_version_participant_evaluated_at_and_more"),
        ("screening", "0004_screening_state"),
        # The participant's audit triggers read these columns: audit 0005 removes them first.
        ("audit", "0005_track_screening_state"),
    ]

    operations = [
        migrations.RemoveField(model_name="participant", name="evaluated_at"),
        migrations.RemoveField(model_name="participant", name="evaluated_version"),
        migrations.RemoveField(model_name="participant", name="reevaluation_requested_at"),
        migrations.RemoveField(model_name="participant", name="status"),
        migrations.RemoveField(model_name="participant", name="status_valid_until"),
    ]
