from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from adjudication.population import HISTORY_OF_BULK_INSERTS, HISTORY_TABLE_OF

        from . import export_jobs, login_throttle, signals  # noqa: F401 - connect the security-event receivers
        from .models import history_table, insert_events_sql

        HISTORY_OF_BULK_INSERTS.append(insert_events_sql)
        HISTORY_TABLE_OF.append(history_table)
        export_jobs.register()  # the screening log and the audit trail as worker-written files
