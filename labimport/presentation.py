"""What the review page shows: the rows as staged, and what accepting the pending ones would change."""

from __future__ import annotations

from dataclasses import dataclass

from participants.intake import PreviewResult, preview_change
from participants.models import LabResult, Participant

from .models import ImportAction, ImportBatch, Review, StagedRow
from .selectors import records_of_results


@dataclass(frozen=True)
class ParticipantPreview:
    participant: Participant
    rows: int
    preview: PreviewResult


def previews(batch: ImportBatch, rows: list[StagedRow]) -> list[ParticipantPreview]:
    """For each participant with pending rows: the engine's status and criteria before → after
    accepting all of them (a supersede or void replaces the record on file of its result)."""
    pending = [r for r in rows if r.review == Review.PENDING and r.participant is not None]
    results = {r.imported.result for r in pending if r.imported is not None and r.imported.result}
    on_file = records_of_results(batch, results) if results else {}
    by_participant: dict[int, list[StagedRow]] = {}
    for row in pending:
        by_participant.setdefault(row.participant_id or 0, []).append(row)
    shown = []
    for group in by_participant.values():
        participant = group[0].participant
        assert participant is not None
        unsaved = [
            LabResult(
                participant=participant,
                test=r.test,
                value_number=r.value_number,
                value_text=r.value_text,
                unit=r.unit,
                uln=r.uln,
                specimen=r.specimen,
                collected=r.collected,
            )
            for r in group
            if r.action != ImportAction.VOID
        ]
        replaced = [
            on_file[r.imported.result]
            for r in group
            if r.action != ImportAction.STAGE and r.imported is not None and r.imported.result in on_file
        ]
        shown.append(
            ParticipantPreview(
                participant, len(group), preview_change(participant, "lab", unsaved, replaced=replaced)
            )
        )
    return shown
