"""Every example case in the shared folder reproduces its expected file exactly."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pytest

from screening.criteria import Evaluation, evaluate, get_protocol, parse_case_text
from screening.criteria.canonical import canonical_json, evidence_digest
from screening.criteria.catalogue import catalogue

from .helpers import CASES, read_json

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason=f"shared examples folder {CASES} is absent")


def _example_names() -> list[str]:
    if not CASES.is_dir():
        return []
    return sorted(p.stem for p in CASES.glob("*.json") if p.name != "schema.json")


def _check(ev: Evaluation, expected: dict[str, Any]) -> None:
    assert ev.protocol_version == expected["protocol_version"]
    ids = [c.id for c in catalogue(ev.protocol_version)]
    assert len(ev.criteria) == {"2025-03-31.2": 57, "2025-11-14.3": 58}[ev.protocol_version]
    assert [r.id for r in ev.criteria] == ids
    assert ev.overall == expected["overall"]
    for key in ("valid_until", "eligible_from"):
        if key in expected:
            got = getattr(ev, key)
            assert (got.isoformat() if got else None) == expected[key], key
    for cid, exp in expected["criteria"].items():
        r = ev.result(cid)
        if isinstance(exp, str):
            exp = {"outcome": exp}
        for key, want in exp.items():
            got = getattr(r, key)
            if key == "missing":
                assert set(got) == set(want), (cid, key, r.reason)
            else:
                if hasattr(got, "isoformat"):
                    got = got.isoformat()
                assert got == want, (cid, key, got, want, r.reason)


@pytest.mark.parametrize("name", _example_names())
def test_example(name: str) -> None:
    """Under the version the case names: expected/."""
    expected = read_json(CASES / "expected" / f"{name}.json")
    _check(evaluate(parse_case_text((CASES / f"{name}.json").read_text(encoding="utf-8"))), expected)


@pytest.mark.parametrize("name", _example_names())
def test_example_under_the_amendment(name: str) -> None:
    """With the override 2025-11-14.3, whatever the case names: expected-2025-11-14.3/."""
    expected = read_json(CASES / "expected-2025-11-14.3" / f"{name}.json")
    case = parse_case_text((CASES / f"{name}.json").read_text(encoding="utf-8"))
    _check(evaluate(case, get_protocol("2025-11-14.3")), expected)


def test_digest_examples_of_the_catalogue() -> None:
    crp = [
        {
            "evidence": [{"date": "2025-06-03", "path": "labs.crp", "uln": 5, "unit": "mg/L", "value": 12}],
            "review_key": "ssc.activity/crp",
        }
    ]
    assert canonical_json(crp) == (
        '[{"evidence":[{"date":"2025-06-03","path":"labs.crp","uln":5,"unit":"mg/L",'
        '"value":12}],"review_key":"ssc.activity/crp"}]'
    )
    assert evidence_digest(crp) == "a33ab7b451b01e944c97e98e0552ce02587d888b39095ef4203b5361cb33e464"
    none = [{"evidence": [], "review_key": "sle.ln_biopsy/no_recent_biopsy"}]
    assert evidence_digest(none) == "d266d13485772fc843e8d44757e2f9e7a432c2b7d017559449f1a00cfade10d2"


def test_engine_reproduces_the_catalogue_digests() -> None:
    ev = evaluate(parse_case_text((CASES / "ssc-crp-only.json").read_text(encoding="utf-8")))
    assert ev.result("ssc.activity").evidence_digest == (
        "a33ab7b451b01e944c97e98e0552ce02587d888b39095ef4203b5361cb33e464"
    )
    ev = evaluate(parse_case_text((CASES / "sle-ln-no-biopsy.json").read_text(encoding="utf-8")))
    assert ev.result("sle.ln_biopsy").evidence_digest == (
        "d266d13485772fc843e8d44757e2f9e7a432c2b7d017559449f1a00cfade10d2"
    )


def test_bundled_schema_is_the_shared_schema() -> None:
    bundled = Path(__file__).resolve().parents[2] / "screening" / "criteria" / "schema.json"
    assert filecmp.cmp(bundled, CASES / "schema.json", shallow=False)
