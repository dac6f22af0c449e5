"""The runtime database role (docs/deployment.md, docs/security.md § Audit trail).

Migrations run as the owner of the tables; the application connects as a role that owns nothing,
so it can never ALTER (for example DISABLE TRIGGER), DROP or TRUNCATE a table. On the history
tables (the event tables and audit_securityevent) it may only SELECT and INSERT: UPDATE, DELETE and
TRUNCATE are refused by privileges, and by the tables' own triggers as well.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from psycopg import sql

from .models import HISTORY_MODELS


def history_tables() -> list[str]:
    return sorted(model._meta.db_table for model in HISTORY_MODELS)


def application_tables() -> list[str]:
    """Every table of an installed model that exists (not views), and the migrations' own table."""
    models = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    existing = set(connection.introspection.table_names(include_views=False))
    return sorted((models | {"django_migrations"}) & existing)


def runtime_grants(role: str) -> list[sql.Composed]:
    """The statements that give `role` exactly the runtime privileges. Run by the owner after every
    migration (`manage.py grant_runtime_role`); idempotent."""
    name = sql.Identifier(role)
    history = set(history_tables())
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
    ]
    for table in application_tables():
        if table == "django_migrations":
            privileges = sql.SQL("SELECT")
        elif table in history:
            privileges = sql.SQL("SELECT, INSERT")
        else:
            privileges = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
        statements += [
            sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), name),
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, sql.Identifier(table), name),
        ]
    return statements


def grant_runtime_role(role: str) -> None:
    with connection.cursor() as cursor:
        for statement in runtime_grants(role):
            cursor.execute(statement)
