"""Every example case, entered record by record through the services and evaluated from the
database, gives exactly the engine's result on the file: the web app and `screen` agree. Each
example runs under both protocol versions: the test's site activates the version first (the
examples are dated before the amendment's release, so the release and the approval are dated on
the example's as-of date)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from participants.case_import import import_case
from participants.models import Participant, Role, ScreeningStatus, Site, User
from screening import criteria
from screening.amendments import activate_version, record_release
from screening.evaluation import evaluate_participant
from screening.models import Trigger
from screening.protocols import FIRST_VERSION

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
EXAMPLES = sorted(p for p in CASES.glob("*.json") if p.name != "schema.json")


def _load(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


VERSIONS = sorted(criteria.PROTOCOL_VERSIONS)


def _activate(admin: User, site: Site, version: str, on: date) -> None:
    if version != FIRST_VERSION:  # a site without an approval stays on the first version
        record_release(admin, version=version, title=f"Amendment {version}", released_on=on)
        activate_version(admin, site=site, version=version, approved_on=on)


@pytest.mark.django_db
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_through_the_database(  # type: ignore[no-untyped-def]
    path: Path, version: str, coordinator_a: User, site_a, make_user
) -> None:
    case = _load(path)
    if case.get("adjudications"):
        pytest.skip("decisions come from the adjudication app, not from records")
    as_of = date.fromisoformat(case["dates"]["as_of"])
    _activate(make_user(Role.ADMIN), site_a, version, as_of)
    participant = import_case(coordinator_a, site_a, case)
    evaluation = evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=as_of)
    assert evaluation is not None
    assert evaluation.protocol_version == version
    expected = criteria.evaluate(criteria.load_case({**case, "protocol_version": version}))
    assert evaluation.overall == str(expected.overall)
    assert evaluation.valid_until == expected.valid_until
    stored = {r.criterion_id: r for r in evaluation.results.all()}
    for r in expected.criteria:
        row = stored[r.id]
        assert (
            row.outcome,
            row.review_by or None,
            tuple(row.missing),
            row.valid_until,
            row.eligible_from,
            row.repeat_from,
            row.evidence_digest or None,
        ) == (
            str(r.outcome),
            r.review_by and str(r.review_by),
            r.missing,
            r.valid_until,
            r.eligible_from,
            r.repeat_from,
            r.evidence_digest,
        ), r.id
    participant = Participant.objects.get(pk=participant.pk)
    assert participant.screening_state.status == ScreeningStatus(str(expected.overall))
    assert participant.screening_state.reevaluation_requested_at is None
    assert participant.screening_state.evaluated_version == participant.data_version
    # The stored case text re-derives the same result.
    again = criteria.evaluate(criteria.parse_case_text(evaluation.case_json))
    assert again.overall == expected.overall
