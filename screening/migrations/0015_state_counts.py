"""The number of states per (site, cohort, status, outcome), kept by statement triggers on the
states with transition tables, so that the dashboard's status counts read a few rows whatever the
population (docs/performance.md)."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0007_participant_id_site_cohort'),
        ('screening', '0014_criterionresult_review_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='StateCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cohort', models.CharField(choices=[('SLE', 'SLE'), ('IIM', 'IIM'), ('SSc', 'SSc')], max_length=3)),
                ('status', models.CharField(choices=[('NOT_EVALUATED', 'Not evaluated yet'), ('ELIGIBLE', 'Eligible'), ('INELIGIBLE', 'Ineligible'), ('INCOMPLETE', 'Incomplete'), ('PENDING_REVIEW', 'Pending review')], max_length=20)),
                ('outcome', models.CharField(choices=[('in_screening', 'In screening'), ('enrolled', 'Enrolled'), ('screen_failed', 'Screen failed'), ('withdrawn', 'Withdrawn before enrollment')], max_length=20)),
                ('n', models.IntegerField()),
            ],
        ),
        migrations.AddField(
            model_name='statecount',
            name='site',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='screening_state_counts', to='participants.site'),
        ),
        migrations.AddConstraint(
            model_name='statecount',
            constraint=models.UniqueConstraint(fields=('site', 'cohort', 'status', 'outcome'), name='state_count_key'),
        ),
        migrations.AddConstraint(
            model_name='statecount',
            constraint=models.CheckConstraint(condition=models.Q(('n__gte', 0)), name='state_count_not_negative'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstate',
            trigger=pgtrigger.compiler.Trigger(name='state_counts_insert', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE uncounted integer;', func="WITH change AS (SELECT site_id, cohort, status, outcome, sum(n) AS n FROM (SELECT site_id, cohort, status, outcome, 1 AS n FROM new_states) AS d GROUP BY site_id, cohort, status, outcome HAVING sum(n) <> 0), applied AS (INSERT INTO screening_statecount AS c (site_id, cohort, status, outcome, n) SELECT site_id, cohort, status, outcome, greatest(n, 0) FROM change ORDER BY site_id, cohort, status, outcome ON CONFLICT (site_id, cohort, status, outcome) DO UPDATE SET n = c.n + (SELECT d.n FROM change d WHERE d.site_id = EXCLUDED.site_id AND d.cohort = EXCLUDED.cohort AND d.status = EXCLUDED.status AND d.outcome = EXCLUDED.outcome)) SELECT count(*) INTO uncounted FROM change d WHERE d.n < 0 AND NOT EXISTS (SELECT FROM screening_statecount c WHERE d.site_id = c.site_id AND d.cohort = c.cohort AND d.status = c.status AND d.outcome = c.outcome); IF uncounted > 0 THEN RAISE EXCEPTION 'state counts: % keys lose states they never counted (rebuild them: screening.state_counts.rebuild_state_counts)', uncounted; END IF; RETURN NULL;", hash='b5ffeb7a58610251f8ef401468feec4f30e5b333', level='STATEMENT', operation='INSERT', pgid='pgtrigger_state_counts_insert_56286', referencing='REFERENCING NEW TABLE AS new_states ', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstate',
            trigger=pgtrigger.compiler.Trigger(name='state_counts_update', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE uncounted integer;', func="WITH change AS (SELECT site_id, cohort, status, outcome, sum(n) AS n FROM (SELECT site_id, cohort, status, outcome, 1 AS n FROM new_states UNION ALL SELECT site_id, cohort, status, outcome, -1 AS n FROM old_states) AS d GROUP BY site_id, cohort, status, outcome HAVING sum(n) <> 0), applied AS (INSERT INTO screening_statecount AS c (site_id, cohort, status, outcome, n) SELECT site_id, cohort, status, outcome, greatest(n, 0) FROM change ORDER BY site_id, cohort, status, outcome ON CONFLICT (site_id, cohort, status, outcome) DO UPDATE SET n = c.n + (SELECT d.n FROM change d WHERE d.site_id = EXCLUDED.site_id AND d.cohort = EXCLUDED.cohort AND d.status = EXCLUDED.status AND d.outcome = EXCLUDED.outcome)) SELECT count(*) INTO uncounted FROM change d WHERE d.n < 0 AND NOT EXISTS (SELECT FROM screening_statecount c WHERE d.site_id = c.site_id AND d.cohort = c.cohort AND d.status = c.status AND d.outcome = c.outcome); IF uncounted > 0 THEN RAISE EXCEPTION 'state counts: % keys lose states they never counted (rebuild them: screening.state_counts.rebuild_state_counts)', uncounted; END IF; RETURN NULL;", hash='60251797b2d5308c6d4074bafd61370b2afce304', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_state_counts_update_43f94', referencing='REFERENCING OLD TABLE AS old_states  NEW TABLE AS new_states ', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstate',
            trigger=pgtrigger.compiler.Trigger(name='state_counts_delete', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE uncounted integer;', func="WITH change AS (SELECT site_id, cohort, status, outcome, sum(n) AS n FROM (SELECT site_id, cohort, status, outcome, -1 AS n FROM old_states) AS d GROUP BY site_id, cohort, status, outcome HAVING sum(n) <> 0), applied AS (INSERT INTO screening_statecount AS c (site_id, cohort, status, outcome, n) SELECT site_id, cohort, status, outcome, greatest(n, 0) FROM change ORDER BY site_id, cohort, status, outcome ON CONFLICT (site_id, cohort, status, outcome) DO UPDATE SET n = c.n + (SELECT d.n FROM change d WHERE d.site_id = EXCLUDED.site_id AND d.cohort = EXCLUDED.cohort AND d.status = EXCLUDED.status AND d.outcome = EXCLUDED.outcome)) SELECT count(*) INTO uncounted FROM change d WHERE d.n < 0 AND NOT EXISTS (SELECT FROM screening_statecount c WHERE d.site_id = c.site_id AND d.cohort = c.cohort AND d.status = c.status AND d.outcome = c.outcome); IF uncounted > 0 THEN RAISE EXCEPTION 'state counts: % keys lose states they never counted (rebuild them: screening.state_counts.rebuild_state_counts)', uncounted; END IF; RETURN NULL;", hash='b5d0e0c44338c80fc4dadc4febe22f5997685fe2', level='STATEMENT', operation='DELETE', pgid='pgtrigger_state_counts_delete_8b258', referencing='REFERENCING OLD TABLE AS old_states ', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstate',
            trigger=pgtrigger.compiler.Trigger(name='state_counts_truncate', sql=pgtrigger.compiler.UpsertTriggerSql(func='DELETE FROM screening_statecount; RETURN NULL;', hash='513801856fb659d8c7805413310c21f8b15a4edd', level='STATEMENT', operation='TRUNCATE', pgid='pgtrigger_state_counts_truncate_af152', table='screening_screeningstate', when='AFTER')),
        ),
        # Counted after the triggers exist: creating them locks the state table against writers
        # until this migration commits, so no state is missed or counted twice.
        migrations.RunSQL(
            "INSERT INTO screening_statecount (site_id, cohort, status, outcome, n)"
            " SELECT site_id, cohort, status, outcome, count(*) FROM screening_screeningstate"
            " GROUP BY site_id, cohort, status, outcome ORDER BY site_id, cohort, status, outcome",
            migrations.RunSQL.noop,
        ),
    ]
