"""Links from the participant page to the intake forms (`participants:add_record`,
`participants:edit_dates`, `participants:records`). A path no form supplies gives None, and the
page shows the item without a link."""

from __future__ import annotations

from collections.abc import Callable
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


def visit_url(participant_pk: int, anchor: str = "") -> str | None:
    """The screening visit form, scrolled to (and focusing) one field's row."""
    url = safe_reverse("participants:visit", participant_pk)
    return f"{url}#{anchor}" if url and anchor else url


def missing_path_url(participant_pk: int, path: str) -> str | None:
    """The form that supplies a `missing` path (FACTS.md § 1): labs, facts and history areas are
    on the screening visit form, at the row of the item."""
    head, _, rest = path.partition(".")
    if head == "labs":
        return visit_url(participant_pk, f"lab-{rest}")
    if head == "facts":
        key = rest.split(".")[0]
        return visit_url(participant_pk, f"div_id_fact-{'bilag2004__constitutional' if key == 'bilag2004' else key}")
    if head == "reviewed":
        return visit_url(participant_pk, "history")
    if head == "events":
        # A field missing on a recorded event: the event is corrected from the list of events.
        return records_url(participant_pk, "event")
    if head == "dates" or path in ("birth_date", "sex"):
        return edit_dates_url(participant_pk)
    return None


# Stands for a row's ID in a URL reversed once for a whole list (a number no ID reaches).
_ANY_PK = 987654321987


def id_url_maker(name: str) -> Callable[[int], str]:
    """The URL of `name` for any ID, from one reverse(): a list of 50 rows would otherwise resolve
    the same pattern 50 times. The ID is the URL's only argument (an integer path part)."""
    head, tail = reverse(name, args=[_ANY_PK]).split(str(_ANY_PK))
    return lambda pk: f"{head}{int(pk)}{tail}"
