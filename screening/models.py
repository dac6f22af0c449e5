"""Stored evaluations: what the engine said about a participant, when, under which protocol, and why."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from participants.choices import engine_choices
from participants.models import Cohort, OutcomeStatus, Participant, ScreeningStatus, Site, User
from participants.triggers import copies_site_and_cohort
from screening.criteria import results as criteria


class ProtocolVersion(models.Model):
    """A protocol version known to the engine (screening/criteria/protocol.py holds its rules);
    the row records when the study started using it."""

    version = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    effective_from = models.DateField()
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_protocol"
            ),
        ]

    def __str__(self) -> str:
        return self.version


class SiteApproval(models.Model):
    """A site's ethics board approved a protocol version on `approved_on`: from that day the
    site's participants are evaluated under it (screening.protocols.versions_in_force). Evaluating
    under a version before its approval would be a protocol deviation, so nothing else decides.

    `applied_at` is when the site's participants were marked for re-evaluation under it (on
    activation when the date has come, else by the sweep on that day)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="protocol_approvals")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="site_approvals")
    approved_on = models.DateField(help_text="The date the site's ethics board approved the version.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site_id", "approved_on"]
        constraints = [
            models.UniqueConstraint(fields=["site", "protocol"], name="one_approval_per_site_and_version"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id} at site {self.site_id} from {self.approved_on}"


# The engine's enums as Django choices (screening/criteria/results.py is the one source).
Outcome = engine_choices(
    "Outcome",
    criteria.Outcome,
    {
        criteria.Outcome.PASS: "Pass",
        criteria.Outcome.FAIL: "Fail",
        criteria.Outcome.MISSING: "Missing data",
        criteria.Outcome.REVIEW: "Needs review",
        criteria.Outcome.NOT_APPLICABLE: "Not applicable",
    },
)
ReviewBy = engine_choices(
    "ReviewBy",
    criteria.ReviewBy,
    {criteria.ReviewBy.EAC: "EAC", criteria.ReviewBy.INVESTIGATOR: "Investigator"},
)


class Trigger(models.TextChoices):
    DATA_CHANGE = "data_change", "Data changed"
    IMPORT = "import", "Lab import"
    SWEEP = "sweep", "Periodic sweep"
    EXPIRY = "expiry", "A result reached its valid-until date"
    DECISION = "decision", "Review decision"
    MANUAL = "manual", "Requested by a user"
    PROTOCOL_AMENDMENT = "protocol_amendment", "Protocol amendment"
    ENROLLMENT = "enrollment", "Enrollment check on the enrollment date"


class StateCount(models.Model):
    """The number of screening states per (site, cohort, status, outcome), so that the dashboard's
    status counts read a few rows whatever the population. Written only by the database: statement
    triggers on ScreeningState add each statement's net change per key (migration 0015); a writer
    that turns the triggers off rebuilds it (`screening.state_counts.rebuild_state_counts`).
    A row whose count falls to 0 stays: deleting it would race with a writer adding to it."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="screening_state_counts", db_index=False)
    cohort = models.CharField(max_length=3, choices=Cohort.choices)
    status = models.CharField(max_length=20, choices=ScreeningStatus.choices)
    outcome = models.CharField(max_length=20, choices=OutcomeStatus.choices)
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "cohort", "status", "outcome"], name="state_count_key"),
            # A count below 0 means a change was applied twice or a rebuild was missed.
            models.CheckConstraint(condition=Q(n__gte=0), name="state_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.cohort} {self.status} {self.outcome}: {self.n}"


STATE_COUNT_KEY = "site_id, cohort, status, outcome"


def _count_change(*, new: str | None = None, old: str | None = None) -> str:
    """A statement trigger's function adding the statement's net change of states (`new` rows
    +1, `old` rows -1, transition tables) to StateCount: one upsert, keys whose net is 0 left out
    (an update that keeps every key, as the sweep's marks and confirmations, locks no count), rows
    in key order so that concurrent writers lock counts in the same order.

    PostgreSQL checks a proposed row's CHECK constraints before it looks for a conflict, so the
    proposed row carries the change only where it is positive (a new key) and the update takes
    the change from `change`. A key that loses states it never counted (the counts missed a
    write with the triggers off) would be inserted at 0 instead: the statement refuses it."""
    key, table = STATE_COUNT_KEY, StateCount._meta.db_table
    changes = [f"SELECT {key}, 1 AS n FROM {new}"] if new else []
    changes += [f"SELECT {key}, -1 AS n FROM {old}"] if old else []
    same_key = " AND ".join(f"d.{column} = {{row}}.{column}" for column in key.split(", "))
    return (
        f"WITH change AS (SELECT {key}, sum(n) AS n FROM ({' UNION ALL '.join(changes)}) AS d"
        f" GROUP BY {key} HAVING sum(n) <> 0),"
        f" applied AS (INSERT INTO {table} AS c ({key}, n) SELECT {key}, greatest(n, 0) FROM change"
        f" ORDER BY {key} ON CONFLICT ({key}) DO UPDATE"
        f" SET n = c.n + (SELECT d.n FROM change d WHERE {same_key.format(row='EXCLUDED')}))"
        # The main query sees the counts as they were before the statement.
        f" SELECT count(*) INTO uncounted FROM change d WHERE d.n < 0"
        f" AND NOT EXISTS (SELECT FROM {table} c WHERE {same_key.format(row='c')});"
        " IF uncounted > 0 THEN RAISE EXCEPTION 'state counts: % keys lose states they never counted"
        " (rebuild them: screening.state_counts.rebuild_state_counts)', uncounted; END IF;"
        " RETURN NULL;"
    )


class ScreeningState(models.Model):
    """The evaluation layer's state of one participant: the mark for re-evaluation, and the overall
    status of the latest stored evaluation, copied for lists, filters and the sweep.

    One row per participant, created with it (`ensure_state` on registration) and written only by
    screening; `data_version` stays on the participant, counted by the participants layer. An
    evaluation records the version it saw and clears the mark only if no change came in meanwhile
    (DESIGN.md "Re-evaluation"): the mark is the truth, the task queue only the fast path."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, primary_key=True, related_name="screening_state"
    )
    evaluated_version = models.PositiveIntegerField(default=0)
    reevaluation_requested_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # No single-column indexes on the status, its date or the outcome: the indexes below serve
    # every reader, and each index more is one more entry written by every evaluation's update of
    # this row (an update that changes an indexed column is never HOT).
    status = models.CharField(
        max_length=20, choices=ScreeningStatus.choices, default=ScreeningStatus.NOT_EVALUATED
    )
    status_valid_until = models.DateField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # How screening ended (copied from the participant's ScreeningOutcome, for lists and the sweep,
    # which leaves a participant with an outcome alone).
    outcome = models.CharField(
        max_length=20, choices=OutcomeStatus.choices, default=OutcomeStatus.IN_SCREENING
    )
    outcome_on = models.DateField(null=True, blank=True)
    # What holds the participant back in the latest evaluation, written with the status so that
    # lists need no criterion rows: {"failing": [[id, title], …], "missing": […], "reviews": […],
    # "eligible_from": "YYYY-MM-DD" or null} (screening.evaluation.holding_back).
    holding_back = models.JSONField(default=dict, blank=True)
    # The participant's site and cohort, copied so that the dashboard counts statuses from this
    # table's index alone. The database keeps them equal to the participant's: a trigger fills
    # them when a writer leaves them out, and a foreign key on (participant, site, cohort)
    # refuses other values and cascades a change of the participant's (migration 0011).
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False)
    cohort = models.CharField(max_length=3, choices=Cohort.choices, editable=False)

    class Meta:
        triggers = [
            copies_site_and_cohort("state_copies_site_and_cohort"),
            # The counts per key (StateCount). PostgreSQL allows transition tables on a trigger of
            # one event only, hence one trigger per event.
            *(
                pgtrigger.Trigger(
                    name=f"state_counts_{event}",
                    level=pgtrigger.Statement,
                    declare=[("uncounted", "integer")],
                    when=pgtrigger.After,
                    operation=operation,
                    referencing=pgtrigger.Referencing(**tables),
                    func=_count_change(**tables),
                )
                for event, operation, tables in (
                    ("insert", pgtrigger.Insert, {"new": "new_states"}),
                    ("update", pgtrigger.Update, {"old": "old_states", "new": "new_states"}),
                    ("delete", pgtrigger.Delete, {"old": "old_states"}),
                )
            ),
            pgtrigger.Trigger(
                name="state_counts_truncate",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Truncate,
                func=f"DELETE FROM {StateCount._meta.db_table}; RETURN NULL;",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=OutcomeStatus.IN_SCREENING, outcome_on__isnull=True)
                | (~Q(outcome=OutcomeStatus.IN_SCREENING) & Q(outcome_on__isnull=False)),
                name="screening_state_outcome_has_date",
            ),
        ]
        indexes = [
            # The dashboard's status counts and its pages, per site and status, need no table scan.
            models.Index(fields=["status", "participant"], name="state_status_participant"),
            # The dashboard's status counts per site (and cohort, and outcome): an index-only scan.
            models.Index(fields=["site", "cohort", "status", "outcome"], name="state_site_counts"),
            # The dashboard's results expiring soon of those in screening, soonest first, per site
            # and across sites: a page reads its rows from the index.
            models.Index(
                fields=["site", "status_valid_until", "participant"],
                condition=Q(outcome=OutcomeStatus.IN_SCREENING),
                name="state_site_expiring",
            ),
            models.Index(
                fields=["status_valid_until", "participant"],
                condition=Q(outcome=OutcomeStatus.IN_SCREENING),
                name="state_expiring",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.status}"


class Evaluation(models.Model):
    """One run of the engine for a participant, kept forever with the case it read so that it can
    be shown and re-derived exactly."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="evaluations")
    sequence = models.PositiveIntegerField()
    as_of = models.DateField()
    protocol_version = models.CharField(max_length=30)
    engine_version = models.CharField(max_length=20)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    trigger_detail = models.CharField(max_length=300, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data_version = models.PositiveIntegerField(
        help_text="The participant's data version this evaluation read."
    )
    # The screening case the engine read, as exact JSON text (cases/README.md format): decimals stay
    # exact, so the evaluation can be re-derived with `screen`.
    case_json = models.TextField()
    overall = models.CharField(max_length=20, choices=ScreeningStatus.choices)
    valid_until = models.DateField(null=True, blank=True)
    eligible_from = models.DateField(null=True, blank=True)
    # SHA-256 of what decides the results (engine version, data version, the case without its
    # as-of date) and of the results themselves: a later run with the same digest confirms this
    # evaluation (Confirmation) instead of storing the same criterion rows again.
    result_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant_id", "-sequence"]
        get_latest_by = "sequence"
        constraints = [
            models.UniqueConstraint(fields=["participant", "sequence"], name="evaluation_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} #{self.sequence} {self.overall}"


class Confirmation(models.Model):
    """A later run of the engine that read the same case (only the as-of date differs, same data
    version) and gave the same results as `evaluation`: recorded instead of a new evaluation with
    the same criterion rows. The run's case is the evaluation's `case_json` with `dates.as_of` set
    to `as_of`, so it can be re-derived with `screen` like the evaluation itself. Append-only."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="confirmations")
    as_of = models.DateField()
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    trigger_detail = models.CharField(max_length=300, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data_version = models.PositiveIntegerField(help_text="The participant's data version this run read.")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "evaluation confirmation"
        ordering = ["evaluation_id", "confirmed_at", "pk"]
        indexes = [models.Index(fields=["evaluation", "confirmed_at"])]
        triggers = [
            pgtrigger.Protect(name="confirmation_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"evaluation {self.evaluation_id} confirmed as of {self.as_of}"


class CriterionResult(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="results")
    position = models.PositiveSmallIntegerField(help_text="Catalogue order.")
    criterion_id = models.CharField(max_length=40)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    review_by = models.CharField(max_length=15, choices=ReviewBy.choices, blank=True)
    reason = models.TextField()
    missing = models.JSONField(default=list, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    eligible_from = models.DateField(null=True, blank=True)
    repeat_from = models.DateField(null=True, blank=True)
    evidence_digest = models.CharField(max_length=64, blank=True)
    # The evidence the digest covers (decimals and dates written as text).
    evidence = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["evaluation_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "criterion_id"], name="criterion_result_unique"),
            models.CheckConstraint(
                condition=Q(outcome="REVIEW", review_by__in=["eac", "investigator"])
                | (~Q(outcome="REVIEW") & Q(review_by="")),
                name="criterion_result_review_by_only_for_review",
            ),
        ]
        indexes = [
            models.Index(fields=["criterion_id", "outcome"]),
            # The screening log's review column: the few REVIEW rows of an evaluation without
            # reading its 57 rows (audit.reports).
            models.Index(
                fields=["evaluation", "position"], condition=Q(outcome="REVIEW"), name="criterionresult_review"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.outcome}"


class AdjudicationDecision(models.TextChoices):
    """The case format's `adjudications[].decision` (cases/README.md)."""

    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"


class Adjudication(models.Model):
    """A decision on a REVIEW result that the engine reads (the case's `adjudications`): data of
    the evaluation layer. The committee's workflow (adjudication app) hands each decision over
    through screening.services.record_adjudication; screening never reads the workflow's tables.
    Append-only: a later decision on the same criterion wins (CRITERIA.md § 1.8)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="adjudications")
    criterion_id = models.CharField(max_length=40)
    review_by = models.CharField(max_length=15, choices=ReviewBy.choices)
    decision = models.CharField(max_length=10, choices=AdjudicationDecision.choices)
    date = models.DateField()
    evidence_digest = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)
    # The workflow's record of the decision (adjudication.EscalationDecision), for tracing.
    source_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant_id", "recorded_at", "pk"]
        indexes = [models.Index(fields=["participant", "recorded_at"])]
        triggers = [
            pgtrigger.Protect(name="adjudication_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.decision} on {self.date}"

    def case_entry(self) -> dict[str, str]:
        """The entry of the case format's `adjudications` list."""
        entry = {
            "criterion": self.criterion_id,
            "review_by": self.review_by,
            "decision": self.decision,
            "date": self.date.isoformat(),
            "evidence_digest": self.evidence_digest,
        }
        if self.note:
            entry["note"] = self.note
        return entry


class FailureCategory(models.TextChoices):
    """Why screening failed (the screening log's failure category)."""

    CRITERIA_NOT_MET = "criteria_not_met", "Eligibility criteria not met"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    INVESTIGATOR_DECISION = "investigator_decision", "Investigator decision"
    SPONSOR_DECISION = "sponsor_decision", "Sponsor decision or slot not available"
    OTHER = "other", "Other"


class ScreeningOutcome(models.Model):
    """How a participant's screening ended: enrolled (with the investigator's signed eligibility
    checklist), screen failed (with its category) or withdrawn before enrollment. One per
    participant (a re-screening is a new participant), append-only: the screening log is an
    essential document, and a later data change is flagged against `data_version`, never folded
    back into the outcome."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="screening_outcome"
    )
    kind = models.CharField(max_length=20, choices=OutcomeStatus.choices)
    on_date = models.DateField(help_text="The date of enrollment, screen failure or withdrawal.")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=1000, blank=True, help_text="The reason for change.")
    # The participant's data version when the outcome was recorded: a higher one later means the
    # data changed after the outcome (flagged for the sponsor).
    data_version = models.PositiveIntegerField()
    failure_category = models.CharField(max_length=30, choices=FailureCategory.choices, blank=True)
    failure_detail = models.CharField(max_length=1000, blank=True)
    # The criteria failing in `evaluation` (criteria not met), in catalogue order.
    failing_criteria = models.JSONField(default=list, blank=True)
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Enrollment: the eligibility checklist exactly as the investigator signed it (the JSON, the
    # HTML shown, and the SHA-256 of the JSON), with the signature's manifestation.
    checklist_json = models.TextField(blank=True)
    checklist_html = models.TextField(blank=True)
    checklist_digest = models.CharField(max_length=64, blank=True)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signer_name = models.CharField(max_length=150, blank=True)
    signature_meaning = models.CharField(max_length=500, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=OutcomeStatus.IN_SCREENING), name="screening_outcome_is_an_end"
            ),
            models.CheckConstraint(
                condition=~Q(kind=OutcomeStatus.ENROLLED)
                | (
                    Q(signer__isnull=False, signed_at__isnull=False, evaluation__isnull=False)
                    & ~Q(signer_name="")
                    & ~Q(signature_meaning="")
                    & ~Q(checklist_digest="")
                    & ~Q(checklist_json="")
                    & ~Q(checklist_html="")
                ),
                name="screening_outcome_enrollment_is_signed",
            ),
            models.CheckConstraint(
                condition=Q(kind=OutcomeStatus.ENROLLED) | ~Q(reason=""),
                name="screening_outcome_end_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(kind=OutcomeStatus.SCREEN_FAILED) & ~Q(failure_category=""))
                | (~Q(kind=OutcomeStatus.SCREEN_FAILED) & Q(failure_category="")),
                name="screening_outcome_failure_has_category",
            ),
            models.CheckConstraint(
                condition=~Q(failure_category=FailureCategory.OTHER) | ~Q(failure_detail=""),
                name="screening_outcome_other_has_text",
            ),
            models.CheckConstraint(
                condition=~Q(failure_category=FailureCategory.CRITERIA_NOT_MET)
                | Q(evaluation__isnull=False),
                name="screening_outcome_criteria_failure_names_evaluation",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="screening_outcome_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.kind} on {self.on_date}"

    @property
    def changed_after(self) -> bool:
        """The participant's data changed after the outcome was recorded."""
        return self.participant.data_version > self.data_version
