"""The fast path's pieces below the tasks: the trigger of a change, de-duplication keys, and the
sweep's select-and-mark statements. screening.tasks sends the messages (`enqueue`, `sweep`).

The database mark (ScreeningState.reevaluation_requested_at) is the truth; Redis keys only save work.
Per participant, two short-lived keys:

- `queued`: a task is in the queue and has not started. Set with SET NX after commit; while it
  exists further changes enqueue nothing. The task deletes it *before* it reads the data, so a
  change committed after that enqueues a new task: no change is ever left unevaluated.
- `recent`: a task started less than REEVALUATION_DEBOUNCE_SECONDS ago. A new task is enqueued with
  a countdown of the key's remaining life, so a burst of changes costs a few evaluations at most.

Losing either key (Redis restart, expiry) costs at most a duplicate task, which `only_if_marked`
turns into a no-op, or a delay until the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from participants.models import OutcomeStatus, Participant
from screening.models import ScreeningState, SiteApproval, Trigger

log = logging.getLogger(__name__)

_trigger: ContextVar[Trigger] = ContextVar("reevaluation_trigger", default=Trigger.DATA_CHANGE)


@contextmanager
def reevaluation_trigger(trigger: Trigger) -> Iterator[None]:
    """Changes requested inside this block are evaluated with `trigger` (e.g. a lab import)."""
    token = _trigger.set(trigger)
    try:
        yield
    finally:
        _trigger.reset(token)


def current_trigger() -> Trigger:
    return _trigger.get()


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    timeout = settings.REDIS_SOCKET_TIMEOUT
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)


def _key(kind: str, participant_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:reeval:{kind}:{participant_id}"


def claim_enqueue(participant_id: int) -> float | None:
    """None if a task for the participant is already queued; else the countdown (seconds) for the
    new task. If Redis does not answer, enqueue at once: a duplicate is harmless."""
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.set(_key("queued", participant_id), 1, nx=True, ex=settings.REEVALUATION_QUEUED_TTL_SECONDS)
        pipe.pttl(_key("recent", participant_id))
        claimed, remaining_ms = pipe.execute()
    except redis.RedisError:
        log.warning("de-duplication unavailable for participant %s", participant_id, exc_info=True)
        return 0.0
    if not claimed:
        return None
    return max(0, remaining_ms) / 1000


def release_enqueue(participant_id: int) -> None:
    """The enqueue failed: let the next change try again."""
    try:
        _redis().delete(_key("queued", participant_id))
    except redis.RedisError:
        pass


def task_started(participant_id: int) -> None:
    """Called by the task before it reads the participant: changes from now on enqueue anew, no
    earlier than the debounce interval from now."""
    debounce_ms = int(settings.REEVALUATION_DEBOUNCE_SECONDS * 1000)
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.delete(_key("queued", participant_id))
        if debounce_ms > 0:
            pipe.set(_key("recent", participant_id), 1, px=debounce_ms)
        pipe.execute()
    except redis.RedisError:
        log.warning("de-duplication unavailable for participant %s", participant_id, exc_info=True)


def mark(participant_id: int, now: datetime) -> None:
    """Set the participant's mark in the caller's transaction, in one statement that also creates
    the state row if the participant has none yet (waits for an evaluation holding the row)."""
    mark_many([participant_id], now)


def mark_many(participant_ids: list[int], now: datetime) -> None:
    """`mark` for many participants in one statement (IDs in order, so concurrent callers lock the
    state rows in the same order)."""
    ScreeningState.objects.bulk_create(
        [ScreeningState(participant_id=pk, reevaluation_requested_at=now) for pk in sorted(participant_ids)],
        update_conflicts=True,
        unique_fields=["participant"],
        update_fields=["reevaluation_requested_at"],
    )


# --- The sweep ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    stale: int
    expired: int
    batches: int
    enqueue_failed: bool = False
    amended: int = 0


# One statement per group selects and marks (renewing the mark's time, so that the next sweep leaves
# these participants to their queued batch for REEVALUATION_STALE_SECONDS). The ORM has no
# UPDATE ... RETURNING; the conditions are the ones documented in docs/reevaluation.md.
_MARK_STALE = """
    UPDATE {table} SET reevaluation_requested_at = %(now)s
    WHERE reevaluation_requested_at < %(cutoff)s AND outcome = %(in_screening)s
    RETURNING participant_id"""
_MARK_EXPIRED = """
    UPDATE {table} SET reevaluation_requested_at = %(now)s
    WHERE reevaluation_requested_at IS NULL AND status_valid_until < %(today)s
      AND (evaluated_at IS NULL OR evaluated_at < %(day_start)s) AND outcome = %(in_screening)s
    RETURNING participant_id"""


def _mark(sql: str, **params: object) -> list[int]:
    """Run a marking statement; participants whose screening has ended are never marked."""
    params["in_screening"] = OutcomeStatus.IN_SCREENING.value
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=connection.ops.quote_name(ScreeningState._meta.db_table)), params)
        return sorted(row[0] for row in cursor.fetchall())


def mark_stale(now: datetime) -> list[int]:
    """Mark anew, and return, the participants marked longer than REEVALUATION_STALE_SECONDS ago
    (broker down, task lost)."""
    return _mark(_MARK_STALE, now=now, cutoff=now - timedelta(seconds=settings.REEVALUATION_STALE_SECONDS))


def mark_expired(now: datetime) -> list[int]:
    """Mark, and return, the unmarked participants whose status_valid_until is before today and
    who were not evaluated today (an evaluation today already saw today's date)."""
    today = timezone.localdate(now)
    day_start = timezone.make_aware(datetime.combine(today, time.min))
    return _mark(_MARK_EXPIRED, now=now, today=today, day_start=day_start)


# Applies the approvals whose day has come in the same statement that marks their sites'
# participants: a concurrent sweep waits on the approval rows, then finds them applied.
_MARK_AMENDED = """
    WITH due AS (
        UPDATE {approvals} SET applied_at = %(now)s
        WHERE applied_at IS NULL AND approved_on <= %(today)s
        RETURNING site_id
    )
    UPDATE {table} AS state SET reevaluation_requested_at = %(now)s
    FROM {participants} AS participant
    WHERE participant.id = state.participant_id AND participant.site_id IN (SELECT site_id FROM due)
      AND state.outcome = %(in_screening)s
    RETURNING state.participant_id"""


def mark_amended(now: datetime) -> list[int]:
    """Apply the site approvals whose day has come and that are not applied yet: stamp them
    applied, and mark, and return, every participant of their sites still in screening. One
    statement, in the caller's transaction if any."""
    quote = connection.ops.quote_name
    sql = _MARK_AMENDED.replace("{approvals}", quote(SiteApproval._meta.db_table)).replace(
        "{participants}", quote(Participant._meta.db_table)
    )
    return _mark(sql, now=now, today=timezone.localdate(now))


def batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
