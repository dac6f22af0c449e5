"""The dashboard's search by part of a screening number reads the matches from the trigram index
(participants 0008) where PostgreSQL has pg_trgm, instead of every participant of the site."""

from __future__ import annotations

import pytest
from django.db import connection

from participants.models import Participant

pytestmark = pytest.mark.django_db


def test_the_search_s_lookup_is_the_indexed_expression() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL has no pg_trgm (the embedded server): no index to use")
        sql, params = Participant.objects.filter(screening_number__icontains="0042").query.sql_with_params()
        # A table of a few rows is read whole whatever its indexes: leave the planner only bitmap
        # scans, which need an index condition, to see that the index matches the expression
        # Django writes for `icontains`.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "participant_number_trgm" in plan, plan
