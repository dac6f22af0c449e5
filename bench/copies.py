"""Seeding for the benchmarks: copies of one participant, written in SQL.

`copy_participant` copies a participant entered through the services (its row and every current
record, 61 for the example sle-eligible) to `total - 1` new participants at the same site, and gives
every participant without one a screening state (not evaluated, in screening), as registration does.
The copy runs with the database's triggers off (`session_replication_role = replica`): it is set-up,
not measured, and the history triggers are on again for every measured step."""

from __future__ import annotations

from typing import Any


def copy_participant(first: Any, total: int, prefix: str = "BEN") -> None:
    from django.db import connection

    from participants.models import Participant
    from participants.records import RECORD_KINDS
    from screening.models import ScreeningState
    from screening.state_counts import rebuild_state_counts

    quote = connection.ops.quote_name
    table = quote(Participant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        fields = [
            f.column
            for f in Participant._meta.concrete_fields
            if f.column not in ("id", "screening_sequence", "screening_number")
        ]
        cols = ", ".join(quote(c) for c in fields)
        cursor.execute(
            f"INSERT INTO {table} ({cols}, screening_sequence, screening_number) "
            f"SELECT {cols}, screening_sequence + n, %s || '-' || lpad(n::text, 7, '0') "
            f"FROM {table} CROSS JOIN generate_series(1, %s) AS n WHERE id = %s",
            [prefix, total - 1, first.pk],
        )
        for kind in RECORD_KINDS.values():
            model = kind.model
            columns = [
                f.column for f in model._meta.concrete_fields if f.column not in ("id", "participant_id")
            ]
            cols = ", ".join(quote(c) for c in columns)
            picked = ", ".join(f"r.{quote(c)}" for c in columns)
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({cols}, participant_id) "
                f"SELECT {picked}, p.id FROM {quote(model._meta.db_table)} r "
                f"CROSS JOIN {table} p WHERE r.participant_id = %s AND p.id <> %s AND p.site_id = %s",
                [first.pk, first.pk, first.site_id],
            )
        # The state's required columns take the model's defaults (not evaluated, in screening), its
        # site and cohort the participant's (the trigger that copies them is off here).
        required = [
            f
            for f in ScreeningState._meta.concrete_fields
            if not f.null and f.column != "participant_id" and f.has_default()
        ]
        cols = ", ".join(quote(f.column) for f in required)
        placeholders = ", ".join("%s" for _ in required)
        cursor.execute(
            f"INSERT INTO {quote(ScreeningState._meta.db_table)} (participant_id, site_id, cohort, {cols}) "
            f"SELECT id, site_id, cohort, {placeholders} FROM {table} ON CONFLICT DO NOTHING",
            [f.get_db_prep_save(f.get_default(), connection) for f in required],
        )
        # The triggers that count the states were off for that insert.
        rebuild_state_counts()
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
