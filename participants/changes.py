"""How the participants layer tells the layers above it that a participant's data changed.

The participants app knows nothing of evaluations: it counts the site's changes (`data_version`,
its own column) and announces them. Screening connects its receivers in ScreeningConfig.ready():

- `records_changed` is sent inside the caller's transaction, so that a receiver can set its own
  durable mark in the same transaction as the change (the mark is the truth, docs/reevaluation.md)
  and defer its side effects (queueing a task) with `transaction.on_commit`.
- `records_changed_many` is the same for many participants changed together (a lab import), so
  that the receiver marks them in one statement and queues them in batches.
- `records_saved` is sent by the intake pages after a coordinator's save has committed, so that
  the page that follows can show the result of the new data at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.dispatch import Signal

from .models import Participant, User

# Sent with `participant_id` and `reason`, inside the transaction that changed the data.
records_changed = Signal()

# Sent with `participant_ids` and `reason`, inside the transaction that changed the data of many
# participants at once (a lab import): one announcement, so that receivers can act in bulk.
records_changed_many = Signal()

# Sent with `participant`, `user` and `detail` after the coordinator's save committed.
records_saved = Signal()


def announce_change(participant_id: int, *, reason: str) -> None:
    """Count a change of the participant's data in the caller's transaction and announce it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("announce_change belongs inside the transaction that changed the data")
    Participant.objects.filter(pk=participant_id).update(data_version=F("data_version") + 1)
    records_changed.send(sender=Participant, participant_id=participant_id, reason=reason)


def announce_saved(participant: Participant, user: User, detail: str) -> None:
    """A coordinator's save has committed: the page about to be shown wants its result now."""
    records_saved.send(sender=Participant, participant=participant, user=user, detail=detail)


def announce_changes(changes: Mapping[int, int], *, reason: str) -> None:
    """announce_change for many participants in one statement and one announcement; `changes`:
    the number of records changed per participant ID, each counted as announce_change counts it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("announce_changes belongs inside the transaction that changed the data")
    if not changes:
        return
    by_count: dict[int, list[int]] = {}
    for pk, count in changes.items():
        by_count.setdefault(count, []).append(pk)
    increment = Case(*(When(pk__in=pks, then=Value(n)) for n, pks in sorted(by_count.items())))
    Participant.objects.filter(pk__in=list(changes)).update(data_version=F("data_version") + increment)
    records_changed_many.send(sender=Participant, participant_ids=sorted(changes), reason=reason)
