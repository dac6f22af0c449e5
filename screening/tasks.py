"""Background re-evaluation (DESIGN.md "Re-evaluation", docs/reevaluation.md).

Tasks take IDs only, are acknowledged late (a worker lost mid-task leaves the message to be
delivered again) and idempotent: `only_if_marked` makes a repeated or duplicate task a no-op."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from participants.models import Participant, Site
from screening import criteria
from screening.evaluation import evaluate_marked, evaluate_participant
from screening.impact import CHUNK as IMPACT_CHUNK  # participants per chunk task
from screening.impact import chunks as impact_chunks
from screening.impact import combine, evaluate_chunk, in_screening_ids
from screening.models import Evaluation, Trigger
from screening.reevaluation import (
    SweepResult,
    batches,
    claim_enqueue,
    mark_amended,
    mark_expired,
    mark_stale,
    release_enqueue,
    task_started,
)

log = logging.getLogger(__name__)

# Worth another try: the database restarting, a dropped connection, a deadlock, a lock timeout.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


def _relaxed_commit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _evaluate(participant_id: int, trigger: str, detail: str = "") -> Evaluation | None:
    """One evaluation in its own transaction, committed without waiting for the disk flush: an
    evaluation lost to a database crash loses the cleared mark with it (same transaction), so the
    participant is still marked and the sweep evaluates it again."""
    with transaction.atomic():
        _relaxed_commit()
        return evaluate_participant(
            participant_id, trigger=Trigger(trigger), detail=detail, only_if_marked=True
        )


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participant(
    participant_id: int, reason: str = "", trigger: str = Trigger.DATA_CHANGE
) -> int | None:
    """Evaluate a marked participant; one no longer marked was already evaluated on its current
    data, so a repeated or duplicate task stores nothing."""
    task_started(participant_id)  # before reading: later changes enqueue a new task
    try:
        evaluation = _evaluate(participant_id, trigger, reason)
    except Participant.DoesNotExist:
        log.warning("re-evaluation of participant %s: no such participant", participant_id)
        return None
    return evaluation.pk if evaluation else None


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participants(participant_ids: list[int], trigger: str = Trigger.SWEEP) -> int:
    """A batch from the sweep, evaluated in chunks (screening.evaluation.evaluate_marked). On a retry
    or a redelivery the participants already evaluated are no longer marked and are skipped.
    Returns the number of evaluations stored."""
    stored = 0
    chunk = settings.REEVALUATION_CHUNK_SIZE
    for start in range(0, len(participant_ids), chunk):
        with transaction.atomic():
            _relaxed_commit()
            stored += len(evaluate_marked(participant_ids[start : start + chunk], trigger=Trigger(trigger)))
    return stored


@shared_task(acks_late=True, ignore_result=True)
def sweep_reevaluations() -> dict[str, int]:
    """Celery beat: re-evaluate participants still marked and those whose results have expired."""
    result = sweep()
    return {
        "stale": result.stale,
        "expired": result.expired,
        "amended": result.amended,
        "batches": result.batches,
    }


# --- Queueing (after commit) and the sweep --------------------------------------------------------


def enqueue(participant_id: int, reason: str, trigger: Trigger = Trigger.DATA_CHANGE) -> bool:
    """Queue a re-evaluation unless one is already queued. False if the broker refused it; the
    participant's mark then waits for the sweep."""
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


def enqueue_batches(ids: list[int], trigger: Trigger) -> tuple[int, bool]:
    """Send `ids` as sweep batches (REEVALUATION_SWEEP_BATCH_SIZE each) evaluated with `trigger`:
    the number of batches sent, and False if the broker refused one (the marks of the rest remain
    for a later sweep)."""
    size = max(1, settings.REEVALUATION_SWEEP_BATCH_SIZE)
    sent = 0
    for batch in batches(ids, size):
        try:
            reevaluate_participants.apply_async((batch, str(trigger)))
        except Exception:
            log.warning("could not enqueue; the marks remain for a later sweep", exc_info=True)
            return sent, False
        sent += 1
    return sent, True


def sweep(now: datetime | None = None) -> SweepResult:
    """Mark and enqueue, in batches, the participants the fast path missed or time has changed:

    - stale marks: marked longer than REEVALUATION_STALE_SECONDS ago (broker down, task lost);
    - expired results: unmarked, status_valid_until before today, not evaluated today (an
      evaluation today already saw today's date);
    - protocol amendments: every participant of a site whose approval of a version takes effect
      today (or took effect and was not applied yet).

    One statement per group selects and marks; then one message per REEVALUATION_SWEEP_BATCH_SIZE
    IDs."""
    now = now or timezone.now()
    stale = mark_stale(now)
    expired = mark_expired(now)
    amended = mark_amended(now)
    sent = 0
    groups = ((stale, Trigger.SWEEP), (expired, Trigger.EXPIRY), (amended, Trigger.PROTOCOL_AMENDMENT))
    for ids, trigger in groups:
        sent_now, ok = enqueue_batches(ids, trigger)
        sent += sent_now
        if not ok:
            return SweepResult(len(stale), len(expired), sent, enqueue_failed=True, amended=len(amended))
    if stale or expired or amended:
        log.info(
            "sweep: %s stale marks, %s expired results, %s amended, %s batches",
            len(stale),
            len(expired),
            len(amended),
            sent,
        )
    return SweepResult(len(stale), len(expired), sent, amended=len(amended))


# --- Impact report of a candidate protocol version (screening.impact) ---------------------------

IMPACT_REPORT_SECONDS = 24 * 3600  # how long a computed report stays available to its page


def impact_key(report_id: str) -> str:
    return f"amendment-impact:{report_id}"


def _impact_part_key(report_id: str, index: int) -> str:
    return f"amendment-impact:{report_id}:part:{index}"


def _impact_done_key(report_id: str, index: int) -> str:
    return f"amendment-impact:{report_id}:done:{index}"


@shared_task(acks_late=True, ignore_result=True)
def impact_report_task(report_id: str, version: str, site_id: int | None, as_of: str) -> None:
    """Start an impact report for its page: select the population, then one chunk task per
    IMPACT_CHUNK participants, which the worker's processes evaluate in parallel; the chunk task
    that completes the set combines the parts (screening.impact.combine). Stores no evaluation;
    a repeated delivery starts the same report again."""
    participants = Participant.objects.all()
    site_code = ""
    if site_id is not None:
        participants = participants.filter(site_id=site_id)
        site_code = Site.objects.get(pk=site_id).code
    criteria.get_protocol(version)  # an unknown version is refused before any work
    parts = impact_chunks(in_screening_ids(participants), IMPACT_CHUNK)
    job = {"version": version, "as_of": as_of, "site_code": site_code, "chunks": len(parts)}
    total = sum(len(p) for p in parts)
    cache.set(impact_key(report_id), {"done": 0, "total": total, "job": job}, IMPACT_REPORT_SECONDS)
    if not parts:
        _combine_impact(report_id, job)
        return
    for index, ids in enumerate(parts):
        impact_chunk_task.delay(report_id, index, version, as_of, ids)


@shared_task(acks_late=True, ignore_result=True)
def impact_chunk_task(report_id: str, index: int, version: str, as_of: str, participant_ids: list[int]) -> None:
    """One chunk of an impact report: its part is kept until the report is combined. Idempotent: a
    repeated delivery writes the same part again."""
    job = (cache.get(impact_key(report_id)) or {}).get("job")
    if job is None:  # the report expired or was combined already
        return
    part = evaluate_chunk(version, date.fromisoformat(as_of), participant_ids)
    cache.set(_impact_part_key(report_id, index), part, IMPACT_REPORT_SECONDS)
    cache.set(_impact_done_key(report_id, index), len(participant_ids), IMPACT_REPORT_SECONDS)
    done = cache.get_many([_impact_done_key(report_id, i) for i in range(job["chunks"])])
    if len(done) == job["chunks"]:
        _combine_impact(report_id, job)


def _combine_impact(report_id: str, job: dict[str, Any]) -> None:
    """The whole report from the chunks' parts, in their order; then the parts are dropped. Two
    chunk tasks finishing at once may both combine: the same report is written twice."""
    keys = [_impact_part_key(report_id, i) for i in range(job["chunks"])]
    parts = cache.get_many(keys)
    if len(parts) < len(keys):
        return  # a part expired: the report cannot be completed
    report = combine(
        job["version"],
        date.fromisoformat(job["as_of"]),
        (parts[k] for k in keys),
        site_code=job["site_code"],
    )
    total = report.evaluated + len(report.refused)
    cache.set(impact_key(report_id), {"done": total, "total": total, "report": report}, IMPACT_REPORT_SECONDS)
    cache.delete_many(keys + [_impact_done_key(report_id, i) for i in range(job["chunks"])])


def impact_state(report_id: str) -> dict[str, Any] | None:
    """What the report's page shows: the report once combined; before that the participants of
    the chunks evaluated so far, out of the total. None for an unknown or expired report."""
    state: dict[str, Any] | None = cache.get(impact_key(report_id))
    if state is None or "report" in state or "job" not in state:
        return state
    chunks = state["job"]["chunks"]
    done = cache.get_many([_impact_done_key(report_id, i) for i in range(chunks)])
    return {"done": sum(done.values()), "total": state["total"]}
