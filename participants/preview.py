"""What the engine would say about a case, not stored: the live panel beside the intake forms. Only
the pure engine is needed, so the preview stays in the participants layer."""

from __future__ import annotations

from dataclasses import dataclass

from screening import criteria

from .case_builder import Case


@dataclass(frozen=True)
class Preview:
    case: Case
    result: criteria.Evaluation | None
    error: criteria.CaseError | None


def preview(case: Case) -> Preview:
    try:
        return Preview(case, criteria.evaluate(criteria.load_case(case)), None)
    except criteria.CaseError as exc:
        return Preview(case, None, exc)
