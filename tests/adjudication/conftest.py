from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adjudication.demo import CASES_DIR, enter_case, load_case_file, shift_case
from participants.models import Participant, Role, Site, User

from ..factories import SiteFactory


@pytest.fixture
def site_c() -> Site:
    return SiteFactory(code="C03", name="Site C")


@pytest.fixture
def reviewer_a(make_user: Callable[..., User], site_a: Site) -> User:
    """An EAC reviewer from site A: never reviews site A's participants."""
    return make_user(Role.EAC_REVIEWER, site_a, "eac.a")


@pytest.fixture
def reviewer_b(make_user: Callable[..., User], site_b: Site) -> User:
    return make_user(Role.EAC_REVIEWER, site_b, "eac.b")


@pytest.fixture
def reviewer_c(make_user: Callable[..., User], site_c: Site) -> User:
    return make_user(Role.EAC_REVIEWER, site_c, "eac.c")


@pytest.fixture
def investigator_a(make_user: Callable[..., User], site_a: Site) -> User:
    return make_user(Role.INVESTIGATOR, site_a, "inv.a")


@pytest.fixture
def enter(
    coordinator_a: User, site_a: Site, django_capture_on_commit_callbacks: Any
) -> Callable[..., Participant]:
    """Enter an example case (dates moved to today) at site A and evaluate it, running the
    after-commit hooks (escalations open on them)."""

    def run(name: str, *, coordinator: User = coordinator_a, site: Site = site_a) -> Participant:
        with django_capture_on_commit_callbacks(execute=True):
            return enter_case(coordinator, site, shift_case(load_case_file(CASES_DIR / name)))

    return run
