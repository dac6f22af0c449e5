"""Sites, people and their roles, and the participants screened at a site."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from screening.criteria.results import Overall
from screening.criteria.vocabulary import LAB_TESTS_BY_KEY

from .choices import engine_choices
from .roles import SITE_ROLES, Role


class User(AbstractUser):
    """A person who logs in. The full name is what an electronic signature shows."""

    full_name = models.CharField(max_length=150, blank=True)

    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.display_name()


class Site(models.Model):
    code = models.CharField(max_length=10, unique=True, help_text="Prefix of the site's screening numbers.")
    name = models.CharField(max_length=200)
    # Highest screening sequence issued so far; incremented under a row lock.
    last_screening_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SiteLabUnit(models.Model):
    """A site setting: the unit its laboratory reports a test in, which the screening visit form
    pre-selects (a coordinator still changes it when a report says otherwise)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lab_units")
    test = models.CharField(max_length=30, help_text="The test's key in the case format (anc, creatinine, ...).")
    unit = models.CharField(max_length=20, help_text="As the case format spells it (/uL, 10^9/L, umol/L, ...).")

    class Meta:
        ordering = ["site__code", "test"]
        constraints = [models.UniqueConstraint(fields=["site", "test"], name="site_lab_unit_unique")]

    def __str__(self) -> str:
        return f"{self.site.code} {self.test}: {self.unit}"

    def clean(self) -> None:
        test = LAB_TESTS_BY_KEY.get(self.test)
        if test is None:
            raise ValidationError({"test": "No such test in the case format."})
        if test.units and self.unit not in test.offered_units:
            raise ValidationError({"unit": f"Choose one of: {', '.join(test.offered_units)}."})


class Membership(models.Model):
    """A user's role, at a site for site roles; a reviewer's site is their own institution."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="Required for coordinators and investigators. For a monitor, empty means every site.",
    )

    class Meta:
        ordering = ["user__username", "role", "site__code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "site"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(site__isnull=True), name="membership_unique_siteless"
            ),
            models.CheckConstraint(
                condition=~Q(role__in=[r.value for r in SITE_ROLES]) | Q(site__isnull=False),
                name="membership_site_role_has_site",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.ADMIN) | Q(site__isnull=True),
                name="membership_admin_has_no_site",
            ),
        ]

    def __str__(self) -> str:
        where = f" at {self.site.code}" if self.site_id else ""
        return f"{self.user.username}: {self.get_role_display()}{where}"


class Cohort(models.TextChoices):
    SLE = "SLE", "SLE"
    IIM = "IIM", "IIM"
    SSC = "SSc", "SSc"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


# The participant's overall status after its latest stored evaluation (CRITERIA.md § 1.2): the
# engine's Overall values, and NOT_EVALUATED before the first evaluation. Stored by the evaluation
# layer (screening.ScreeningState.status); the dashboard's filter offers these values.
ScreeningStatus = engine_choices(
    "ScreeningStatus",
    Overall,
    {
        Overall.ELIGIBLE: "Eligible",
        Overall.INELIGIBLE: "Ineligible",
        Overall.INCOMPLETE: "Incomplete",
        Overall.PENDING_REVIEW: "Pending review",
    },
    before=(("NOT_EVALUATED", "Not evaluated yet"),),
)


class OutcomeStatus(models.TextChoices):
    """How a screening attempt ended (the screening log's outcome). Stored by the evaluation layer
    (screening.ScreeningState.outcome, with the signed record in screening.ScreeningOutcome); the
    dashboard's filter offers these values."""

    IN_SCREENING = "in_screening", "In screening"
    ENROLLED = "enrolled", "Enrolled"
    SCREEN_FAILED = "screen_failed", "Screen failed"
    WITHDRAWN = "withdrawn", "Withdrawn before enrollment"


# The outcomes that end screening.
ENDED = (OutcomeStatus.ENROLLED, OutcomeStatus.SCREEN_FAILED, OutcomeStatus.WITHDRAWN)
# Initials as stored: two to four capital letters (the form upper-cases what is typed).
INITIALS_PATTERN = r"^[A-Z]{2,4}$"


class Participant(models.Model):
    """A screening candidate. Identifying data is kept to what the criteria need."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    screening_sequence = models.PositiveIntegerField()
    screening_number = models.CharField(max_length=30, unique=True)
    cohort = models.CharField(max_length=3, choices=Cohort.choices)
    lupus_nephritis = models.BooleanField(
        null=True, blank=True, help_text="SLE only: the lupus nephritis stratum."
    )
    sex = models.CharField(max_length=1, choices=Sex.choices, help_text="Sex assigned at birth.")
    birth_date = models.DateField()
    # Asked at registration for the duplicate check (2-4 capital letters); blank for participants
    # registered before it was asked, which the check treats as "could be anyone" (docs/registration.md).
    initials = models.CharField(max_length=4, blank=True, default="")
    screening_start = models.DateField(null=True, blank=True)
    icf_signed = models.DateField("ICF signed", null=True, blank=True)
    planned_enrollment = models.DateField(null=True, blank=True)
    planned_day0 = models.DateField("planned Day 0", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Every change to the participant's data bumps data_version (participants.changes.announce_change)
    # in the same transaction; the evaluation layer keeps the version its latest evaluation read, the
    # mark and the status in its own table (screening.ScreeningState, `screening_state`).
    data_version = models.PositiveIntegerField(default=0)
    # A re-screening is a new attempt of the same candidate under the same sequence number
    # (S01-0007-R1): its own records and evaluations, linked to the attempt before it.
    attempt = models.PositiveSmallIntegerField(default=0, help_text="0 for the first screening.")
    previous_attempt = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_attempt"
    )

    class Meta:
        ordering = ["site__code", "screening_sequence", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "screening_sequence", "attempt"], name="participant_site_sequence_attempt"
            ),
            # The target of the evaluation layer's copy of the site and cohort (screening 0011).
            models.UniqueConstraint(fields=["id", "site", "cohort"], name="participant_id_site_cohort"),
            models.CheckConstraint(
                condition=Q(attempt=0, previous_attempt__isnull=True)
                | Q(attempt__gt=0, previous_attempt__isnull=False),
                name="participant_rescreen_links_earlier_attempt",
            ),
            models.CheckConstraint(
                condition=Q(cohort=Cohort.SLE, lupus_nephritis__isnull=False)
                | (~Q(cohort=Cohort.SLE) & Q(lupus_nephritis__isnull=True)),
                name="participant_ln_stratum_only_for_sle",
            ),
            models.CheckConstraint(
                condition=Q(initials="") | Q(initials__regex=INITIALS_PATTERN),
                name="participant_initials_shape",
            ),
        ]
        indexes = [models.Index(fields=["birth_date", "sex"], name="participant_identity")]

    def __str__(self) -> str:
        return self.screening_number


class RecordState(models.TextChoices):
    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded by a correction"
    VOIDED = "voided", "Voided"


class ClinicalRecord(models.Model):
    """Something recorded about a participant. Never deleted: a correction supersedes it with a
    reason for change, a mistake is voided with a reason. Only CURRENT records reach the engine."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=RecordState.choices, default=RecordState.CURRENT)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)
    # Set on a correction: the record this one replaces, and why.
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    change_reason = models.CharField(max_length=500, blank=True)
    voided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True
        ordering = ["entered_at", "pk"]

    @classmethod
    def record_constraints(cls, name: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(change_reason=""),
                name=f"{name}_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state=RecordState.VOIDED)
                | (Q(voided_at__isnull=False) & Q(voided_by__isnull=False) & ~Q(void_reason="")),
                name=f"{name}_void_has_reason",
            ),
        ]


class LabResult(ClinicalRecord):
    """A dated measurement: laboratory tests, body weight, FVC and DLCO (FACTS.md § 4)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="lab_results")
    test = models.CharField(max_length=30)
    value_number = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    value_text = models.CharField(max_length=20, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    uln = models.DecimalField("ULN", max_digits=20, decimal_places=8, null=True, blank=True)
    specimen = models.CharField(max_length=10, blank=True)
    collected = models.DateField()

    class Meta(ClinicalRecord.Meta):
        constraints = [
            *ClinicalRecord.record_constraints("labresult"),
            models.CheckConstraint(
                condition=(Q(value_number__isnull=False) & Q(value_text=""))
                | (Q(value_number__isnull=True) & ~Q(value_text="")),
                name="labresult_one_value",
            ),
        ]
        indexes = [models.Index(fields=["participant", "state"])]

    def __str__(self) -> str:
        value = (
            self.value_text
            or f"{self.value_number.normalize() if self.value_number is not None else ''} {self.unit}"
        )
        return f"{self.test} {value.strip()} ({self.collected})"


class Assessment(ClinicalRecord):
    """One fact of FACTS.md § 5: a score, classification, attestation, statement or history flag.
    Dated facts (SLEDAI-2K, BILAG, CDASI, MDI, mRSS, ...) carry their assessment date."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="assessments")
    key = models.CharField(max_length=60)
    value = models.JSONField()
    date = models.DateField(null=True, blank=True)

    class Meta(ClinicalRecord.Meta):
        constraints = [
            *ClinicalRecord.record_constraints("assessment"),
            # One current value per fact: a new value is a correction of the old one.
            models.UniqueConstraint(
                fields=["participant", "key"], condition=Q(state="current"), name="assessment_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value}" + (f" ({self.date})" if self.date else "")


class Therapy(ClinicalRecord):
    """A treatment period (PRIOR-THERAPIES.md agents); a restarted therapy is two periods."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="therapies")
    agent = models.CharField(max_length=60)
    agent_name = models.CharField(max_length=100, blank=True)
    start = models.DateField()
    last_dose = models.DateField(null=True, blank=True)
    ongoing = models.BooleanField()
    stopped_for_intolerance = models.BooleanField(default=False)
    counts_as_immunosuppressant = models.BooleanField(null=True, blank=True)

    class Meta(ClinicalRecord.Meta):
        verbose_name_plural = "therapies"
        constraints = [
            *ClinicalRecord.record_constraints("therapy"),
            models.CheckConstraint(
                condition=Q(ongoing=True) | Q(last_dose__isnull=False), name="therapy_stopped_has_last_dose"
            ),
            models.CheckConstraint(
                condition=Q(last_dose__isnull=True) | Q(last_dose__gte=models.F("start")),
                name="therapy_last_dose_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_name or self.agent} from {self.start}"


class ClinicalEvent(ClinicalRecord):
    """A dated clinical history event (FACTS.md § 6); `details` holds the kind's own fields."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30)
    date = models.DateField()
    details = models.JSONField(default=dict, blank=True)

    class Meta(ClinicalRecord.Meta):
        constraints = ClinicalRecord.record_constraints("clinicalevent")

    def __str__(self) -> str:
        return f"{self.kind} on {self.date}"


class HistoryReview(ClinicalRecord):
    """The confirmation that a history area was taken in full, so that no entry means none."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="history_reviews")
    area = models.CharField(max_length=30)

    class Meta(ClinicalRecord.Meta):
        constraints = [
            *ClinicalRecord.record_constraints("historyreview"),
            models.UniqueConstraint(
                fields=["participant", "area"], condition=Q(state="current"), name="historyreview_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"history of {self.area} taken in full"


# --- Duplicate check at registration ---------------------------------------------------------------


class DuplicateOutcome(models.TextChoices):
    CLEAR = "clear", "No possible duplicate"
    POSSIBLE = "possible", "Possible duplicate shown"
    NOT_SAME = "not_same", "Confirmed not the same person"
    STOPPED = "stopped", "Registration stopped"


class DuplicateCheck(models.Model):
    """One duplicate check run before a registration is saved, and what the coordinator decided.

    Of another site only the fact that a possible duplicate exists is kept: never its screening
    number, site or count, so that this record (and the audit trail that shows it) leaks nothing."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="duplicate_checks")
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    initials = models.CharField(max_length=4)
    same_site_matches = ArrayField(
        models.CharField(max_length=30), default=list, blank=True, help_text="Screening numbers at the site."
    )
    other_site_match = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=DuplicateOutcome.choices)
    reason = models.CharField(
        max_length=500, blank=True, help_text="Why the coordinator is sure it is not the same person."
    )
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # The participant registered after the check (CLEAR or NOT_SAME); none while open or stopped.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="duplicate_checks"
    )

    class Meta:
        ordering = ["checked_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=DuplicateOutcome.CLEAR, same_site_matches=[], other_site_match=False)
                | (~Q(outcome=DuplicateOutcome.CLEAR) & (~Q(same_site_matches=[]) | Q(other_site_match=True))),
                name="duplicatecheck_clear_means_no_match",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[DuplicateOutcome.CLEAR, DuplicateOutcome.NOT_SAME], participant__isnull=False)
                | (
                    Q(outcome__in=[DuplicateOutcome.POSSIBLE, DuplicateOutcome.STOPPED])
                    & Q(participant__isnull=True)
                ),
                name="duplicatecheck_registered_only_when_cleared",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=DuplicateOutcome.NOT_SAME)
                | (~Q(reason="") & Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="duplicatecheck_not_same_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=DuplicateOutcome.STOPPED)
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="duplicatecheck_stop_is_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"duplicate check at site {self.site_id}: {self.get_outcome_display()}"


# --- Consent form versions ---------------------------------------------------------------------------


class ConsentVersion(models.Model):
    """A version of the informed consent form, registered by an administrator."""

    label = models.CharField(max_length=30, unique=True, help_text="As printed on the form, e.g. 2.0.")
    document_date = models.DateField(help_text="The date printed on the form.")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_date", "label"]

    def __str__(self) -> str:
        return f"version {self.label} of {self.document_date.isoformat()}"


class ConsentApproval(models.Model):
    """A site's ethics board approved a consent form version; it is the site's form from
    `effective_on` until the next approved version takes effect."""

    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="approvals")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="consent_approvals")
    effective_on = models.DateField(help_text="Approved for use at the site from this date.")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__code", "effective_on"]
        constraints = [
            models.UniqueConstraint(fields=["site", "version"], name="consentapproval_once_per_site"),
            # One form in effect per day: two versions taking effect the same day would be ambiguous.
            models.UniqueConstraint(fields=["site", "effective_on"], name="consentapproval_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.version} at site {self.site_id} from {self.effective_on.isoformat()}"


class ConsentSignature(ClinicalRecord):
    """The participant signed a consent form version on `signed_on`. A re-consent is another
    signature; a mistaken entry is voided with a reason (nothing is deleted)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consent_signatures")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="signatures")
    signed_on = models.DateField()

    class Meta(ClinicalRecord.Meta):
        constraints = [
            *ClinicalRecord.record_constraints("consentsignature"),
            models.UniqueConstraint(
                fields=["participant", "version"], condition=Q(state="current"), name="consentsignature_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.version.label} signed {self.signed_on.isoformat()}"
