"""Two reviewers claim the same item at the same moment, in two transactions: one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from adjudication import services
from adjudication.models import Escalation

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_claims_one_wins(enter, reviewer_b, reviewer_c) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(user) -> None:  # type: ignore[no-untyped-def]
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                services.claim(user, e.pk)
            outcomes[user.username] = "won"
        except services.ClaimConflict:
            outcomes[user.username] = "lost"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in (reviewer_b, reviewer_c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["lost", "won"]
    e.refresh_from_db()
    winner = next(name for name, result in outcomes.items() if result == "won")
    assert e.claimed_by.username == winner
