"""A trigram index for the dashboard's search by part of a screening number, where PostgreSQL has
the pg_trgm extension (Debian's and the official images' PostgreSQL do; the embedded server of
`make run` does not, and there the search reads the site's participants as before).

`icontains` on PostgreSQL is `UPPER(screening_number::text) LIKE UPPER('%…%')`: the index is on
that expression, so the planner finds the matches in it instead of reading every participant of
the site (docs/performance.md)."""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available: the search by screening number goes without its index';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS participant_number_trgm ON participants_participant
            USING gin (UPPER(screening_number::text) gin_trgm_ops);
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("participants", "0007_participant_id_site_cohort")]

    operations = [migrations.RunSQL(CREATE, "DROP INDEX IF EXISTS participant_number_trgm;")]
