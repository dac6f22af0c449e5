"""History tracking of every clinical and access-control table, applied here in one place.

Each tracked model gets a proxy in this app (so that the trigger migrations live in `audit`)
and an event model `<Name>Event` filled by PostgreSQL triggers on insert, update and delete.
The triggers fire for any write, including raw SQL from outside the application. Each event row
carries its own copy of the context (acting user, reason, request URL) as JSON, and the event
tables refuse UPDATE and DELETE (a pgtrigger Protect trigger).

To track another model, add one line to TRACKED.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pghistory
from django.db import models
from django.db.models.functions import Now

from adjudication.models import Escalation, EscalationDecision, Review, Signature
from participants.models import (
    Assessment,
    ClinicalEvent,
    HistoryReview,
    LabResult,
    Membership,
    Participant,
    Site,
    Therapy,
    User,
)
from screening.models import Adjudication, CriterionResult, Evaluation, ProtocolVersion, SiteApproval


@dataclass(frozen=True)
class Tracked:
    model: type[models.Model]
    # Columns left out of the history: secrets and counters that change on every use.
    exclude: tuple[str, ...] = ()
    # Path from the row to the participant it belongs to ("" when it belongs to none).
    participant_path: str = "participant"


TRACKED: list[Tracked] = [
    # Access control and configuration
    Tracked(User, exclude=("password", "last_login"), participant_path=""),
    Tracked(Site, exclude=("last_screening_sequence",), participant_path=""),
    Tracked(Membership, participant_path=""),
    Tracked(ProtocolVersion, participant_path=""),
    Tracked(SiteApproval, participant_path=""),
    # Participants and their clinical records. The re-evaluation bookkeeping of a participant is
    # left out: it changes on every save and every evaluation, and the evaluations are tracked.
    Tracked(
        Participant,
        exclude=("data_version", "evaluated_version", "reevaluation_requested_at", "evaluated_at"),
        participant_path="id",
    ),
    Tracked(LabResult),
    Tracked(Assessment),
    Tracked(Therapy),
    Tracked(ClinicalEvent),
    Tracked(HistoryReview),
    # Evaluations
    Tracked(Evaluation),
    Tracked(CriterionResult, participant_path="evaluation__participant"),
    Tracked(Adjudication),
    # Adjudication
    Tracked(Escalation),
    Tracked(Review, participant_path="escalation__participant"),
    Tracked(Signature, participant_path="review__escalation__participant"),
    Tracked(EscalationDecision, participant_path="escalation__participant"),
]


class ClockTimestamp(Now):
    """The wall-clock time of the statement (NOW() is the start of the transaction)."""

    template = "CLOCK_TIMESTAMP()"


def _track(entry: Tracked) -> type[models.Model]:
    name = entry.model._meta.object_name
    proxy = type(
        f"Tracked{name}",
        (entry.model,),
        {
            "__module__": __name__,
            "Meta": type("Meta", (), {"proxy": True, "app_label": "audit"}),
        },
    )
    setattr(sys.modules[__name__], proxy.__name__, proxy)
    pghistory.track(
        # Trigger names of their own, so that an app may also track its models with pghistory.
        pghistory.InsertEvent(trigger_name="audit_insert"),
        pghistory.UpdateEvent(trigger_name="audit_update"),
        pghistory.DeleteEvent(trigger_name="audit_delete"),
        exclude=list(entry.exclude),
        obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
        context_field=pghistory.ContextJSONField(),
        append_only=True,
        app_label="audit",
        model_name=f"{name}Event",
        meta={"verbose_name": f"{entry.model._meta.verbose_name} event"},
        # Orders events across tables: several events of one transaction share pgh_created_at (NOW()).
        attrs={"pgh_recorded_at": models.DateTimeField(db_default=ClockTimestamp(), editable=False)},
    )(proxy)
    return getattr(sys.modules[__name__], f"{name}Event")  # type: ignore[no-any-return]


# Event model by tracked (concrete) model.
EVENT_MODELS: dict[type[models.Model], type[models.Model]] = {entry.model: _track(entry) for entry in TRACKED}
