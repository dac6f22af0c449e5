"""The number of screening states per (site, cohort, status, outcome) (StateCount), kept by the
state table's statement triggers. A writer that turns the triggers off (`session_replication_role
= replica`: the seeding's bulk copies) calls `rebuild_state_counts` in the same transaction."""

from __future__ import annotations

from django.db import connection, transaction

from .models import STATE_COUNT_KEY, ScreeningState, StateCount


def rebuild_state_counts() -> None:
    """Replace the counts by a count of the states, in the caller's transaction (or one of its
    own). The state table is locked against other writers first (SHARE: readers go on), so that
    no change the count misses, or counts twice, commits meanwhile."""
    counts, states = StateCount._meta.db_table, ScreeningState._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {states} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {counts}")
        cursor.execute(
            f"INSERT INTO {counts} ({STATE_COUNT_KEY}, n)"
            f" SELECT {STATE_COUNT_KEY}, count(*) FROM {states} GROUP BY {STATE_COUNT_KEY} ORDER BY {STATE_COUNT_KEY}"
        )
