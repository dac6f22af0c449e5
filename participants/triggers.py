"""Database triggers that other apps' tables declare about participants."""

from __future__ import annotations

import pgtrigger

from .models import Participant


def copies_site_and_cohort(name: str) -> pgtrigger.Trigger:
    """A row that carries a copy of its participant's site and cohort (so that lists count and
    filter by its own index): filled from the participant where the writer left them out (a row
    made from the participant's ID); rows that carry them cost no lookup. The table's foreign key
    on (participant, site, cohort) to the participant's unique key refuses other values and
    cascades a change of the participant's."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf("site_id", "cohort"),
        func=(
            "IF NEW.site_id IS NULL OR NEW.cohort IS NULL OR NEW.cohort = '' THEN"
            " SELECT p.site_id, p.cohort INTO NEW.site_id, NEW.cohort"
            f" FROM {Participant._meta.db_table} p WHERE p.id = NEW.participant_id; END IF; RETURN NEW;"
        ),
    )
