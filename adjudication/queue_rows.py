"""The EAC queue's rows, built from the columns the page shows (no model instances) and rendered
by a Jinja2 template rather than Django's: a row had some forty template nodes, and a page renders
50. The markup is the one the Django template gave, character for character
(tests/adjudication/test_queue_rows.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language

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
    """The table body's rows (`review_url` and `claim_url`: participants.links.id_url_maker), by
    the Jinja2 template templates/jinja2/adjudication/queue_rows.html (config/jinja2.py)."""
    rendered = get_template("adjudication/queue_rows.html", using="jinja2").render(
        {
            "rows": rows,
            "user_pk": user_pk,
            "quorum": quorum,
            "claim_hours": claim_hours,
            "csrf_token": csrf_token,
            "review_url": review_url,
            "claim_url": claim_url,
        }
    )
    return mark_safe(rendered)  # noqa: S308 - escaped by the template
