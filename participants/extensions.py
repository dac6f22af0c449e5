"""What the layers above contribute to the participants layer's pages, without an upward import.

The site dashboard lists participants (this layer) with what their latest evaluation says (the
evaluation layer, screening). Screening provides that reading here in ScreeningConfig.ready(); the
dashboard asks for it through `expiring_soon`. Likewise the protocol version a site uses on a day
(screening.protocols), which the case document names: `protocol_version_in_force`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# The evaluation layer's one-to-one row of a participant (screening.ScreeningState: the mark and
# the latest status), reached by its relation name as a plain ORM lookup, never by importing it:
# the dashboard filters, counts and orders by it in its own queries.
STATE_RELATION = "screening_state"
STATE = STATE_RELATION + "__"
# The evaluation layer's number of states per (site, cohort, status, outcome) (screening.StateCount,
# kept exact by the database), reached by the site's relation to it.
STATE_COUNT_RELATION = "screening_state_counts"

# Results of the latest evaluation whose valid-until date falls within this many days are
# "expiring soon" (the dashboard's list and the participant page's flags).
EXPIRING_DAYS = 7

# (site IDs or None for every site, a site code or "", horizon, participants, results shown each)
ExpiringSoon = Callable[[Sequence[int] | None, str, date, int, int], list[tuple[Any, ...]]]

_expiring_soon: list[ExpiringSoon] = []


def provide_expiring_soon(reader: ExpiringSoon) -> None:
    """Called once by the evaluation layer: the participants whose latest results stop holding
    soon, with their first few such results, as one query (screening.selectors.expiring_soon)."""
    _expiring_soon[:] = [reader]


def expiring_soon(
    site_ids: Sequence[int] | None, site_code: str, horizon: date, participants: int, shown: int
) -> list[tuple[Any, ...]]:
    if not _expiring_soon:
        raise ImproperlyConfigured("no app provides the latest evaluation results (screening)")
    return _expiring_soon[0](site_ids, site_code, horizon, participants, shown)


VersionInForce = Callable[[int, date], str]

_version_in_force: list[VersionInForce] = []


def provide_protocol_version_in_force(reader: VersionInForce) -> None:
    """Called once by the evaluation layer: `reader(site_id, day)` gives the protocol version the
    site uses that day."""
    _version_in_force[:] = [reader]


def protocol_version_in_force(site_id: int, on: date) -> str:
    if not _version_in_force:
        raise ImproperlyConfigured("no app decides the protocol version in force (screening)")
    return _version_in_force[0](site_id, on)
