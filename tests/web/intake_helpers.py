"""Shared set-up of the intake tests: logged-in clients and URL lists."""

from __future__ import annotations

from datetime import date, timedelta

from django.test import Client
from django.urls import reverse

from participants.models import Participant
from participants.records import RecordKind

from ..conftest import PASSWORD

TODAY = date.today()
RECENT = (TODAY - timedelta(days=3)).isoformat()


def logged_in(username: str) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def add_url(p: Participant, kind: str, query: str = "") -> str:
    return reverse("participants:add_record", args=[p.pk, kind]) + query


def write_urls(participant: Participant, record_pks: dict[str, int]) -> list[str]:
    """Every write URL of the intake for `participant` (records given per kind)."""
    pk = participant.pk
    urls = [
        reverse("participants:edit_dates", args=[pk]),
        reverse("participants:preview", args=[pk, "dates"]),
    ]
    for kind in RecordKind.values:
        urls.append(reverse("participants:add_record", args=[pk, kind]))
        urls.append(reverse("participants:preview", args=[pk, kind]))
        if kind in record_pks:
            if kind != RecordKind.HISTORY:
                urls.append(reverse("participants:correct_record", args=[pk, kind, record_pks[kind]]))
            urls.append(reverse("participants:void_record", args=[pk, kind, record_pks[kind]]))
    return urls


def read_urls(participant: Participant) -> list[str]:
    return [reverse("participants:records", args=[participant.pk, k]) for k in RecordKind.values]
