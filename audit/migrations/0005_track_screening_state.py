"""Track screening.ScreeningState (1 of 2): its event table, the participant's status history
copied into it, and the participant's triggers removed before participants 0003 drops the columns
they read (a trigger's condition depends on its columns)."""

import audit.models
import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models



# The status history of each participant, recorded on the participant's events until now, becomes
# its screening state's history: the first event and each one that changed the status or its date.
COPY_STATUS_HISTORY = """
    INSERT INTO audit_screeningstateevent
        (pgh_created_at, pgh_label, pgh_recorded_at, pgh_context, pgh_context_id, pgh_obj_id,
         participant_id, status, status_valid_until)
    SELECT pgh_created_at, pgh_label, pgh_recorded_at, pgh_context, pgh_context_id, id, id,
           status, status_valid_until
    FROM (
        SELECT e.*, LAG(e.status) OVER w AS status_before, LAG(e.status_valid_until) OVER w AS until_before,
               ROW_NUMBER() OVER w AS n
        FROM audit_participantevent e
        WHERE EXISTS (SELECT 1 FROM screening_screeningstate s WHERE s.participant_id = e.id)
        WINDOW w AS (PARTITION BY e.pgh_obj_id ORDER BY e.pgh_id)
    ) events
    WHERE n = 1 OR status IS DISTINCT FROM status_before OR status_valid_until IS DISTINCT FROM until_before
    ORDER BY pgh_id
"""


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_track_screening_adjudication"),
        ("screening", "0004_screening_state"),
    ]

    operations = [
        migrations.CreateModel(
            name='ScreeningStateEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_recorded_at', models.DateTimeField(db_default=audit.models.ClockTimestamp(), editable=False)),
                ('pgh_context', pghistory.utils.JSONField(null=True)),
                ('pgh_context_id', models.UUIDField(null=True)),
                ('status', models.CharField(choices=[('NOT_EVALUATED', 'Not evaluated yet'), ('ELIGIBLE', 'Eligible'), ('INELIGIBLE', 'Ineligible'), ('INCOMPLETE', 'Incomplete'), ('PENDING_REVIEW', 'Pending review')], default='NOT_EVALUATED', max_length=20)),
                ('status_valid_until', models.DateField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'screening state event',
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='TrackedScreeningState',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('screening.screeningstate',),
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedparticipant',
            name='audit_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedparticipant',
            name='audit_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedparticipant',
            name='audit_delete',
        ),
        migrations.AddField(
            model_name='screeningstateevent',
            name='participant',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', serialize=False, to='participants.participant'),
        ),
        migrations.AddField(
            model_name='screeningstateevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='audit_events', to='audit.trackedscreeningstate'),
        ),
        migrations.RunSQL(COPY_STATUS_HISTORY, migrations.RunSQL.noop),
    ]
