"""Demo data: every demo reviewer has open items, none of their own site."""

from __future__ import annotations

import pytest

from adjudication.demo import load_demo_escalations
from adjudication.selectors import eac_queue, pending_signoffs
from participants.models import Membership, Role, User
from screening.demo import load_demo_data

pytestmark = pytest.mark.django_db


def test_demo_reviewers_have_open_items(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        load_demo_data()
        first = load_demo_escalations()
    assert first["escalations"] >= 3
    for username in ("eac.a", "eac.b", "eac.c"):
        reviewer = User.objects.get(username=username)
        own = set(Membership.objects.filter(user=reviewer).values_list("site_id", flat=True)) - {None}
        items = list(eac_queue(reviewer))
        assert items, username
        assert not {e.participant.site_id for e in items} & own
    assert pending_signoffs(User.objects.get(username="inv.s02")).exists()
    assert not pending_signoffs(User.objects.get(username="inv.s01")).exists()
    assert Membership.objects.filter(role=Role.EAC_REVIEWER).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        again = load_demo_escalations()
    assert again == {"participants": 0, "escalations": 0}
