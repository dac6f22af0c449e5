"""What the review page shows: the rows as staged, and what accepting the pending ones would change."""

from __future__ import annotations

from dataclasses import dataclass

from participants.intake import PreviewResult, UnsavedRecords, preview_changes
from participants.models import ClinicalRecord, LabResult, Participant

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
    changes = []
    for group in by_participant.values():
        participant = group[0].participant
        assert participant is not None
        unsaved: list[ClinicalRecord] = [
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
        changes.append(UnsavedRecords(participant, unsaved, replaced))
    # Every participant's preview at once: the page's queries do not grow with its participants.
    results = preview_changes("lab", changes)
    return [
        ParticipantPreview(change.participant, len(group), result)
        for change, group, result in zip(changes, by_participant.values(), results, strict=True)
    ]
