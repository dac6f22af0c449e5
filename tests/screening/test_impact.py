"""The impact report of a candidate version: checked against a direct evaluation of every
participant under both versions, stores nothing, and the command prints and writes it."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from participants.case_builder import build_case
from participants.case_import import import_case
from participants.models import Participant, Site, User
from screening import criteria, tasks
from screening.evaluation import case_adjudications
from screening.impact import PARTICIPANT_HEADER, ImpactReport, impact_report
from screening.models import Evaluation
from screening.protocols import FIRST_VERSION

pytestmark = pytest.mark.django_db

AMENDMENT = "2025-11-14.3"
CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
AS_OF = date(2025, 6, 16)


def _import_examples(coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site, every: int) -> list[Participant]:
    """Every `every`-th example without committee decisions, alternately at site A and site B."""
    people = []
    examples = sorted(p for p in CASES.glob("*.json") if p.name != "schema.json")
    for n, path in enumerate(examples[::every]):
        case = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if case.get("adjudications"):
            continue
        user, site = (coordinator_a, site_a) if n % 2 else (coordinator_b, site_b)
        people.append(import_case(user, site, case))
    return people


@pytest.fixture
def population(coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site) -> list[Participant]:
    """Every example without committee decisions, alternately at site A and site B."""
    return _import_examples(coordinator_a, coordinator_b, site_a, site_b, every=1)


@pytest.fixture
def some_population(coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site) -> list[Participant]:
    """A third of the examples: enough chunks and changes to compare a split report with one pass."""
    return _import_examples(coordinator_a, coordinator_b, site_a, site_b, every=3)


def _direct(participant: Participant, version: str) -> criteria.Evaluation:
    case = build_case(
        participant, AS_OF, adjudications=case_adjudications(participant), protocol_version=version
    )
    return criteria.evaluate(criteria.load_case(case))


def test_the_report_matches_a_direct_evaluation_of_every_participant(
    population: list[Participant], site_a: Site
) -> None:
    stored = Evaluation.objects.count()
    report = impact_report(AMENDMENT, Participant.objects.all(), AS_OF, chunk=7)
    assert Evaluation.objects.count() == stored  # nothing stored
    assert report.evaluated == len(population) and not report.refused
    impacts = {i.participant_id: i for i in report.impacts}
    expected_counts: dict[tuple[str, str, str], int] = {}
    for p in population:
        before, after = _direct(p, FIRST_VERSION), _direct(p, AMENDMENT)
        old = {r.id: str(r.outcome) for r in before.criteria}
        changed = {
            (r.id, old.get(r.id, "—"), str(r.outcome))
            for r in after.criteria
            if old.get(r.id) != str(r.outcome)
        }
        for key in changed:
            expected_counts[key] = expected_counts.get(key, 0) + 1
        if not changed:
            assert p.pk not in impacts
            continue
        impact = impacts[p.pk]
        assert (impact.status_before, impact.status_after) == (str(before.overall), str(after.overall))
        assert {(c.criterion_id, c.before, c.after) for c in impact.changes} == changed
        reasons = {r.id: r.reason for r in after.criteria}
        assert all(c.reason_after == reasons[c.criterion_id] for c in impact.changes)
    assert dict(report.per_criterion) == expected_counts
    assert report.per_criterion[("inc.crcl", "FAIL", "PASS")] >= 1
    assert sum(c.evaluated for c in report.per_site.values()) == len(population)
    assert {"A01", "B02"} == set(report.per_site)

    one_site = impact_report(AMENDMENT, Participant.objects.filter(site=site_a), AS_OF, site_code="A01")
    assert set(one_site.per_site) == {"A01"}
    assert [i.participant_id for i in one_site.impacts] == [
        i.participant_id for i in report.impacts if i.site_code == "A01"
    ]


def test_the_command_prints_the_report_and_writes_the_rows(
    some_population: list[Participant], tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "impact.csv"
    call_command(
        "amendment_impact", AMENDMENT, "--site", "A01", "--as-of", AS_OF.isoformat(), "--csv", str(out)
    )
    printed = capsys.readouterr().out
    assert f"Impact of protocol {AMENDMENT} on site A01, as of {AS_OF.isoformat()}" in printed
    assert "exc.major_surgery — → MISSING" in printed
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[0] == PARTICIPANT_HEADER
    assert {r[0] for r in rows[1:]} == {"A01"}


def test_the_command_refuses_an_unknown_version_or_site(db: None) -> None:
    with pytest.raises(CommandError, match="unknown protocol version"):
        call_command("amendment_impact", "2099-01-01.1")
    with pytest.raises(CommandError, match="no site"):
        call_command("amendment_impact", AMENDMENT, "--site", "ZZ9")


@pytest.mark.django_db(transaction=True)  # the pool's processes read committed rows only
def test_the_report_split_over_processes_equals_the_one_process_report(
    some_population: list[Participant],
) -> None:
    one = impact_report(AMENDMENT, Participant.objects.all(), AS_OF)
    seen: list[tuple[int, int]] = []
    split = impact_report(
        AMENDMENT,
        Participant.objects.all(),
        AS_OF,
        chunk=4,
        processes=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert one.impacts and one.per_criterion
    assert split == one
    assert [i.participant_id for i in split.impacts] == sorted(i.participant_id for i in one.impacts)
    assert seen[-1] == (len(some_population), len(some_population)) and len(seen) == -(-len(some_population) // 4)


def test_the_pages_chunk_tasks_give_the_one_process_report_with_progress(
    some_population: list[Participant], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.impact_chunk_task, "delay", lambda *a: sent.append(a))
    monkeypatch.setattr(tasks, "IMPACT_CHUNK", 5)
    report_id = uuid.uuid4().hex
    tasks.impact_report_task(report_id, AMENDMENT, None, AS_OF.isoformat())
    assert len(sent) == -(-len(some_population) // 5) > 2
    assert tasks.impact_state(report_id) == {"done": 0, "total": len(some_population)}
    # The worker's processes take the chunks in any order; a chunk delivered twice changes nothing.
    for args in [*reversed(sent[1:]), sent[-1]]:
        tasks.impact_chunk_task(*args)
    state = tasks.impact_state(report_id)
    assert state == {"done": len(some_population) - len(sent[0][4]), "total": len(some_population)}
    tasks.impact_chunk_task(*sent[0])
    report: ImpactReport = tasks.impact_state(report_id)["report"]
    assert report == impact_report(AMENDMENT, Participant.objects.all(), AS_OF)
    tasks.impact_chunk_task(*sent[0])  # a late redelivery after the combination: nothing changes
    assert tasks.impact_state(report_id)["report"] == report
