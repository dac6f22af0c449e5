"""Rows written with PostgreSQL's COPY (psycopg 3) instead of INSERT: staging writes tens of
thousands of rows, and COPY spares the statement per batch and its parameters. Values are prepared
by each field as an INSERT would (`pre_save`, `get_db_prep_save`: auto_now_add, JSON), and row
triggers (the history) fire for COPY as for INSERT."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys from the table's sequence, for rows that others point to."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[models.Model], objects: Sequence[models.Model], *, with_ids: bool = False) -> None:
    """Write `objects` (unsaved instances) with one COPY. `with_ids`: their `pk` is set (reserve_ids);
    otherwise the table's default numbers them."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(statement) as copy:  # the psycopg cursor under Django's wrapper
            for obj in objects:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, add=True), connection=connection) for f in fields]
                )
