"""Panels the layers above screening add to the participant page, without an upward import.

The participant page (screening.views.participant_detail) shows records (participants) and
evaluations (screening); the committee's workflow (adjudication) adds its escalations by
registering a panel in AdjudicationConfig.ready(). A panel gives template context for the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from participants.models import Participant, User

ParticipantPanel = Callable[[User, Participant], dict[str, Any]]

_panels: dict[str, ParticipantPanel] = {}


def register_participant_panel(name: str, panel: ParticipantPanel) -> None:
    """Add (or replace, by name) a panel of the participant page."""
    _panels[name] = panel


def participant_panels(user: User, participant: Participant) -> dict[str, Any]:
    """The context every registered panel gives for this participant."""
    context: dict[str, Any] = {}
    for panel in _panels.values():
        context.update(panel(user, participant))
    return context
