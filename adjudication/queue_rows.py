"""The EAC queue's rows, built from the columns the page shows (no model instances) and written
here rather than by the template: a row had some forty template nodes, and a
page renders 50. The markup is the one the template gave, character for character
(tests/adjudication/test_queue_rows.py)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language

from .models import EscalationState

# The columns a row reads: the escalation's own, its participant's number and lupus nephritis,
# the reviewer holding it, and the eac_queue selector's vote counts.
QUEUE_COLUMNS = (
    "pk",
    "opened_at",
    "claimed_at",
    "claimed_by_id",
    "claimed_by__full_name",
    "claimed_by__first_name",
    "claimed_by__last_name",
    "claimed_by__username",
    "participant__screening_number",
    "participant__lupus_nephritis",
    "cohort",
    "site__code",
    "criterion_id",
    "criterion_title",
    "engine_reason",
    "round",
    "state",
    "votes",
    "approvals",
    "my_votes",
)


@lru_cache(maxsize=512)
def _unit(language: str | None, name: str, number: int) -> str:
    return str(TIME_STRINGS[name] % {"num": number})


class _CachedUnit:
    """A `timesince` unit ("3 days") translated once per language and number: the lazy
    translation of each unit was most of the waiting column's time."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __mod__(self, values: Mapping[str, int]) -> str:
        return _unit(get_language(), self.name, values["num"])


_TIME_STRINGS = {name: _CachedUnit(name) for name in TIME_STRINGS}


def _local_minute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class QueueRow:
    """One open item as the queue shows it, its cells' text computed once (the same text as the
    template's `|timesince`, `|date:'Y-m-d H:i'` and `|truncatechars:140` gave)."""

    pk: int
    waiting: str
    waiting_since: str
    screening_number: str
    cohort: str
    lupus_nephritis: bool
    site_code: str
    criterion_id: str
    criterion_title: str
    short_reason: str
    round: int
    state: str
    votes: int
    approvals: int
    my_votes: int
    claimed_by_id: int | None
    claimed_by: str  # the reviewer's display name (User.display_name), "" when nobody
    claimed_for: str
    claimed_since: str
    claim_is_stale: bool

    @classmethod
    def of(cls, v: Mapping[str, Any], now: datetime, claim_hours: int) -> QueueRow:
        reason, claimed_at = v["engine_reason"], v["claimed_at"]
        name = ""
        if v["claimed_by_id"] is not None:
            full = f"{v['claimed_by__first_name']} {v['claimed_by__last_name']}".strip()
            name = v["claimed_by__full_name"] or full or v["claimed_by__username"]
        return cls(
            pk=v["pk"],
            waiting=timesince(v["opened_at"], now, time_strings=_TIME_STRINGS),
            waiting_since=_local_minute(v["opened_at"]),
            screening_number=v["participant__screening_number"],
            cohort=v["cohort"],
            lupus_nephritis=bool(v["participant__lupus_nephritis"]),
            site_code=v["site__code"],
            criterion_id=v["criterion_id"],
            criterion_title=v["criterion_title"],
            short_reason=reason if len(reason) <= 140 else Truncator(reason).chars(140),
            round=v["round"],
            state=v["state"],
            votes=v["votes"],
            approvals=v["approvals"],
            my_votes=v["my_votes"],
            claimed_by_id=v["claimed_by_id"],
            claimed_by=name,
            claimed_for=timesince(claimed_at, now, time_strings=_TIME_STRINGS) if claimed_at else "",
            claimed_since=_local_minute(claimed_at) if claimed_at else "",
            # Escalation.claim_is_stale: another reviewer may take it over.
            claim_is_stale=claimed_at is not None and claimed_at + timedelta(hours=claim_hours) <= now,
        )


# Each text is escaped with html.escape, as Django's `escape` does (format_html's machinery was
# half of the rows' time); numbers are written as they are.
_OPEN = '<span class="badge text-bg-info">open</span>'
_WAITING_FOR_SITE = '<span class="badge text-bg-secondary">waiting for site</span>'
_YOU_SIGNED = '<div><span class="badge text-bg-light border">you signed</span></div>'
_YOU = '<span class="badge text-bg-primary">you</span>'
_NOBODY = '<span class="text-body-secondary">nobody</span>'
_CLAIM = '<button class="btn btn-sm btn-primary">Claim</button>'
_TAKE_OVER = '<button class="btn btn-sm btn-outline-primary" data-testid="take-over">Take over</button>'
_ROW = (
    '\n    <tr data-testid="queue-row" data-escalation="{pk}">'
    '\n      <td class="text-nowrap" title="since {waiting_since}">{waiting}</td>'
    '\n      <td class="fw-semibold">{number}<div class="small text-body-secondary fw-normal">{cohort}{ln}</div></td>'
    "\n      <td>{site}</td>"
    '\n      <td><code>{criterion}</code> <span class="small text-body-secondary">{title}</span><div class="small">{reason}</div>'
    "\n        {round}</td>"
    "\n      <td>{state}</td>"
    "\n      <td>{votes} / {quorum}{approvals}"
    "\n        {you_signed}</td>"
    "\n      <td>{claim}</td>"
    '\n      <td class="text-end text-nowrap">'
    "\n        {action}"
    '\n        <a class="btn btn-sm btn-outline-secondary" href="{review_url}">Open</a>'
    "\n      </td>"
    "\n    </tr>"
    "\n  "
)


def queue_rows_html(
    rows: list[QueueRow],
    *,
    user_pk: int,
    quorum: int,
    claim_hours: int,
    csrf_token: str,
    review_url: Callable[[int], str],
    claim_url: Callable[[int], str],
) -> SafeString:
    """The table body's rows (`review_url` and `claim_url`: participants.links.id_url_maker)."""
    e = html.escape
    stale = f' · <span class="text-warning-emphasis" data-testid="stale-claim">unsigned past {int(claim_hours)} h</span>'
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(csrf_token)}">'
    out: list[str] = []
    for r in rows:
        if r.claimed_by_id == user_pk:
            claim = _YOU
        elif r.claimed_by_id is not None:
            claim = (
                f'{e(r.claimed_by)}<div class="small text-body-secondary" title="claimed {e(r.claimed_since)}">'
                f"{e(r.claimed_for)}{stale if r.claim_is_stale else ''}</div>"
            )
        else:
            claim = _NOBODY
        action = ""
        if r.state == EscalationState.OPEN and not r.my_votes:
            button = ""
            if r.claimed_by_id is None:
                button = _CLAIM
            elif r.claimed_by_id != user_pk and r.claim_is_stale:
                button = _TAKE_OVER
            form = (
                f'\n          <form method="post" action="{e(claim_url(r.pk))}" class="d-inline">{token}{button}</form>\n          '
                if button
                else ""
            )
            action = f"\n          {form}\n        "
        out.append(
            _ROW.format(
                pk=int(r.pk),
                waiting_since=e(r.waiting_since),
                waiting=e(r.waiting),
                number=e(r.screening_number),
                cohort=e(r.cohort),
                ln=" · LN" if r.lupus_nephritis else "",
                site=e(r.site_code),
                criterion=e(r.criterion_id),
                title=e(r.criterion_title),
                reason=e(r.short_reason),
                round=f'<span class="badge text-bg-warning">evidence changed · round {int(r.round)}</span>'
                if r.round > 1
                else "",
                state=_WAITING_FOR_SITE if r.state == EscalationState.INFO_REQUESTED else _OPEN,
                votes=int(r.votes),
                quorum=int(quorum),
                approvals=f' <span class="small text-body-secondary">({int(r.approvals)} approve)</span>'
                if r.votes
                else "",
                you_signed=_YOU_SIGNED if r.my_votes else "",
                claim=claim,
                action=action,
                review_url=e(review_url(r.pk)),
            )
        )
    return mark_safe("".join(out))  # every text in it escaped above
