"""The fast path of re-evaluation: enqueue with de-duplication, and the periodic sweep.

The database mark (Participant.reevaluation_requested_at) is the truth; Redis keys only save work.
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
from datetime import datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from participants.models import Participant
from screening.models import Trigger

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
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


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


def enqueue(participant_id: int, reason: str, trigger: Trigger = Trigger.DATA_CHANGE) -> bool:
    """Queue a re-evaluation unless one is already queued. False if the broker refused it; the
    participant's mark then waits for the sweep."""
    from screening.tasks import reevaluate_participant

    countdown = claim_enqueue(participant_id)
    if countdown is None:
        return True
    try:
        reevaluate_participant.apply_async(
            (participant_id, reason[:300], str(trigger)), countdown=countdown or None
        )
    except Exception:  # broker unreachable: the database mark remains for the sweep
        release_enqueue(participant_id)
        log.warning(
            "could not enqueue re-evaluation of participant %s; the sweep will", participant_id, exc_info=True
        )
        return False
    return True


# --- The sweep ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    stale: int
    expired: int
    batches: int
    enqueue_failed: bool = False


def stale_marks(now: datetime) -> list[int]:
    """Participants still marked long after the change: their task was lost or never queued."""
    cutoff = now - timedelta(seconds=settings.REEVALUATION_STALE_SECONDS)
    return list(
        Participant.objects.filter(reevaluation_requested_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def expired_results(now: datetime) -> list[int]:
    """Unmarked participants whose latest result's valid_until has passed and that were not
    evaluated today (an evaluation today saw today's date: nothing more can change)."""
    today = timezone.localdate(now)
    day_start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    return list(
        Participant.objects.filter(reevaluation_requested_at__isnull=True, status_valid_until__lt=today)
        .filter(Q(evaluated_at__isnull=True) | Q(evaluated_at__lt=day_start))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def sweep(now: datetime | None = None) -> SweepResult:
    """Mark and enqueue, in batches, the participants the fast path missed or time has changed.

    Two queries select, one UPDATE per batch marks (the mark's time is renewed, so the next
    sweep leaves them to the queued batch for REEVALUATION_STALE_SECONDS), one message per batch."""
    from screening.tasks import reevaluate_participants

    now = now or timezone.now()
    size = max(1, settings.REEVALUATION_SWEEP_BATCH_SIZE)
    stale = stale_marks(now)
    expired = expired_results(now)
    cutoff = now - timedelta(seconds=settings.REEVALUATION_STALE_SECONDS)
    batches = 0
    work = [
        (stale, Q(reevaluation_requested_at__lt=cutoff), Trigger.SWEEP),
        (expired, Q(reevaluation_requested_at__isnull=True), Trigger.EXPIRY),
    ]
    for ids, still_due, trigger in work:
        for batch in _batches(ids, size):
            Participant.objects.filter(still_due, pk__in=batch).update(reevaluation_requested_at=now)
            try:
                reevaluate_participants.apply_async((batch, str(trigger)))
            except Exception:
                log.warning("sweep could not enqueue; the marks remain for the next sweep", exc_info=True)
                return SweepResult(len(stale), len(expired), batches, enqueue_failed=True)
            batches += 1
    if stale or expired:
        log.info("sweep: %s stale marks, %s expired results, %s batches", len(stale), len(expired), batches)
    return SweepResult(len(stale), len(expired), batches)
