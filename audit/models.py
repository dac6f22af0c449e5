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
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from adjudication.models import Escalation, EscalationDecision, Review, Signature
from labimport.models import HospitalIdentifier, ImportBatch, ImportedRow, StagedRow
from participants.models import (
    Assessment,
    ClinicalEvent,
    ConsentApproval,
    ConsentSignature,
    ConsentVersion,
    DuplicateCheck,
    HistoryReview,
    LabResult,
    Membership,
    Participant,
    Site,
    Therapy,
    User,
)
from screening.models import (
    Adjudication,
    Confirmation,
    CriterionResult,
    Evaluation,
    ProtocolVersion,
    ScreeningOutcome,
    ScreeningState,
    SiteApproval,
)


@dataclass(frozen=True)
class Tracked:
    model: type[models.Model]
    # Columns left out of the history: secrets and counters that change on every use.
    exclude: tuple[str, ...] = ()
    # Path from the row to the participant it belongs to ("" when it belongs to none).
    participant_path: str = "participant"
    # False: no event for an insert. For tables written in bulk whose rows keep what they were
    # inserted with (only their review changes, as an event): the row itself is the insert's record.
    on_insert: bool = True


TRACKED: list[Tracked] = [
    # Access control and configuration
    Tracked(User, exclude=("password", "last_login"), participant_path=""),
    Tracked(Site, exclude=("last_screening_sequence",), participant_path=""),
    Tracked(Membership, participant_path=""),
    Tracked(ProtocolVersion, participant_path=""),
    Tracked(SiteApproval, participant_path=""),
    Tracked(ConsentVersion, participant_path=""),
    Tracked(ConsentApproval, participant_path=""),
    # Participants and their clinical records. The re-evaluation bookkeeping of a participant is
    # left out: it changes on every save and every evaluation, and the evaluations are tracked.
    Tracked(Participant, exclude=("data_version",), participant_path="id"),
    Tracked(LabResult),
    Tracked(Assessment),
    Tracked(Therapy),
    Tracked(ClinicalEvent),
    Tracked(HistoryReview),
    Tracked(ConsentSignature),
    # The duplicate check at registration, and the coordinator's answer; of a registration that
    # was stopped it belongs to no participant.
    Tracked(DuplicateCheck),
    Tracked(HospitalIdentifier),
    # Hospital lab files (docs/lab-import.md § History): who sent which file; the review of each
    # staged row and of the site's import bookkeeping. Staged rows and imported rows are written
    # by the ten thousand and never changed but for their review, so only changes are events.
    Tracked(ImportBatch, participant_path=""),
    Tracked(StagedRow, on_insert=False),
    Tracked(ImportedRow, on_insert=False),
    # Evaluations
    Tracked(Evaluation),
    Tracked(CriterionResult, participant_path="evaluation__participant"),
    Tracked(Confirmation, participant_path="evaluation__participant"),
    Tracked(Adjudication),
    # The status copied from the latest evaluation (its bookkeeping left out, as above).
    # What holds it back is the latest evaluation's summary, tracked with the evaluation.
    Tracked(
        ScreeningState,
        # The site and cohort are the participant's, copied for the dashboard's counts.
        exclude=("evaluated_version", "reevaluation_requested_at", "evaluated_at", "holding_back", "site", "cohort"),
    ),
    # How screening ended (enrollment with its signed checklist, screen failure, withdrawal).
    Tracked(ScreeningOutcome),
    # Adjudication
    # The site and cohort are the participant's, copied for the EAC queue.
    Tracked(Escalation, exclude=("site", "cohort")),
    Tracked(Review, participant_path="escalation__participant"),
    Tracked(Signature, participant_path="review__escalation__participant"),
    Tracked(EscalationDecision, participant_path="escalation__participant"),
]


def no_truncate() -> pgtrigger.Trigger:
    """A statement-level trigger refusing TRUNCATE (row triggers never see one) to every role but a
    superuser: the database administrator's role, which can bypass any trigger anyway, and with
    which the test suite empties its tables between transactional tests."""
    return pgtrigger.Trigger(
        name="no_truncate",
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func=(
            "IF current_setting('is_superuser') = 'on' THEN RETURN NULL; END IF; "
            "RAISE EXCEPTION 'history table % cannot be truncated', TG_TABLE_NAME;"
        ),
    )


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
    # Trigger names of their own, so that an app may also track its models with pghistory.
    events = [pghistory.InsertEvent(trigger_name="audit_insert")] if entry.on_insert else []
    events += [
        pghistory.UpdateEvent(trigger_name="audit_update"),
        pghistory.DeleteEvent(trigger_name="audit_delete"),
    ]
    pghistory.track(
        *events,
        exclude=list(entry.exclude),
        obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
        context_field=pghistory.ContextJSONField(),
        append_only=True,
        app_label="audit",
        model_name=f"{name}Event",
        meta={
            "verbose_name": f"{entry.model._meta.verbose_name} event",
            "triggers": [no_truncate()],
            # The exports read each table in time order, a chunk at a time (audit/trail.py).
            "indexes": [
                models.Index(fields=["pgh_recorded_at", "pgh_id"], name=f"{name.lower()[:20]}_ev_time")
            ],
        },
        # Orders events across tables: several events of one transaction share pgh_created_at (NOW()).
        attrs={"pgh_recorded_at": models.DateTimeField(db_default=ClockTimestamp(), editable=False)},
    )(proxy)
    return getattr(sys.modules[__name__], f"{name}Event")  # type: ignore[no-any-return]


# Event model by tracked (concrete) model.
EVENT_MODELS: dict[type[models.Model], type[models.Model]] = {entry.model: _track(entry) for entry in TRACKED}


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out"
    ADDRESS_THROTTLED = "address_throttled", "Address throttled"
    SESSION_EXPIRED = "session_expired", "Session lifetime reached"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    SIGNATURE_VERIFIED = "signature_verified", "Signing password accepted"
    SIGNATURE_FAILED = "signature_failed", "Signing password refused"
    SIGNING_FAILURES_REPORTED = "signing_failures_reported", "Repeated signing failures reported"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Signing second factor set up"
    SECOND_FACTOR_RESET = "second_factor_reset", "Signing second factor reset"
    EXPORT = "export", "Export"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_USED = "token_used", "API token used"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    ROLE_CHANGED = "role_changed", "Role or membership changed"


class SecurityEvent(models.Model):
    """One security-relevant event (docs/security.md): who, in which role, from which address,
    when. Append-only like the history tables: triggers refuse UPDATE, DELETE and TRUNCATE, and the
    runtime database role may only SELECT and INSERT here."""

    kind = models.CharField(max_length=32, choices=SecurityEventKind.choices)
    recorded_at = models.DateTimeField(db_default=ClockTimestamp(), editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The name typed at a failed sign-in (which may belong to nobody); the user's name otherwise.
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    site = models.ForeignKey(
        "participants.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "recorded_at"]),
            models.Index(fields=["username", "recorded_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SecurityEventKind.values), name="security_event_kind_known"
            )
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            no_truncate(),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username} {self.recorded_at:%Y-%m-%d %H:%M:%S}"


# Every append-only table: the runtime role gets SELECT and INSERT only (audit/roles.py).
HISTORY_MODELS: list[type[models.Model]] = [*EVENT_MODELS.values(), SecurityEvent]


def history_table(model: type[models.Model]) -> str | None:
    """The table holding the model's history; None for an untracked model."""
    event = EVENT_MODELS.get(model)
    return None if event is None else event._meta.db_table


def insert_events_sql(model: type[models.Model]) -> str | None:
    """The statement writing the insert events of rows a bulk load inserted with the row triggers
    off (a seeded population): the same columns and context the insert trigger writes, read from
    the rows `new` of the statement's data-modifying CTE. None for an untracked model."""
    event = EVENT_MODELS.get(model)
    if event is None:
        return None
    tracked = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
    pk = model._meta.pk.column if model._meta.pk is not None else "id"
    return (
        f'INSERT INTO "{event._meta.db_table}" ({", ".join(tracked)}, pgh_context, pgh_context_id,'
        " pgh_created_at, pgh_label, pgh_obj_id)"
        f" SELECT {', '.join('t.' + c for c in tracked)},"
        " NULLIF(CURRENT_SETTING('pghistory.context_metadata', TRUE), '')::JSONB,"
        " NULLIF(CURRENT_SETTING('pghistory.context_id', TRUE), '')::UUID,"
        f" NOW(), 'insert', t.{pk} FROM new t"
    )
