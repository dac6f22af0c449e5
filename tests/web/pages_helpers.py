"""Participants with real records and stored evaluations, for the page tests."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F

from participants.case_import import import_case
from participants.models import Participant, Site, User
from screening.evaluation import evaluate_participant
from screening.models import Evaluation, Trigger

from ..engine.helpers import base


def sle_case(**changes: Any) -> dict[str, Any]:
    case = copy.deepcopy(base("sle-eligible"))
    case.update(changes)
    return case


def with_anc(case: dict[str, Any], value: int) -> dict[str, Any]:
    for lab in case["labs"]:
        if lab["test"] == "anc":
            lab["value"] = Decimal(value)
    return case


def enter(user: User, site: Site, case: dict[str, Any], *, times: int = 1) -> Participant:
    """Import the case and evaluate it `times` times as of its as_of, each time a new evaluation:
    a run on unchanged data only confirms the latest one, so each run after the first follows a
    counted change of data that the case does not show (as a record voided and entered again)."""
    participant = import_case(user, site, case)
    for i in range(times):
        if i:
            Participant.objects.filter(pk=participant.pk).update(data_version=F("data_version") + 1)
        evaluate(participant, case, user)
    participant.refresh_from_db()
    return participant


def evaluate(participant: Participant, case: dict[str, Any], user: User | None = None) -> Evaluation:
    as_of = date.fromisoformat(case["dates"]["as_of"])
    evaluation = evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE, user=user, as_of=as_of)
    assert evaluation is not None
    return evaluation
