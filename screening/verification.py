"""Check that every participant's stored evaluation is what the engine gives on its data now
(`manage.py verify_evaluations`, run at the end of the load test).

For each participant, in chunks with a fixed number of queries (the state rows with their
participants, one query per record kind, the decisions, the latest evaluations, their criterion
rows):

- a participant still in screening must be evaluated on its current data: the state's
  `evaluated_version` and the latest evaluation's `data_version` equal the participant's
  `data_version`, no re-evaluation is pending, and the state shows the evaluation's status;
- the latest evaluation is re-run with the engine on the current records and decisions, as of its
  date and under its protocol version: the case text, the overall status, the valid-until and
  eligible-from dates and every criterion row (outcome, review, reason, missing data, dates,
  evidence digest) must be the stored ones;
- a participant whose screening has ended is not evaluated any more: its latest evaluation is
  checked the same way when the data did not change after it, else it is counted as changed after
  the outcome (the participant page flags it);
- a participant never evaluated must show "Not evaluated yet".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from participants.case_builder import assemble, current_records_many
from participants.models import OutcomeStatus, ScreeningStatus
from screening import criteria
from screening.evaluation import CRITERION_COLUMNS, case_adjudications_many, run_engine
from screening.models import CriterionResult, Evaluation, ScreeningState

CHUNK_SIZE = 500

# Stored criterion-row columns compared with the engine's results: the columns an evaluation
# stores per criterion but its own id, the position and the evidence (its digest is compared).
ROW_COLUMNS = tuple(c for c in CRITERION_COLUMNS if c not in ("evaluation_id", "position", "evidence"))


@dataclass
class Verification:
    """What the check found: counts per kind, and the first problems in words."""

    checked: int = 0
    matched: int = 0
    never_evaluated: int = 0
    changed_after_outcome: int = 0
    pending: int = 0
    stale: int = 0
    mismatched: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)
    max_problems: int = 20

    @property
    def ok(self) -> bool:
        return not (self.pending or self.stale or self.mismatched or self.refused)

    def problem(self, kind: str, number: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < self.max_problems:
            self.problems.append(f"{number}: {text}")


def engine_rows(result: criteria.Evaluation) -> list[tuple[Any, ...]]:
    """The engine's criterion results as the stored rows' ROW_COLUMNS."""
    return [
        (
            r.id,
            str(r.outcome),
            str(r.review_by) if r.review_by else "",
            r.reason,
            list(r.missing),
            r.valid_until,
            r.eligible_from,
            r.repeat_from,
            r.evidence_digest or "",
        )
        for r in result.criteria
    ]


def _chunks(states: QuerySet[ScreeningState], size: int) -> Iterator[list[ScreeningState]]:
    """The state rows with their participants, `size` at a time in participant order (keyset)."""
    last = 0
    while True:
        chunk = list(
            states.filter(participant_id__gt=last)
            .select_related("participant")
            .order_by("participant_id")[:size]
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1].participant_id


def latest_stored(participant_ids: list[int]) -> dict[int, Evaluation]:
    """Each participant's latest evaluation, in one query (DISTINCT ON)."""
    rows = (
        Evaluation.objects.filter(participant_id__in=participant_ids)
        .order_by("participant_id", "-sequence")
        .distinct("participant_id")
        .only(
            "participant_id",
            "as_of",
            "protocol_version",
            "data_version",
            "case_json",
            "overall",
            "valid_until",
            "eligible_from",
        )
    )
    return {e.participant_id: e for e in rows}


def stored_rows(evaluation_ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """The criterion rows of these evaluations, in catalogue order, in one query."""
    grouped: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in evaluation_ids}
    rows = (
        CriterionResult.objects.filter(evaluation_id__in=evaluation_ids)
        .order_by("evaluation_id", "position")
        .values_list("evaluation_id", *ROW_COLUMNS)
    )
    for evaluation_id, *values in rows:
        grouped[evaluation_id].append(tuple(values))
    return grouped


def verify_chunk(states: list[ScreeningState], report: Verification) -> None:
    ids = [s.participant_id for s in states]
    records = current_records_many(ids)
    adjudications = case_adjudications_many(ids)
    latest = latest_stored(ids)
    rows = stored_rows([e.pk for e in latest.values()])
    for state in states:
        participant = state.participant
        number = participant.screening_number
        report.checked += 1
        in_screening = state.outcome == OutcomeStatus.IN_SCREENING
        if in_screening and state.reevaluation_requested_at is not None:
            report.problem("pending", number, "a re-evaluation is still pending")
            continue
        evaluation = latest.get(participant.pk)
        if evaluation is None:
            if state.status != ScreeningStatus.NOT_EVALUATED:
                report.problem("mismatched", number, f"status {state.status} without any evaluation")
            elif in_screening and state.evaluated_version != participant.data_version:
                report.problem(
                    "stale", number, f"data version {participant.data_version} never evaluated, not marked"
                )
            else:
                report.never_evaluated += 1
            continue
        if not in_screening and evaluation.data_version != participant.data_version:
            report.changed_after_outcome += 1
            continue
        if in_screening and (
            state.evaluated_version != participant.data_version
            or evaluation.data_version != participant.data_version
        ):
            report.problem(
                "stale",
                number,
                f"data version {participant.data_version}, state evaluated {state.evaluated_version}, "
                f"latest evaluation read {evaluation.data_version}, and no re-evaluation pending",
            )
            continue
        case = assemble(
            participant,
            evaluation.as_of,
            **records[participant.pk],
            adjudications=adjudications[participant.pk],
            protocol_version=evaluation.protocol_version,
        )
        try:
            result = run_engine(case)
        except criteria.CaseError as exc:
            report.problem("refused", number, f"the engine refuses the current data: {exc}")
            continue
        differences = []
        if criteria.dumps(case) != evaluation.case_json:
            differences.append("case text")
        if (str(result.overall), result.valid_until, result.eligible_from) != (
            evaluation.overall,
            evaluation.valid_until,
            evaluation.eligible_from,
        ):
            differences.append(f"overall {evaluation.overall} stored, {result.overall} now")
        if in_screening and state.status != evaluation.overall:
            differences.append(f"state shows {state.status}, evaluation {evaluation.overall}")
        expected = engine_rows(result)
        stored = rows[evaluation.pk]
        if stored != expected:
            changed = sorted(
                {e[0] for e in expected} ^ {s[0] for s in stored}
                | {e[0] for e, s in zip(expected, stored, strict=False) if e != s}
            )
            differences.append("criteria " + ", ".join(changed[:5]) + ("…" if len(changed) > 5 else ""))
        if differences:
            report.problem("mismatched", number, "; ".join(differences))
        else:
            report.matched += 1


def verify_evaluations(
    states: QuerySet[ScreeningState] | None = None, *, chunk_size: int = CHUNK_SIZE, max_problems: int = 20
) -> Verification:
    """Verify the participants of `states` (default: every participant with a state row)."""
    report = Verification(max_problems=max_problems)
    for chunk in _chunks(states if states is not None else ScreeningState.objects.all(), chunk_size):
        verify_chunk(chunk, report)
    return report


def summary(report: Verification) -> dict[str, Any]:
    """The counts as a JSON-ready dictionary."""
    keys = ("checked", "matched", "never_evaluated", "changed_after_outcome", "pending", "stale")
    return {k: getattr(report, k) for k in (*keys, "mismatched", "refused")} | {"ok": report.ok}


def summary_json(report: Verification) -> str:
    return json.dumps(summary(report))
