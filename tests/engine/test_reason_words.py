"""Reasons a coordinator can read aloud: no specification file's name, no bracket inside a bracket,
and units written as the forms write them (µmol/L, not umol/L)."""

from __future__ import annotations

import re

import pytest

from screening.criteria import PROTOCOL_VERSIONS, evaluate, get_protocol, parse_case_text
from screening.criteria.catalogue import CRITERIA

from .helpers import CASES

IDS = {c.id for c in CRITERIA}

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason=f"shared examples folder {CASES} is absent")


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


def _reasons() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(CASES.glob("*.json")):
        if path.name == "schema.json":
            continue
        for version in sorted(PROTOCOL_VERSIONS):
            case = parse_case_text(path.read_text(encoding="utf-8"))
            for r in evaluate(case, get_protocol(version)).criteria:
                out.append((path.stem, r.id, r.reason))
    return out


def _unreadable(reason: str) -> bool:
    return bool(
        re.search(r"\b[A-Z][A-Z-]+\.md\b", reason)  # a specification file
        or _depth(reason) > 1  # a bracket inside a bracket
        or re.search(r"\bu(mol|kat|L)\b", reason)  # ASCII units
        or re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", reason)  # vocabulary keys
        or any(re.search(rf"(?<![\w.]){re.escape(i)}(?!\w)", reason) for i in IDS)  # criterion ids
    )


def test_every_example_reason_reads_aloud() -> None:
    bad = [(name, cid, reason) for name, cid, reason in _reasons() if _unreadable(reason)]
    assert not bad, bad[:5]


def test_the_belimumab_washout_reason_in_words() -> None:
    text = (CASES / "sle-eligible.json").read_text(encoding="utf-8")
    text = text.replace('"last_dose": "2023-02-01"', '"last_dose": "2025-06-10"')
    result = evaluate(parse_case_text(text)).result("exc.washout")
    assert str(result.outcome) == "FAIL"
    assert (
        result.reason.endswith(
            "Belimumab last dose 2025-06-10: with a 28-day washout, Day 0 must be on or after 2025-07-08; "
            "planned 2025-06-30. 28 days apply while the sponsor's classification is pending, 14 days if it "
            "is not B-cell depleting."
        )
        or "28 days apply while the sponsor's classification is pending, 14 days if it is not B-cell depleting."
        in result.reason
    )
    assert ".md" not in result.reason and _depth(result.reason) <= 1
