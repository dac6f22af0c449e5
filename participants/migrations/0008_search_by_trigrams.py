"""The dashboard's search by part of a screening number reads the matches from a trigram index."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
import django.db.models.functions.text
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('participants', '0007_participant_id_site_cohort'),
    ]

    operations = [
        TrigramExtension(),
        # The index as the model declares it; Django 5.2 writes the operator class of an
        # expression inside its parentheses for GIN, which PostgreSQL refuses.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'CREATE INDEX "participant_number_trgm" ON "participants_participant"'
                    ' USING gin (UPPER("screening_number") gin_trgm_ops)',
                    'DROP INDEX "participant_number_trgm"',
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name='participant',
                    index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('screening_number'), name='gin_trgm_ops'), name='participant_number_trgm'),
                ),
            ],
        ),
    ]
