"""Evaluate a participant with the engine and store the result (the evaluation layer's core).

Marking for re-evaluation and queueing live in screening.services, above the tasks."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, NamedTuple

import pghistory
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from participants.case_builder import Case, assemble, build_case, current_records_many
from participants.models import OutcomeStatus, Participant, ScreeningStatus, User
from screening import criteria
from screening.models import Adjudication, Confirmation, CriterionResult, Evaluation, ScreeningState, Trigger
from screening.protocols import version_in_force, versions_in_force
from screening.selectors import criterion_title

log = logging.getLogger(__name__)

# Sent after commit with `evaluations` (the Evaluations a transaction stored, one or a sweep's
# chunk; not the confirmations, which change no result): escalations open and close on them.
evaluations_stored = Signal()


def case_adjudications(participant: Participant) -> list[dict[str, Any]]:
    """The decisions on this participant's REVIEW results in the case format's `adjudications` list
    (cases/README.md): criterion, review_by, decision, date, evidence_digest. Oldest first, so the
    engine's "latest wins, on a tie the one listed last" picks the most recent."""
    return case_adjudications_many([participant.pk])[participant.pk]


def case_adjudications_many(participant_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """case_adjudications for many participants in one query (the sweep's batch evaluation)."""
    grouped: dict[int, list[dict[str, Any]]] = {pk: [] for pk in participant_ids}
    for a in Adjudication.objects.filter(participant_id__in=participant_ids).order_by("recorded_at", "pk"):
        grouped[a.participant_id].append(a.case_entry())
    return grouped


def run_engine(case: Case) -> criteria.Evaluation:
    return criteria.evaluate(criteria.load_case(case))


def evaluate_participant(
    participant_id: int,
    *,
    trigger: str,
    detail: str = "",
    user: User | None = None,
    as_of: date | None = None,
    only_if_marked: bool = False,
    store_in_full: bool = False,
) -> Evaluation | None:
    """Evaluate as of today (or `as_of`) under the version the participant's site uses that day,
    store the evaluation and its criterion rows, copy the status to the participant's screening state
    and clear the mark for the data version it read. A run on the same case and data version as
    the latest evaluation that gives the same results stores a Confirmation of that evaluation
    instead, and returns it; with store_in_full (an enrollment, whose signed checklist names its
    evaluation) the run is stored as an evaluation of its own whatever it repeats.

    The participant row and its state row (not its site) are locked for the whole evaluation, so
    neither a change of the data (its service locks the participant) nor a committee decision (it
    marks the state) can slip between reading the data and clearing the mark. With
    only_if_marked, a participant already evaluated on its current data is left alone (duplicate
    tasks cost nothing)."""
    with transaction.atomic(), pghistory.context(**audit_context(trigger, detail, user)):
        participant = (
            Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant_id)
        )
        state = locked_state(participant)
        if state.outcome != OutcomeStatus.IN_SCREENING:
            # Screening has ended: the participant is no longer evaluated (a data change after the
            # outcome is flagged against the outcome instead); a leftover mark is cleared.
            if state.reevaluation_requested_at is not None:
                state.reevaluation_requested_at = None
                state.save(update_fields=["reevaluation_requested_at"])
            return None
        if only_if_marked and state.reevaluation_requested_at is None:
            return None
        as_of = as_of or timezone.localdate()
        case = build_case(
            participant,
            as_of,
            adjudications=case_adjudications(participant),
            protocol_version=version_in_force(participant.site_id, as_of),
        )
        result = run_engine(case)
        latest = latest_evaluations([participant.pk]).get(participant.pk)
        digest = result_digest(case, result, participant.data_version)
        if not store_in_full and latest is not None and latest.result_digest == digest:
            confirmation = new_confirmation(participant, latest.pk, as_of, trigger, detail, user)
            confirmation.save()
            apply_confirmation(state, confirmation)
            state.save(update_fields=EVALUATION_FIELDS)
            return Evaluation.objects.get(pk=latest.pk)
        sequence = latest.sequence + 1 if latest is not None else 1
        evaluation = new_evaluation(participant, case, result, as_of, sequence, trigger, detail, user)
        evaluation.participant = participant
        evaluation.result_digest = digest
        evaluation.save()
        store_criterion_rows([(evaluation, result)])
        apply_evaluation(state, evaluation, result)
        state.save(update_fields=EVALUATION_FIELDS)
        transaction.on_commit(lambda: evaluations_stored.send(sender=Evaluation, evaluations=[evaluation]))
    return evaluation


class Latest(NamedTuple):
    pk: int
    sequence: int
    result_digest: str


def latest_evaluations(participant_ids: list[int]) -> dict[int, Latest]:
    """Each participant's latest evaluation (its id, sequence and digest), in one query: one
    backward step in the (participant, sequence) unique index per participant (a `DISTINCT ON`
    read and sorted every evaluation of the chunk's participants)."""
    table = connection.ops.quote_name(Evaluation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.id, e.id, e.sequence, e.result_digest FROM unnest(%s::bigint[]) AS p(id)
            CROSS JOIN LATERAL (SELECT id, sequence, result_digest FROM {table}
                                WHERE participant_id = p.id ORDER BY sequence DESC LIMIT 1) e""",
            [list(participant_ids)],
        )
        return {participant_id: Latest(pk, sequence, digest) for participant_id, pk, sequence, digest in cursor}


def result_digest(case: Case, result: criteria.Evaluation, data_version: int) -> str:
    """What decides whether a run repeats the latest evaluation: the engine version, the data
    version and the case read (its as-of date left out: a daily run reads the same case on another
    day), and the results. Written with `repr` (C speed; the case holds exact Decimals, dates and
    strings, the results named tuples of them), so two runs share a digest only if both their
    inputs and their results are identical; any difference in writing only costs a full
    evaluation."""
    dates = {key: value for key, value in case["dates"].items() if key != "as_of"}
    inputs = repr({**case, "dates": dates})
    results = repr((result.overall, result.valid_until, result.eligible_from, result.criteria))
    text = f"{criteria.ENGINE_VERSION}\n{data_version}\n{inputs}\n{results}"
    return hashlib.sha256(text.encode()).hexdigest()


def new_confirmation(
    participant: Participant | Subject,
    evaluation_id: int,
    as_of: date,
    trigger: str,
    detail: str = "",
    user: User | None = None,
) -> Confirmation:
    """The (unsaved) record of a run that repeated the latest evaluation."""
    return Confirmation(
        evaluation_id=evaluation_id,
        as_of=as_of,
        trigger=trigger,
        trigger_detail=detail[:300],
        triggered_by=user,
        data_version=participant.data_version,
        confirmed_at=timezone.now(),
    )


def audit_context(trigger: str, detail: str = "", user: User | None = None) -> dict[str, Any]:
    """History context of the rows an evaluation writes; a run without a user keeps the caller's."""
    context: dict[str, Any] = {
        "reason": f"evaluation: {Trigger(trigger).label}" + (f" ({detail})" if detail else "")
    }
    if user is not None:
        context["user"] = user.pk
    return context


def ensure_state(participant_id: int) -> None:
    """Give the participant its state row ("Not evaluated yet") unless it has one."""
    ScreeningState.objects.bulk_create([ScreeningState(participant_id=participant_id)], ignore_conflicts=True)


def locked_state(participant: Participant) -> ScreeningState:
    """The participant's state row, locked; created if the participant has none yet (a row added
    without the model's save, e.g. in bulk; a saved one got it from `ensure_state`)."""
    state = ScreeningState.objects.select_for_update().filter(participant=participant).first()
    if state is None:
        ensure_state(participant.pk)
        state = ScreeningState.objects.select_for_update().get(participant=participant)
    state.participant = participant
    return state


# ScreeningState fields an evaluation sets.
EVALUATION_FIELDS = [
    "status",
    "status_valid_until",
    "evaluated_at",
    "evaluated_version",
    "reevaluation_requested_at",
    "holding_back",
]


def new_evaluation(
    participant: Participant | Subject,
    case: Case,
    result: criteria.Evaluation,
    as_of: date,
    sequence: int,
    trigger: str,
    detail: str = "",
    user: User | None = None,
) -> Evaluation:
    """The (unsaved) stored form of an engine result."""
    return Evaluation(
        participant_id=participant.pk,
        sequence=sequence,
        as_of=as_of,
        protocol_version=result.protocol_version,
        engine_version=criteria.ENGINE_VERSION,
        trigger=trigger,
        trigger_detail=detail[:300],
        triggered_by=user,
        data_version=participant.data_version,
        case_json=criteria.dumps(case),
        overall=str(result.overall),
        valid_until=result.valid_until,
        eligible_from=result.eligible_from,
    )


def criterion_values(evaluation_id: int, result: criteria.Evaluation) -> Iterator[tuple[Any, ...]]:
    """The evaluation's criterion rows as column values (CRITERION_COLUMNS), in catalogue order:
    what the model fields would write (JSON text for `missing` and `evidence`, with the evidence's
    decimals and dates written as text by DjangoJSONEncoder, as its field does)."""
    for position, r in enumerate(result.criteria):
        yield (
            evaluation_id,
            position,
            r.id,
            str(r.outcome),
            str(r.review_by) if r.review_by else "",
            r.reason,
            json.dumps(list(r.missing)),
            r.valid_until,
            r.eligible_from,
            r.repeat_from,
            r.evidence_digest or "",
            None if r.evidence is None else json.dumps([dict(e) for e in r.evidence], cls=DjangoJSONEncoder),
        )


CRITERION_COLUMNS = (
    "evaluation_id",
    "position",
    "criterion_id",
    "outcome",
    "review_by",
    "reason",
    "missing",
    "valid_until",
    "eligible_from",
    "repeat_from",
    "evidence_digest",
    "evidence",
)


def store_criterion_rows(stored: Iterable[tuple[Evaluation, criteria.Evaluation]]) -> None:
    """Write the criterion rows of stored evaluations with one COPY (PostgreSQL's bulk load):
    a sweep chunk's 1,400 rows cost a fraction of what building model instances and an INSERT
    cost. Row triggers (the audit trail's, the constraints) fire as for an INSERT, and the audit
    context set earlier in the transaction applies (pghistory sets it per transaction)."""
    quote = connection.ops.quote_name
    table = quote(CriterionResult._meta.db_table)
    columns = ", ".join(quote(name) for name in CRITERION_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for evaluation, result in stored:
            for row in criterion_values(evaluation.pk, result):
                copy.write_row(row)


def holding_back(result: criteria.Evaluation) -> dict[str, Any]:
    """What holds the participant back, for lists: the failing, missing and reviewed criteria by
    id and title, in catalogue order, and the date the failures clear by time alone."""
    summary: dict[str, Any] = {"failing": [], "missing": [], "reviews": [], "eligible_from": None}
    kinds = {
        criteria.Outcome.FAIL: summary["failing"],
        criteria.Outcome.MISSING: summary["missing"],
        criteria.Outcome.REVIEW: summary["reviews"],
    }
    for r in result.criteria:
        bucket = kinds.get(r.outcome)
        if bucket is not None:
            bucket.append([r.id, criterion_title(r.id)])
    if summary["failing"] and result.eligible_from is not None:
        summary["eligible_from"] = result.eligible_from.isoformat()
    return summary


def apply_evaluation(state: ScreeningState, evaluation: Evaluation, result: criteria.Evaluation) -> None:
    """Copy a stored evaluation's status and what holds the participant back to the participant's
    state, and clear the mark it answered."""
    state.holding_back = holding_back(result)
    state.status = ScreeningStatus(evaluation.overall)
    state.status_valid_until = evaluation.valid_until
    state.evaluated_at = evaluation.created_at
    state.evaluated_version = evaluation.data_version
    state.reevaluation_requested_at = None


class Subject(NamedTuple):
    """The participant's fields that a case and its stored run read (participants.case_builder
    `header`, the data version), read with the lock instead of a model instance."""

    pk: int
    data_version: int
    site_id: int
    screening_number: str
    cohort: str
    lupus_nephritis: bool | None
    sex: str
    birth_date: date
    screening_start: date | None
    icf_signed: date | None
    planned_enrollment: date | None
    planned_day0: date | None


def lock_marked(participant_ids: list[int]) -> list[Subject]:
    """Lock the state rows of these participants that are still marked and in screening, with their
    participant rows (`FOR UPDATE OF` both, as evaluate_participant locks them; `SKIP LOCKED`: a
    participant being changed right now gets its own task), and read what the case needs of them.
    One statement, values only (no model instances)."""
    quote = connection.ops.quote_name
    fields = Participant._meta
    columns = ", ".join(
        "p." + quote(fields.get_field("id" if name == "pk" else name.removesuffix("_id")).column)
        for name in Subject._fields
    )
    sql = (
        f"SELECT {columns} FROM {quote(ScreeningState._meta.db_table)} s "
        f"JOIN {quote(fields.db_table)} p ON p.id = s.participant_id "
        "WHERE s.participant_id = ANY(%s) AND s.reevaluation_requested_at IS NOT NULL AND s.outcome = %s "
        "ORDER BY s.participant_id FOR UPDATE OF s, p SKIP LOCKED"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(participant_ids), str(OutcomeStatus.IN_SCREENING)])
        return [Subject(*row) for row in cursor.fetchall()]


class StateUpdate(NamedTuple):
    """What a stored run writes to its participant's state row (the mark is cleared). A
    confirmation leaves the status, its date and what holds the participant back as they are."""

    participant_id: int
    confirmed: bool
    status: str
    status_valid_until: date | None
    evaluated_at: Any
    evaluated_version: int
    holding_back: str  # JSON


def save_states(updates: list[StateUpdate]) -> None:
    """Write the evaluation's fields of many state rows (all exist and are locked) in one UPDATE
    from arrays (`unnest`): one parameter per column whatever the chunk's size, no model instances,
    and a confirmation rewrites neither its status nor what holds the participant back."""
    if not updates:
        return
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(ScreeningState._meta.db_table)} AS s SET "
        "status = CASE WHEN v.confirmed THEN s.status ELSE v.status END, "
        "status_valid_until = CASE WHEN v.confirmed THEN s.status_valid_until ELSE v.status_valid_until END, "
        "holding_back = CASE WHEN v.confirmed THEN s.holding_back ELSE v.holding_back END, "
        "evaluated_at = v.evaluated_at, evaluated_version = v.evaluated_version, "
        "reevaluation_requested_at = NULL "
        "FROM unnest(%s::integer[], %s::boolean[], %s::text[], %s::date[], %s::timestamptz[], "
        "%s::integer[], %s::jsonb[]) "
        "AS v(participant_id, confirmed, status, status_valid_until, evaluated_at, evaluated_version, "
        "holding_back) WHERE s.participant_id = v.participant_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*updates, strict=True)])


def apply_confirmation(state: ScreeningState, confirmation: Confirmation) -> None:
    """A confirmation leaves the status as it is (same results) and clears the mark it answered."""
    state.evaluated_at = confirmation.confirmed_at
    state.evaluated_version = confirmation.data_version
    state.reevaluation_requested_at = None


def evaluate_marked(
    participant_ids: list[int], *, trigger: str, as_of: date | None = None
) -> list[Evaluation | Confirmation]:
    """Batch form of evaluate_participant(only_if_marked=True) for the sweep: the participants among
    `participant_ids` that are still marked and not locked by someone else (a change in progress
    queues its own task), in one transaction and a fixed number of queries for the batch. Returns
    what was stored for each: an evaluation, or the confirmation of the latest one.

    A participant whose data the engine refuses is left marked and logged; the others are stored."""
    as_of = as_of or timezone.localdate()
    with transaction.atomic(), pghistory.context(**audit_context(trigger)):
        # A participant whose screening has ended is not evaluated: its leftover mark is cleared.
        ScreeningState.objects.filter(
            participant_id__in=participant_ids, reevaluation_requested_at__isnull=False
        ).exclude(outcome=OutcomeStatus.IN_SCREENING).update(reevaluation_requested_at=None)
        participants = lock_marked(participant_ids)
        if not participants:
            return []
        ids = [p.pk for p in participants]
        records = current_records_many(ids)
        adjudications = case_adjudications_many(ids)
        versions = versions_in_force({p.site_id for p in participants}, as_of)
        latest = latest_evaluations(ids)
        new: list[tuple[Evaluation, criteria.Evaluation]] = []
        confirmed: list[tuple[int, Confirmation]] = []
        for participant in participants:
            case = assemble(
                participant,  # type: ignore[arg-type]  # the fields `header` reads
                as_of,
                **records[participant.pk],
                adjudications=adjudications[participant.pk],
                protocol_version=versions[participant.site_id],
            )
            try:
                result = run_engine(case)
            except criteria.CaseError:
                log.exception("participant %s: the engine refused the stored data", participant.pk)
                continue
            digest = result_digest(case, result, participant.data_version)
            previous = latest.get(participant.pk)
            if previous is not None and previous.result_digest == digest:
                confirmed.append((participant.pk, new_confirmation(participant, previous.pk, as_of, trigger)))
                continue
            sequence = previous.sequence + 1 if previous is not None else 1
            evaluation = new_evaluation(participant, case, result, as_of, sequence, trigger)
            evaluation.result_digest = digest
            new.append((evaluation, result))
        evaluations = Evaluation.objects.bulk_create([e for e, _ in new])
        confirmations = Confirmation.objects.bulk_create([c for _, c in confirmed])
        store_criterion_rows(new)
        save_states(
            [
                StateUpdate(
                    e.participant_id,
                    False,
                    e.overall,
                    e.valid_until,
                    e.created_at,
                    e.data_version,
                    json.dumps(holding_back(result)),
                )
                for e, result in new
            ]
            + [
                StateUpdate(participant_id, True, "", None, c.confirmed_at, c.data_version, "{}")
                for participant_id, c in confirmed
            ]
        )
        if evaluations:
            transaction.on_commit(lambda: evaluations_stored.send(sender=Evaluation, evaluations=evaluations))
    return [*evaluations, *confirmations]


def evaluate_now(participant: Participant, user: User, detail: str) -> Evaluation | None:
    """After a coordinator's save: evaluate at once so the page shows the result; the queued task
    then finds nothing left to do; if the task was quicker, nothing is stored twice."""
    try:
        return evaluate_participant(
            participant.pk, trigger=Trigger.DATA_CHANGE, detail=detail, user=user, only_if_marked=True
        )
    except criteria.CaseError:
        # The save stands and the participant stays marked; the page shows that no evaluation is
        # current rather than failing. The services refuse such data, so this is a last resort.
        log.exception("participant %s could not be evaluated after a save", participant.pk)
        return None
