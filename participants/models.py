"""Sites, people and their roles, and the participants screened at a site."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


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


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Site coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    EAC_REVIEWER = "eac_reviewer", "EAC reviewer"
    MONITOR = "monitor", "Monitor"
    ADMIN = "admin", "Administrator"


# Roles whose work happens at one site: the membership must name it.
SITE_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)


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
    screening_start = models.DateField(null=True, blank=True)
    icf_signed = models.DateField("ICF signed", null=True, blank=True)
    planned_enrollment = models.DateField(null=True, blank=True)
    planned_day0 = models.DateField("planned Day 0", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["site__code", "screening_sequence"]
        constraints = [
            models.UniqueConstraint(fields=["site", "screening_sequence"], name="participant_site_sequence"),
            models.CheckConstraint(
                condition=Q(cohort=Cohort.SLE, lupus_nephritis__isnull=False)
                | (~Q(cohort=Cohort.SLE) & Q(lupus_nephritis__isnull=True)),
                name="participant_ln_stratum_only_for_sle",
            ),
        ]

    def __str__(self) -> str:
        return self.screening_number
