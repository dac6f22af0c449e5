"""The record-kind registry: every kind complete, and every table about kinds derived from it."""

from __future__ import annotations

import inspect

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from participants import case_builder, records, selectors, services
from participants.forms import record_form
from participants.models import ClinicalRecord, Participant
from participants.records import RECORD_KINDS, RecordKind

KINDS = list(RECORD_KINDS.values())


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_each_kind_is_complete(kind: records.RecordType) -> None:
    assert issubclass(kind.model, ClinicalRecord) and not kind.model._meta.abstract
    assert kind.label and kind.list_label and kind.part
    # The form: a record form the views can drive without knowing the kind.
    form = record_form(kind.kind)
    assert issubclass(form, forms.BaseForm)
    for method in ("open", "arguments", "unsaved", "replaced_keys", "saved_text", "add_service_errors"):
        assert callable(getattr(form, method)), method
    # The service: takes the acting user and the participant, as the views call it.
    assert list(inspect.signature(services.record_service(kind.kind)).parameters)[:2] == ["user", "participant"]
    # Correctable fields are model fields, never the record's bookkeeping.
    names = {f.name for f in kind.model._meta.get_fields()}
    assert kind.correctable_fields and set(kind.correctable_fields) <= names
    assert not set(kind.correctable_fields) & {"participant", "state", "entered_by", "supersedes"}
    assert records.of(kind.model()) is kind


def test_kinds_models_and_parts_are_distinct() -> None:
    assert len({k.model for k in KINDS}) == len({k.part for k in KINDS}) == len(KINDS)
    assert set(records.BY_MODEL) == {k.model for k in KINDS}
    # Every concrete clinical record model has a kind, or is declared outside the case.
    concrete = {m for m in ClinicalRecord.__subclasses__() if not m._meta.abstract}
    assert concrete == set(records.BY_MODEL) | set(records.OUTSIDE_THE_CASE)
    assert not set(records.BY_MODEL) & set(records.OUTSIDE_THE_CASE)


def test_record_kind_choices_follow_the_registry() -> None:
    assert RecordKind.values == list(RECORD_KINDS)
    assert [str(label) for label in RecordKind.labels] == [k.label for k in KINDS]
    assert {m.name: m.value for m in RecordKind} == {k.member: k.kind for k in KINDS}


def test_case_parts_follow_the_registry() -> None:
    assert records.no_records() == {k.part: [] for k in KINDS}
    # assemble() takes exactly the registry's parts.
    keyword_only = [
        name
        for name, p in inspect.signature(case_builder.assemble).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("adjudications", "protocol_version")
    ]
    assert sorted(keyword_only) == sorted(k.part for k in KINDS)


@pytest.mark.django_db
def test_current_records_and_counts_follow_the_registry(participant_a: Participant, coordinator_a) -> None:  # type: ignore[no-untyped-def]
    assert set(case_builder.current_records(participant_a)) == {k.part for k in KINDS}
    assert case_builder.current_records_many([participant_a.pk]) == {participant_a.pk: records.no_records()}
    counted = selectors.get_participant_with_counts(coordinator_a, participant_a.pk)
    assert counted.record_counts == [(k.kind, k.list_label, 0) for k in KINDS]  # type: ignore[attr-defined]


def test_the_services_keep_no_table_of_kinds_of_their_own() -> None:
    assert not hasattr(services, "CORRECTABLE_FIELDS") and not hasattr(services, "_PART")
    assert not hasattr(selectors, "RECORD_KINDS") or selectors.RECORD_KINDS is RECORD_KINDS


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_every_kind_has_its_pages(
    coordinator_a, participant_a: Participant, kind: records.RecordType
) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(coordinator_a)
    for name in ("participants:records", "participants:add_record"):
        assert client.get(reverse(name, args=[participant_a.pk, kind.kind])).status_code == 200
