"""The history cannot be erased by the application: run as the runtime role (created here, on the
test database, as compose's init script and `manage.py grant_runtime_role` create it in a
deployment) and try every way to change it from raw SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import EVENT_MODELS, SecurityEvent, SecurityEventKind
from audit.roles import grant_runtime_role, history_tables
from participants.models import LabResult, Participant

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db

RUNTIME_ROLE = "allo329_test_runtime"


@pytest.fixture
def runtime_role() -> Iterator[str]:
    """The runtime role with its grants, and a participant with history to attack."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {RUNTIME_ROLE}")
        cursor.execute(f"CREATE ROLE {RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    grant_runtime_role(RUNTIME_ROLE)
    yield RUNTIME_ROLE
    # The role's grants live in the test transaction, which is rolled back; the role itself is
    # a cluster object, created inside that transaction too, so nothing remains.


def _as_role(role: str, statement: str) -> None:
    """Run `statement` as `role` in a savepoint, so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(statement)


@pytest.fixture
def history(runtime_role: str, coordinator_a, site_a) -> str:  # type: ignore[no-untyped-def]
    ParticipantFactory(site=site_a, created_by=coordinator_a)
    SecurityEvent.objects.create(kind=SecurityEventKind.LOGIN, username="someone")
    table = EVENT_MODELS[Participant]._meta.db_table
    assert EVENT_MODELS[Participant].objects.exists()
    return table


def test_the_runtime_role_writes_the_application_tables(runtime_role: str, coordinator_a, site_a) -> None:  # type: ignore[no-untyped-def]
    participant = ParticipantFactory(site=site_a, created_by=coordinator_a)
    # An insert into a tracked table fires the history trigger, which inserts as the runtime role.
    _as_role(
        runtime_role,
        f"UPDATE {Participant._meta.db_table} SET cohort = cohort WHERE id = {participant.pk}",
    )
    _as_role(runtime_role, f"SELECT count(*) FROM {LabResult._meta.db_table}")
    _as_role(
        runtime_role,
        f"INSERT INTO {SecurityEvent._meta.db_table} (kind, username, role, detail) "
        "VALUES ('login', 'x', '', '{}')",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET pgh_label = 'forged'",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TABLE {table}",
        "UPDATE audit_securityevent SET username = 'forged'",
        "DELETE FROM audit_securityevent",
        "TRUNCATE audit_securityevent",
        "ALTER TABLE audit_securityevent DISABLE TRIGGER ALL",
    ],
)
def test_the_runtime_role_cannot_change_or_erase_the_history(history: str, statement: str) -> None:
    before = EVENT_MODELS[Participant].objects.count(), SecurityEvent.objects.count()
    with pytest.raises(DatabaseError) as refused:
        _as_role(RUNTIME_ROLE, statement.format(table=history))
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
    assert (EVENT_MODELS[Participant].objects.count(), SecurityEvent.objects.count()) == before


def test_every_history_table_is_select_and_insert_only_for_the_runtime_role(runtime_role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type)"
            " FROM information_schema.role_table_grants WHERE grantee = %s GROUP BY table_name",
            [runtime_role],
        )
        granted = dict(cursor.fetchall())
    for table in history_tables():
        assert granted[table] == "INSERT,SELECT", table
    assert granted[Participant._meta.db_table] == "DELETE,INSERT,SELECT,UPDATE"


def test_a_statement_trigger_refuses_truncate_even_with_the_privilege(history: str) -> None:
    """Privileges are one guard; the trigger is another, for a role that was given TRUNCATE."""
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {RUNTIME_ROLE}")
        # The fixture's rows were inserted in this transaction: check their foreign keys now, or
        # PostgreSQL refuses the TRUNCATE for its pending checks before the trigger is reached.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in history_tables():
        with pytest.raises(DatabaseError, match="cannot be truncated"):
            _as_role(RUNTIME_ROLE, f"TRUNCATE {table}")
    assert EVENT_MODELS[Participant].objects.exists() and SecurityEvent.objects.exists()


def test_every_history_table_has_the_truncate_trigger() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname LIKE 'pgtrigger_no_truncate_%%' AND t.tgenabled = 'O'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert set(history_tables()) <= protected
