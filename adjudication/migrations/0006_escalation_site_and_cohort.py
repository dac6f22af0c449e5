"""The escalation carries a copy of its participant's site and cohort (as screening's state does,
screening 0011 and 0013), so that the EAC queue reads its open items' own index: filled here from
the participants, by a trigger where a writer leaves them out, and held equal by a foreign key on
(participant, site, cohort) that cascades a change of the participant's."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('adjudication', '0005_eac_queue_index'),
        ('participants', '0007_participant_id_site_cohort'),
        ('screening', '0014_criterionresult_review_index'),
        # The history's trigger no longer compares every column: the fill below writes no event.
        ('audit', '0020_escalation_history_leaves_out_site_and_cohort'),
    ]

    operations = [
        migrations.AddField(
            model_name='escalation',
            name='cohort',
            field=models.CharField(choices=[('SLE', 'SLE'), ('IIM', 'IIM'), ('SSc', 'SSc')], default='', editable=False, max_length=3),
        ),
        migrations.AddField(
            model_name='escalation',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='participants.site'),
        ),
        migrations.RunSQL(
            "UPDATE adjudication_escalation e SET site_id = p.site_id, cohort = p.cohort"
            " FROM participants_participant p WHERE p.id = e.participant_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='escalation',
            name='cohort',
            field=models.CharField(choices=[('SLE', 'SLE'), ('IIM', 'IIM'), ('SSc', 'SSc')], editable=False, max_length=3),
        ),
        migrations.AlterField(
            model_name='escalation',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='participants.site'),
        ),
        migrations.RunSQL(
            "ALTER TABLE adjudication_escalation ADD CONSTRAINT escalation_site_cohort_are_participants"
            " FOREIGN KEY (participant_id, site_id, cohort)"
            " REFERENCES participants_participant (id, site_id, cohort) ON UPDATE CASCADE"
            " DEFERRABLE INITIALLY DEFERRED",
            "ALTER TABLE adjudication_escalation DROP CONSTRAINT escalation_site_cohort_are_participants",
        ),
        migrations.AddIndex(
            model_name='escalation',
            index=models.Index(condition=models.Q(('review_by', 'eac'), ('state__in', ('open', 'info_requested'))), fields=['site', 'opened_at', 'id'], include=('criterion_id', 'cohort'), name='escalation_eac_site'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='escalation',
            trigger=pgtrigger.compiler.Trigger(name='escalation_copies_site_and_cohort', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF NEW.site_id IS NULL OR NEW.cohort IS NULL OR NEW.cohort = '' THEN SELECT p.site_id, p.cohort INTO NEW.site_id, NEW.cohort FROM participants_participant p WHERE p.id = NEW.participant_id; END IF; RETURN NEW;", hash='34916084f762867957206f1c4d019f7aa774a9f4', operation='INSERT OR UPDATE OF "site_id", "cohort"', pgid='pgtrigger_escalation_copies_site_and_cohort_9f819', table='adjudication_escalation', when='BEFORE')),
        ),
    ]
