"""Track screening.ScreeningState (2 of 2): the participant's events without the columns that moved,
its triggers again, and the state's triggers."""

import audit.models
import django.db.models.deletion
import pghistory.utils
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models




class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_track_screening_state"),
        ("participants", "0003_evaluation_columns_to_screening"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='participantevent',
            name='status',
        ),
        migrations.RemoveField(
            model_name='participantevent',
            name='status_valid_until',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedparticipant',
            trigger=pgtrigger.compiler.Trigger(name='audit_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "audit_participantevent" ("birth_date", "cohort", "created_at", "created_by_id", "icf_signed", "id", "lupus_nephritis", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_day0", "planned_enrollment", "screening_number", "screening_sequence", "screening_start", "sex", "site_id") VALUES (NEW."birth_date", NEW."cohort", NEW."created_at", NEW."created_by_id", NEW."icf_signed", NEW."id", NEW."lupus_nephritis", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'insert\', NEW."id", NEW."planned_day0", NEW."planned_enrollment", NEW."screening_number", NEW."screening_sequence", NEW."screening_start", NEW."sex", NEW."site_id"); RETURN NULL;', hash='06e3b99944cd1ea36c4c30f029a50646ee165278', operation='INSERT', pgid='pgtrigger_audit_insert_9c2dd', table='participants_participant', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedparticipant',
            trigger=pgtrigger.compiler.Trigger(name='audit_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."birth_date" IS DISTINCT FROM (NEW."birth_date") OR OLD."cohort" IS DISTINCT FROM (NEW."cohort") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."created_by_id" IS DISTINCT FROM (NEW."created_by_id") OR OLD."icf_signed" IS DISTINCT FROM (NEW."icf_signed") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."lupus_nephritis" IS DISTINCT FROM (NEW."lupus_nephritis") OR OLD."planned_day0" IS DISTINCT FROM (NEW."planned_day0") OR OLD."planned_enrollment" IS DISTINCT FROM (NEW."planned_enrollment") OR OLD."screening_number" IS DISTINCT FROM (NEW."screening_number") OR OLD."screening_sequence" IS DISTINCT FROM (NEW."screening_sequence") OR OLD."screening_start" IS DISTINCT FROM (NEW."screening_start") OR OLD."sex" IS DISTINCT FROM (NEW."sex") OR OLD."site_id" IS DISTINCT FROM (NEW."site_id"))', func='INSERT INTO "audit_participantevent" ("birth_date", "cohort", "created_at", "created_by_id", "icf_signed", "id", "lupus_nephritis", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_day0", "planned_enrollment", "screening_number", "screening_sequence", "screening_start", "sex", "site_id") VALUES (NEW."birth_date", NEW."cohort", NEW."created_at", NEW."created_by_id", NEW."icf_signed", NEW."id", NEW."lupus_nephritis", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'update\', NEW."id", NEW."planned_day0", NEW."planned_enrollment", NEW."screening_number", NEW."screening_sequence", NEW."screening_start", NEW."sex", NEW."site_id"); RETURN NULL;', hash='b1127f584b282713863264c420936ae51044ad4c', operation='UPDATE', pgid='pgtrigger_audit_update_4e866', table='participants_participant', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedparticipant',
            trigger=pgtrigger.compiler.Trigger(name='audit_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "audit_participantevent" ("birth_date", "cohort", "created_at", "created_by_id", "icf_signed", "id", "lupus_nephritis", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "planned_day0", "planned_enrollment", "screening_number", "screening_sequence", "screening_start", "sex", "site_id") VALUES (OLD."birth_date", OLD."cohort", OLD."created_at", OLD."created_by_id", OLD."icf_signed", OLD."id", OLD."lupus_nephritis", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'delete\', OLD."id", OLD."planned_day0", OLD."planned_enrollment", OLD."screening_number", OLD."screening_sequence", OLD."screening_start", OLD."sex", OLD."site_id"); RETURN NULL;', hash='2d70a9344df7d6ecff1271461f8d60f1ef845b05', operation='DELETE', pgid='pgtrigger_audit_delete_61176', table='participants_participant', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedscreeningstate',
            trigger=pgtrigger.compiler.Trigger(name='audit_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "audit_screeningstateevent" ("participant_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "status_valid_until") VALUES (NEW."participant_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'insert\', NEW."participant_id", NEW."status", NEW."status_valid_until"); RETURN NULL;', hash='2d761d63bbf81b9e5141c9356cb2980c80cbec92', operation='INSERT', pgid='pgtrigger_audit_insert_33bb6', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedscreeningstate',
            trigger=pgtrigger.compiler.Trigger(name='audit_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."participant_id" IS DISTINCT FROM (NEW."participant_id") OR OLD."status" IS DISTINCT FROM (NEW."status") OR OLD."status_valid_until" IS DISTINCT FROM (NEW."status_valid_until"))', func='INSERT INTO "audit_screeningstateevent" ("participant_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "status_valid_until") VALUES (NEW."participant_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'update\', NEW."participant_id", NEW."status", NEW."status_valid_until"); RETURN NULL;', hash='b7af4a34cc02c43488fdb6884e1775134d1355d6', operation='UPDATE', pgid='pgtrigger_audit_update_a947a', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='trackedscreeningstate',
            trigger=pgtrigger.compiler.Trigger(name='audit_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "audit_screeningstateevent" ("participant_id", "pgh_context", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "status_valid_until") VALUES (OLD."participant_id", COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_metadata\', TRUE), \'\'), NULL)::JSONB, COALESCE(NULLIF(CURRENT_SETTING(\'pghistory.context_id\', TRUE), \'\'), NULL)::UUID, NOW(), \'delete\', OLD."participant_id", OLD."status", OLD."status_valid_until"); RETURN NULL;', hash='6a4527621fe301f4515414fe6744eb790f531065', operation='DELETE', pgid='pgtrigger_audit_delete_9c339', table='screening_screeningstate', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningstateevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='29c147cca2729604b676eb73bddf4dae79ccc8ee', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_50db9', table='audit_screeningstateevent', when='BEFORE')),
        ),
    ]
