"""What the adjudication app tells the rest of the system."""

from __future__ import annotations

from typing import Any

from participants.models import Participant


def case_adjudications(participant: Participant) -> list[dict[str, Any]]:
    """The decided reviews of this participant in the case format's `adjudications` list
    (cases/README.md): criterion, review_by, decision, date, evidence_digest."""
    return []
