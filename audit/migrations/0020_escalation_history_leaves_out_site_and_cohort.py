"""The escalation's history leaves out its copy of the participant's site and cohort (adjudication
0006): the trigger names the columns it compares, so filling the copy writes no event."""


import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0019_time_index_of_later_history_tables'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='trackedescalation',
            name='audit_update',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedescalation',
            trigger=pgtrigger.compiler.Trigger(name='audit_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."claimed_at" IS DISTINCT FROM (NEW."claimed_at") OR OLD."claimed_by_id" IS DISTINCT FROM (NEW."claimed_by_id") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."criterion_id" IS DISTINCT FROM (NEW."criterion_id") OR OLD."criterion_quote" IS DISTINCT FROM (NEW."criterion_quote") OR OLD."criterion_rule" IS DISTINCT FROM (NEW."criterion_rule") OR OLD."criterion_title" IS DISTINCT FROM (NEW."criterion_title") OR OLD."engine_reason" IS DISTINCT FROM (NEW."engine_reason") OR OLD."evidence" IS DISTINCT FROM (NEW."evidence") OR OLD."evidence_digest" IS DISTINCT FROM (NEW."evidence_digest") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."info_requested_version" IS DISTINCT FROM (NEW."info_requested_version") OR OLD."latest_result_id" IS DISTINCT FROM (NEW."latest_result_id") OR OLD."opened_at" IS DISTINCT FROM (NEW."opened_at") OR OLD."participant_id" IS DISTINCT FROM (NEW."participant_id") OR OLD."previous_digest" IS DISTINCT FROM (NEW."previous_digest") OR OLD."previous_evidence" IS DISTINCT FROM (NEW."previous_evidence") OR OLD."review_by" IS DISTINCT FROM (NEW."review_by") OR OLD."round" IS DISTINCT FROM (NEW."round") OR OLD."state" IS DISTINCT FROM (NEW."state") OR OLD."state_note" IS DISTINCT FROM (NEW."state_note") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at"))', func='INSERT INTO "audit_escalationevent" ("claimed_at", "claimed_by_id", "created_at", "criterion_id", "criterion_quote", "criterion_rule", "criterion_title", "engine_reason", "evidence", "evidence_digest", "id", "info_requested_version", "latest_result_id", "opened_at", "participant_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "previous_digest", "previous_evidence", "review_by", "round", "state", "state_note", "updated_at") VALUES (NEW."claimed_at", NEW."claimed_by_id", NEW."created_at", NEW."criterion_id", NEW."criterion_quote", NEW."criterion_rule", NEW."criterion_title", NEW."engine_reason", NEW."evidence", NEW."evidence_digest", NEW."id", NEW."info_requested_version", NEW."latest_result_id", NEW."opened_at", NEW."participant_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'update\', NEW."id", NEW."previous_digest", NEW."previous_evidence", NEW."review_by", NEW."round", NEW."state", NEW."state_note", NEW."updated_at"); RETURN NULL;', hash='9b4f313caf7171ebf16c8e2fdf1314e1ed8c4b1e', operation='UPDATE', pgid='pgtrigger_audit_update_242b4', table='adjudication_escalation', when='AFTER')),
        ),
    ]
