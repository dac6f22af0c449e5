"""The state's trigger fills the site and cohort only where the writer left them out (the foreign key
refuses other values): rows written with them, as the sweep's are, cost no lookup."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0012_state_expiring_indexes'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='screeningstate',
            name='state_copies_site_and_cohort',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstate',
            trigger=pgtrigger.compiler.Trigger(name='state_copies_site_and_cohort', sql=pgtrigger.compiler.UpsertTriggerSql(func="IF NEW.site_id IS NULL OR NEW.cohort IS NULL OR NEW.cohort = '' THEN SELECT p.site_id, p.cohort INTO NEW.site_id, NEW.cohort FROM participants_participant p WHERE p.id = NEW.participant_id; END IF; RETURN NEW;", hash='b1c893a3e39d66ad32c262822cf490c94772d9a8', operation='INSERT OR UPDATE OF "site_id", "cohort"', pgid='pgtrigger_state_copies_site_and_cohort_54d58', table='screening_screeningstate', when='BEFORE')),
        ),
    ]
