"""The evaluation layer's actions that mark a participant for re-evaluation: a change announced by
the participants layer, a decision handed over by the committee's workflow. Each marks in the
caller's transaction and queues the task after commit (docs/reevaluation.md). Evaluating itself is
screening.evaluation; the tasks sit between the two."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from participants.models import Participant, User
from screening.evaluation import ensure_state, evaluate_now
from screening.models import Adjudication, AdjudicationDecision, Trigger
from screening.reevaluation import current_trigger, mark, mark_many
from screening.tasks import enqueue, enqueue_batches


def request_reevaluation(participant_id: int, *, reason: str) -> None:
    """Mark the participant in the caller's transaction; enqueue the task once it commits.

    The mark is the truth: if the broker is down the enqueue fails, the mark stays and the
    periodic sweep picks the participant up (docs/reevaluation.md). The site's changes are counted
    by the participants layer (`data_version`, participants.changes.announce_change) before it
    announces them here; a committee decision marks without counting, so that it is not taken for
    the site's answer to an information request."""
    trigger = current_trigger()
    mark(participant_id, timezone.now())
    transaction.on_commit(lambda: enqueue_reevaluation(participant_id, reason, trigger))


def request_reevaluations(participant_ids: list[int], *, reason: str) -> None:
    """request_reevaluation for many participants changed together (a lab import): one statement
    marks them all; after commit one message per REEVALUATION_SWEEP_BATCH_SIZE participants, as
    the sweep sends them (a lost message leaves the marks to the sweep)."""
    trigger = current_trigger()
    ids = sorted(set(participant_ids))
    mark_many(ids, timezone.now())
    transaction.on_commit(lambda: enqueue_batches(ids, trigger))


def enqueue_reevaluation(participant_id: int, reason: str, trigger: str = Trigger.DATA_CHANGE) -> bool:
    """Queue a task unless one is already queued for the participant; False if the broker refused."""
    return enqueue(participant_id, reason, Trigger(trigger))


def record_adjudication(
    participant_id: int,
    *,
    criterion_id: str,
    review_by: str,
    decision: AdjudicationDecision,
    decided_on: date,
    evidence_digest: str,
    note: str = "",
    source_id: int | None = None,
) -> Adjudication:
    """Take over a decision the engine is to read, in the caller's transaction (the workflow's own
    record of it commits with it), and mark the participant for re-evaluation."""
    adjudication = Adjudication.objects.create(
        participant_id=participant_id,
        criterion_id=criterion_id,
        review_by=review_by,
        decision=decision,
        date=decided_on,
        evidence_digest=evidence_digest,
        note=note,
        source_id=source_id,
    )
    request_reevaluation(participant_id, reason=f"{criterion_id}: {decision}")
    return adjudication


# --- Receivers of the participants layer's announcements (connected in ScreeningConfig.ready) ---


def on_participant_saved(sender: object, *, instance: Participant, created: bool, **kwargs: object) -> None:
    """post_save of a participant: a new one gets its screening state in the same transaction."""
    if created:
        ensure_state(instance.pk)


def on_records_changed(sender: object, *, participant_id: int, reason: str, **kwargs: object) -> None:
    """participants.changes.records_changed: the site changed the participant's data."""
    request_reevaluation(participant_id, reason=reason)


def on_records_changed_many(
    sender: object, *, participant_ids: list[int], reason: str, **kwargs: object
) -> None:
    """participants.changes.records_changed_many: the site changed many participants' data at once."""
    request_reevaluations(participant_ids, reason=reason)


def on_records_saved(
    sender: object, *, participant: Participant, user: User, detail: str, **kwargs: object
) -> None:
    """participants.changes.records_saved: the coordinator's page shows the new result at once."""
    evaluate_now(participant, user, detail)
