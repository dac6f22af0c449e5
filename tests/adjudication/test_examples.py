"""The example cases that carry an adjudication, decided through the committee instead: the stored
evaluation equals the engine's result on the file (dates moved to today)."""

from __future__ import annotations

from datetime import date

import pytest

from adjudication import services
from adjudication.demo import CASES_DIR, load_case_file, shift_case
from adjudication.models import Escalation, ReviewAction
from participants.models import Participant
from screening import criteria

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db

ACTIONS = {"accept": ReviewAction.APPROVE, "reject": ReviewAction.REJECT}


@pytest.mark.parametrize("name", ["ssc-crp-accepted.json", "sle-ln-no-biopsy-rejected.json"])
def test_committee_decision_gives_the_engines_result_on_the_file(
    name, enter, reviewer_b, reviewer_c, django_capture_on_commit_callbacks, settings
) -> None:
    settings.EAC_QUORUM = 2
    case = load_case_file(CASES_DIR / name)
    (adjudication,) = case["adjudications"]
    participant: Participant = enter(name)  # entered without its adjudications
    e = Escalation.objects.get(participant=participant, criterion_id=adjudication["criterion"])
    # the digest covers dated evidence: moving the dates moves it (not for an empty list)
    if name.startswith("sle-ln-no-biopsy"):
        assert e.evidence_digest == adjudication["evidence_digest"]
    for reviewer in (reviewer_b, reviewer_c):
        services.claim(reviewer, e.pk)
        with django_capture_on_commit_callbacks(execute=True):
            services.sign_review(
                reviewer,
                e.pk,
                action=ACTIONS[adjudication["decision"]],
                rationale="As decided.",
                password=PASSWORD,
                code=signing_code(reviewer),
            )
    evaluation = participant.evaluations.latest()
    shifted = shift_case(case, evaluation.as_of)
    shifted["adjudications"] = [
        {**adjudication, "date": evaluation.as_of.isoformat(), "evidence_digest": e.evidence_digest}
    ]
    expected = criteria.evaluate(criteria.load_case(shifted))
    assert evaluation.overall == str(expected.overall)
    stored = {r.criterion_id: r for r in evaluation.results.all()}
    for r in expected.criteria:
        row = stored[r.id]
        assert (row.outcome, row.review_by or None, row.evidence_digest or None) == (
            str(r.outcome),
            r.review_by and str(r.review_by),
            r.evidence_digest,
        ), r.id
    assert date.fromisoformat(shifted["dates"]["as_of"]) == evaluation.as_of
