"""Roles and the role sets that grant access: the one place that says which roles may do what."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Site coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    EAC_REVIEWER = "eac_reviewer", "EAC reviewer"
    MONITOR = "monitor", "Monitor"
    ADMIN = "admin", "Administrator"


# Roles whose work happens at one site: the membership must name it.
SITE_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)

# Roles that read participants of their site(s) through participants.selectors. EAC reviewers
# reach participants only through their escalations (adjudication), never through that list.
PARTICIPANT_READER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.ADMIN)
PARTICIPANT_WRITER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)

# Roles that review escalations: EAC reviewers (the committee's queue) and investigators (their
# site's sign-offs).
REVIEWER_ROLES = (Role.EAC_REVIEWER, Role.INVESTIGATOR)

# When the user has not chosen, the first membership in this order is current.
ROLE_PRIORITY = [Role.ADMIN, Role.MONITOR, Role.EAC_REVIEWER, Role.INVESTIGATOR, Role.COORDINATOR]
