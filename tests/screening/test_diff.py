"""The difference between two evaluations, in the wording of DESIGN.md."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from screening.criteria import ENGINE_VERSION, dumps, evaluate, load_case
from screening.diff import Snapshot, case_changes, diff_snapshots

from ..engine.helpers import base


def snap(case: dict[str, Any]) -> Snapshot:
    result = evaluate(load_case(case))
    return Snapshot(
        overall=str(result.overall),
        outcomes={r.id: str(r.outcome) for r in result.criteria},
        case=case,
        protocol_version=result.protocol_version,
        engine_version=ENGINE_VERSION,
    )


def with_anc(case: dict[str, Any], value: int, collected: str | None = None) -> dict[str, Any]:
    out = copy.deepcopy(case)
    for lab in out["labs"]:
        if lab["test"] == "anc":
            lab["value"] = Decimal(value)
            if collected:
                lab["collected"] = collected
    return out


def test_new_anc_result_reads_as_in_the_design() -> None:
    low = with_anc(base(), 900)
    redrawn = copy.deepcopy(low)
    redrawn["labs"].append({"test": "anc", "value": Decimal(1200), "unit": "/uL", "collected": "2025-06-10"})
    diff = diff_snapshots(snap(low), snap(redrawn))
    assert diff.summary == "ANC 900 → 1200: inc.heme.anc FAIL → PASS; overall → ELIGIBLE"
    assert [c.kind for c in diff.inputs] == ["changed"]
    assert diff.overall_before == "INELIGIBLE" and diff.overall_changed


def test_corrected_value_on_the_same_draw_is_a_change_too() -> None:
    diff = diff_snapshots(snap(with_anc(base(), 900)), snap(with_anc(base(), 2100)))
    assert diff.summary == "ANC 900 → 2100: inc.heme.anc FAIL → PASS; overall → ELIGIBLE"


def test_first_evaluation() -> None:
    diff = diff_snapshots(None, snap(base()))
    assert diff.first
    assert diff.summary == "First evaluation: overall ELIGIBLE"


def test_only_time_passed() -> None:
    later = copy.deepcopy(base())
    later["dates"]["as_of"] = "2025-06-27"  # MMF still ongoing after its stop-by date
    diff = diff_snapshots(snap(base()), snap(later))
    assert diff.inputs == ()
    assert diff.summary.startswith("No data change; as of 2025-06-16 → 2025-06-27: ")
    assert "exc.washout PASS → FAIL" in diff.summary
    assert diff.summary.endswith("; overall → INELIGIBLE")


def test_removed_input_and_unchanged_overall() -> None:
    before = base()
    after = copy.deepcopy(before)
    del after["dates"]["planned_day0"]
    diff = diff_snapshots(snap(before), snap(after))
    assert (
        diff.summary == "Planned Day 0 2025-06-30 (removed): exc.washout PASS → MISSING; overall → INCOMPLETE"
    )


def test_sections_added_removed_changed() -> None:
    before = base()
    after = copy.deepcopy(before)
    after["facts"]["sledai2k"] = {"value": 12, "date": "2025-06-04"}
    del after["facts"]["cirrhosis"]
    after["facts"]["child_pugh_score"] = 6
    after["therapies"][2] = {**after["therapies"][2], "ongoing": False, "last_dose": "2025-06-05"}
    after["events"].append({"kind": "transfusion", "date": "2025-04-22", "product": "red_cells"})
    after["reviewed"].remove("therapies")
    after["reviewed"].append("dialysis")
    after["sex"] = "M"
    texts = [c.text for c in case_changes(before, after)]
    assert texts == [
        "Sex F → M",
        "Child–Pugh score (only with cirrhosis) 6 (new)",
        "Has cirrhosis no (removed)",
        "SLEDAI-2K 10 (2025-06-03) → 12 (2025-06-04)",
        "Mycophenolate mofetil from 2024-01-15 ongoing → stopped, last dose 2025-06-05",
        "Transfusion on 2025-04-22 product red_cells (new)",
        "history of dialysis confirmed complete",
        "confirmation of the prior therapies history withdrawn",
    ]


def test_unit_shown_when_it_changes_and_redraw_with_same_value() -> None:
    before = base()
    after = copy.deepcopy(before)
    after["labs"][0] = {"test": "anc", "value": Decimal("2.1"), "unit": "10^9/L", "collected": "2025-06-03"}
    after["labs"].append({"test": "alc", "value": Decimal(1250), "unit": "/uL", "collected": "2025-06-09"})
    texts = [c.text for c in case_changes(before, after)]
    assert texts == ["ANC 2100 /µL → 2.1 10⁹/L", "ALC 1250 (2025-06-03) → 1250 (2025-06-09)"]


def test_many_changes_are_capped_in_the_summary() -> None:
    before = base()
    after = copy.deepcopy(before)
    after["labs"] = []
    diff = diff_snapshots(snap(before), snap(after))
    assert len(diff.inputs) == 14
    assert " and 11 more inputs: " in diff.summary
    assert "more criteria; overall → INCOMPLETE" in diff.summary


def test_stored_case_text_round_trips_through_snapshot() -> None:
    """The stored case_json is exact text; Decimal values compare equal after parsing."""
    from types import SimpleNamespace

    from screening.diff import snapshot

    case = base()
    result = evaluate(load_case(case))
    rows = [
        SimpleNamespace(position=i, criterion_id=r.id, outcome=str(r.outcome))
        for i, r in enumerate(result.criteria)
    ]
    stored = SimpleNamespace(
        overall=str(result.overall),
        case_json=dumps(case),
        protocol_version=result.protocol_version,
        engine_version=ENGINE_VERSION,
        results=SimpleNamespace(all=lambda: list(reversed(rows))),
    )
    s = snapshot(stored)  # type: ignore[arg-type]
    assert list(s.outcomes)[0] == "inc.age"
    assert list(case_changes(s.case, case)) == []
