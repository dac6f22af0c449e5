"""Links from the participant page to the intake forms (`participants:add_record`,
`participants:edit_dates`, `participants:records`). A path no form supplies gives None, and the
page shows the item without a link."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

# The query parameter that pre-fills each add_record form.
_PREFILL = {"lab": "test", "fact": "key", "event": "event", "history": "area"}


def safe_reverse(name: str, *args: object, query: dict[str, str] | None = None) -> str | None:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def add_record_url(participant_pk: int, kind: str, prefill: str = "") -> str | None:
    query = {_PREFILL[kind]: prefill} if prefill and kind in _PREFILL else None
    return safe_reverse("participants:add_record", participant_pk, kind, query=query)


def records_url(participant_pk: int, kind: str) -> str | None:
    return safe_reverse("participants:records", participant_pk, kind)


def edit_dates_url(participant_pk: int) -> str | None:
    return safe_reverse("participants:edit_dates", participant_pk)


def missing_path_url(participant_pk: int, path: str) -> str | None:
    """The form that supplies a `missing` path (FACTS.md § 1)."""
    head, _, rest = path.partition(".")
    if head == "labs":
        return add_record_url(participant_pk, "lab", rest)
    if head == "facts":
        return add_record_url(participant_pk, "fact", rest)
    if head == "reviewed":
        return add_record_url(participant_pk, "history", rest)
    if head == "events":
        # A field missing on a recorded event: the event is corrected from the list of events.
        return records_url(participant_pk, "event")
    if head == "dates" or path in ("birth_date", "sex"):
        return edit_dates_url(participant_pk)
    return None
