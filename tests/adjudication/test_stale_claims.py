"""A claim left unsigned for EAC_CLAIM_HOURS can be taken over; before that it cannot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from adjudication import services
from adjudication.models import Escalation
from audit.models import EVENT_MODELS

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(enter, reviewer_b, settings) -> Escalation:  # type: ignore[no-untyped-def]
    settings.EAC_CLAIM_HOURS = 48
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    return services.claim(reviewer_b, e.pk)


def _age_claim(e: Escalation, hours: float) -> None:
    Escalation.objects.filter(pk=e.pk).update(claimed_at=timezone.now() - timedelta(hours=hours))


@pytest.mark.parametrize("hours", [0, 47.9])
def test_a_fresh_claim_is_refused_to_another_reviewer(held, reviewer_c, hours) -> None:  # type: ignore[no-untyped-def]
    _age_claim(held, hours)
    with pytest.raises(services.ClaimConflict, match="can be taken over from"):
        services.claim(reviewer_c, held.pk)
    held.refresh_from_db()
    assert held.claimed_by_id != reviewer_c.pk


def test_a_stale_claim_is_taken_over_and_the_trail_names_the_holder(held, reviewer_b, reviewer_c) -> None:  # type: ignore[no-untyped-def]
    _age_claim(held, 48.1)
    e = services.claim(reviewer_c, held.pk)
    assert e.claimed_by_id == reviewer_c.pk
    assert timezone.now() - e.claimed_at < timedelta(minutes=1)
    last = EVENT_MODELS[Escalation].objects.filter(pgh_obj_id=e.pk).order_by("-pgh_id").first()
    assert last is not None and last.claimed_by_id == reviewer_c.pk
    assert last.pgh_context["user"] == reviewer_c.pk
    assert last.pgh_context["reason"].startswith(f"stale claim taken over from {reviewer_b}")
    # The former holder can no longer sign, and must claim (now fresh for someone else) again.
    with pytest.raises(services.AdjudicationError, match="Claim the item before signing"):
        services.sign_review(
            reviewer_b, e.pk, action="approve", rationale="ok", password=PASSWORD, code=signing_code(reviewer_b)
        )
    with pytest.raises(services.ClaimConflict):
        services.claim(reviewer_b, e.pk)


def test_queue_and_review_page_offer_the_take_over_only_when_stale(client, held, reviewer_c) -> None:  # type: ignore[no-untyped-def]
    client.force_login(reviewer_c)
    queue, review = reverse("adjudication:queue"), reverse("adjudication:review", args=[held.pk])
    page = client.get(review).text
    assert 'data-testid="take-over"' not in page and "Another reviewer can take it over from" in page
    assert 'data-testid="take-over"' not in client.get(queue).text
    _age_claim(held, 49)
    assert 'data-testid="take-over"' in client.get(review).text
    listing = client.get(queue).text
    assert 'data-testid="take-over"' in listing and 'data-testid="stale-claim"' in listing
    response = client.post(reverse("adjudication:claim", args=[held.pk]), follow=True)
    assert "You hold this item now." in response.text
    held.refresh_from_db()
    assert held.claimed_by_id == reviewer_c.pk
