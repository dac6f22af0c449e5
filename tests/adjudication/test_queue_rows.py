"""The EAC queue's rows as queue_rows.py writes them: the markup the template gave, character for
character, for every state a row can be in; and their waiting times as Django's `timesince`."""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.template import Context, Template
from django.utils import timezone
from django.utils.timesince import timesince

from adjudication.queue_rows import QueueRow, queue_rows_html
from participants.models import User

# The rows as templates/adjudication/queue.html wrote them before queue_rows.py took them over.
_ROWS_TEMPLATE = """{% for e in escalations %}
    <tr data-testid="queue-row" data-escalation="{{ e.pk }}">
      <td class="text-nowrap" title="since {{ e.waiting_since }}">{{ e.waiting }}</td>
      <td class="fw-semibold">{{ e.participant.screening_number }}<div class="small text-body-secondary fw-normal">{{ e.participant.cohort }}{% if e.participant.lupus_nephritis %} · LN{% endif %}</div></td>
      <td>{{ e.participant.site.code }}</td>
      <td><code>{{ e.criterion_id }}</code> <span class="small text-body-secondary">{{ e.criterion_title }}</span><div class="small">{{ e.short_reason }}</div>
        {% if e.round > 1 %}<span class="badge text-bg-warning">evidence changed · round {{ e.round }}</span>{% endif %}</td>
      <td>{% if e.state == "info_requested" %}<span class="badge text-bg-secondary">waiting for site</span>{% else %}<span class="badge text-bg-info">open</span>{% endif %}</td>
      <td>{{ e.votes }} / {{ quorum }}{% if e.votes %} <span class="small text-body-secondary">({{ e.approvals }} approve)</span>{% endif %}
        {% if e.my_votes %}<div><span class="badge text-bg-light border">you signed</span></div>{% endif %}</td>
      <td>{% if e.claimed_by_id == user.pk %}<span class="badge text-bg-primary">you</span>{% elif e.claimed_by %}{{ e.claimed_by }}<div class="small text-body-secondary" title="claimed {{ e.claimed_since }}">{{ e.claimed_for }}{% if e.claim_is_stale %} · <span class="text-warning-emphasis" data-testid="stale-claim">unsigned past {{ claim_hours }} h</span>{% endif %}</div>{% else %}<span class="text-body-secondary">nobody</span>{% endif %}</td>
      <td class="text-end text-nowrap">
        {% if e.state == "open" and not e.my_votes %}
          {% if not e.claimed_by %}
          <form method="post" action="{{ e.claim_url }}" class="d-inline">{% csrf_token %}<button class="btn btn-sm btn-primary">Claim</button></form>
          {% elif e.claimed_by_id != user.pk and e.claim_is_stale %}
          <form method="post" action="{{ e.claim_url }}" class="d-inline">{% csrf_token %}<button class="btn btn-sm btn-outline-primary" data-testid="take-over">Take over</button></form>
          {% endif %}
        {% endif %}
        <a class="btn btn-sm btn-outline-secondary" href="{{ e.review_url }}">Open</a>
      </td>
    </tr>
  {% endfor %}"""

ME, OTHER, TOKEN, HOURS = 7, 8, "t0k3n", 48


def _values(pk: int, state: str, my_votes: int, votes: int, claim: str, round_: int, ln: bool) -> dict[str, Any]:
    """A row's columns as the page's statement gives them (QUEUE_COLUMNS)."""
    now = timezone.now()
    claimed_at = {"me": now, "other": now - timedelta(hours=3), "stale": now - timedelta(hours=HOURS + 1)}.get(claim)
    return {
        "pk": pk,
        "opened_at": now - timedelta(days=3, hours=pk % 24),
        "claimed_at": claimed_at,
        "claimed_by_id": {"me": ME, "other": OTHER, "stale": OTHER}.get(claim),
        "claimed_by__full_name": "" if claim == "stale" else "Ann <O'Neil>",
        "claimed_by__first_name": "",
        "claimed_by__last_name": "",
        "claimed_by__username": "eac.b&c",
        "participant__screening_number": f"S03-{pk:04d}",
        "participant__lupus_nephritis": ln if pk % 3 else None,
        "cohort": "SLE",
        "site__code": "S03",
        "criterion_id": "ssc.activity",
        "criterion_title": 'CRP "alone" < 10 & more',
        "engine_reason": "x" * (100 + 30 * (pk % 3)),
        "round": round_,
        "state": state,
        "votes": votes,
        "approvals": votes // 2,
        "my_votes": my_votes,
    }


def _row(*args: Any) -> QueueRow:
    return QueueRow.of(_values(*args), timezone.now(), HOURS)


def _as_template_saw(r: QueueRow) -> SimpleNamespace:
    """The row as the template read it: an escalation with its participant, site and reviewer."""
    return SimpleNamespace(
        pk=r.pk,
        waiting=r.waiting,
        waiting_since=r.waiting_since,
        participant=SimpleNamespace(
            screening_number=r.screening_number,
            cohort=r.cohort,
            lupus_nephritis=r.lupus_nephritis,
            site=SimpleNamespace(code=r.site_code),
        ),
        criterion_id=r.criterion_id,
        criterion_title=r.criterion_title,
        short_reason=r.short_reason,
        round=r.round,
        state=r.state,
        votes=r.votes,
        approvals=r.approvals,
        my_votes=r.my_votes,
        claimed_by_id=r.claimed_by_id,
        claimed_by=r.claimed_by or None,
        claimed_since=r.claimed_since,
        claimed_for=r.claimed_for,
        claim_is_stale=r.claim_is_stale,
        claim_url=f"/eac/{r.pk}/claim/",
        review_url=f"/eac/{r.pk}/",
    )


def test_rows_are_the_templates_markup() -> None:
    rows = [
        _row(pk, *combination)
        for pk, combination in enumerate(
            itertools.product(
                ["open", "info_requested"], [0, 1], [0, 2], ["", "me", "other", "stale"], [1, 2], [False, True]
            ),
            start=1,
        )
    ]
    expected = Template(_ROWS_TEMPLATE).render(
        Context(
            {
                "escalations": [_as_template_saw(r) for r in rows],
                "user": SimpleNamespace(pk=ME),
                "quorum": 2,
                "claim_hours": HOURS,
                "csrf_token": TOKEN,
            }
        )
    )
    written = queue_rows_html(
        rows,
        user_pk=ME,
        quorum=2,
        claim_hours=HOURS,
        csrf_token=TOKEN,
        review_url=lambda pk: f"/eac/{pk}/",
        claim_url=lambda pk: f"/eac/{pk}/claim/",
    )
    assert written == expected
    assert "Take over" in written and "Claim</button>" in written and "&lt;O&#x27;Neil&gt;" in written


def test_waiting_times_are_timesince() -> None:
    now = timezone.now()
    for minutes in (0, 1, 59, 60, 61, 60 * 24, 60 * 24 * 9 + 7, 60 * 24 * 40, 60 * 24 * 800):
        opened = now - timedelta(minutes=minutes)
        row = QueueRow.of({**_values(1, "open", 0, 0, "", 1, False), "opened_at": opened}, now, HOURS)
        assert row.waiting == timesince(opened, now), minutes


def test_reviewer_names_are_display_names() -> None:
    for full, first, last in (("Ann Full", "Ann", "Lee"), ("", "Ann", "Lee"), ("", "", "Lee"), ("", "", "")):
        user = User(username="eac.x", full_name=full, first_name=first, last_name=last)
        values = {
            **_values(1, "open", 0, 0, "other", 1, False),
            "claimed_by__full_name": full,
            "claimed_by__first_name": first,
            "claimed_by__last_name": last,
            "claimed_by__username": "eac.x",
        }
        assert QueueRow.of(values, timezone.now(), HOURS).claimed_by == user.display_name()
