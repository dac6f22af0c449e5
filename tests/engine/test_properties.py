"""Property tests: determinism, monotonicity in facts and lab values, exact canonical JSON."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from screening.cli import render_compact, render_json
from screening.criteria import CaseError, dumps, evaluate, evaluation_to_json, load_case
from screening.criteria.canonical import canonical_json, canonical_json_reference
from screening.criteria.output import dumps_reference
from screening.criteria.vocabulary import BILAG_DOMAINS, FACT_KEYS, FactType

from .helpers import DATA, read_json

BASES = {p.stem: read_json(p) for p in sorted(DATA.glob("*.json"))}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RANK = {"FAIL": 0, "MISSING": 1, "REVIEW": 2, "PASS": 3}


def _load(data: dict[str, Any]) -> Any:
    try:
        return load_case(data)
    except CaseError:
        assume(False)


@st.composite
def variants(draw: st.DrawFn) -> dict[str, Any]:
    """A base case with the evaluation date moved and some facts, labs and reviewed areas dropped."""
    data = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    as_of = date.fromisoformat(data["dates"]["as_of"]) + timedelta(days=draw(st.integers(-10, 30)))
    data["dates"]["as_of"] = as_of.isoformat()
    facts = data.setdefault("facts", {})
    for key in draw(st.lists(st.sampled_from(sorted(facts)), max_size=6, unique=True)):
        del facts[key]
    flags = sorted(k for k, v in facts.items() if type(v) is bool)
    for key in draw(st.lists(st.sampled_from(flags), max_size=3, unique=True)) if flags else ():
        facts[key] = not facts[key]
    labs = data.setdefault("labs", [])
    for index in sorted(draw(st.lists(st.integers(0, len(labs) - 1), max_size=3, unique=True)), reverse=True):
        del labs[index]
    reviewed = data.get("reviewed", [])
    data["reviewed"] = [a for a in reviewed if draw(st.booleans()) or draw(st.booleans())]
    return data


@SETTINGS
@given(variants())
def test_evaluation_is_deterministic(data: dict[str, Any]) -> None:
    case = _load(data)
    first = evaluate(case)
    assert evaluate(case) == first
    assert evaluate(_load(copy.deepcopy(data))) == first
    assert dumps(evaluation_to_json(evaluate(case))) == dumps(evaluation_to_json(first))


_DATED_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "sledai2k": st.integers(0, 105),
    "cdasi_activity": st.integers(0, 100),
    "mrss": st.integers(0, 51),
    "mdi_global_damage": st.decimals(0, 10, places=1),
    "ild_progressive_raghu2022": st.booleans(),
    "bilag2004": st.fixed_dictionaries({d: st.sampled_from("ABCDE") for d in BILAG_DOMAINS}),
}


def _fact_value(draw: st.DrawFn, key: str, as_of: str) -> Any:
    spec = next(f for f in FACT_KEYS if f.key == key)
    if key in _DATED_VALUES:
        day = date.fromisoformat(as_of) - timedelta(days=draw(st.integers(0, 40)))
        return {"value": draw(_DATED_VALUES[key]), "date": day.isoformat()}
    if key == "ssc_first_non_raynaud_date":
        return (date(2015, 1, 1) + timedelta(days=draw(st.integers(0, 3800)))).isoformat()
    if spec.type is FactType.BOOL:
        return draw(st.booleans())
    if spec.choices:
        return draw(st.sampled_from(spec.choices))
    if spec.type is FactType.INT:
        return draw(st.integers(spec.minimum or 0, spec.maximum or 30))
    return draw(st.decimals(spec.minimum or 0, spec.maximum or 30, places=1))


@SETTINGS
@given(variants(), st.data())
def test_adding_a_missing_fact_never_turns_a_fail_into_missing(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    absent = sorted(f.key for f in FACT_KEYS if f.key not in data["facts"])
    assume(absent)
    key = draw.draw(st.sampled_from(absent))
    before = evaluate(_load(data))
    richer = copy.deepcopy(data)
    richer["facts"][key] = _fact_value(draw.draw, key, data["dates"]["as_of"])
    after = evaluate(_load(richer))
    for b, a in zip(before.criteria, after.criteria, strict=True):
        if b.outcome == "FAIL":
            assert a.outcome != "MISSING", (key, b.id, b.reason, a.reason)


# (lab test, direction that improves it, criteria that read it)
LAB_MONOTONE = [
    ("anc", 1, ("inc.heme.anc",)),
    ("alc", 1, ("inc.heme.alc",)),
    ("platelets", 1, ("inc.heme.platelets",)),
    ("hemoglobin", 1, ("inc.heme.hemoglobin",)),
    ("creatinine", -1, ("inc.crcl",)),
    ("weight", 1, ("inc.crcl",)),
    ("fvc_pct_pred", 1, ("exc.lung_function",)),
    ("dlco_pct_pred", 1, ("exc.lung_function",)),
    ("ck", 1, ("iim.involvement", "ssc.activity")),
    ("aldolase", 1, ("iim.involvement",)),
    ("crp", 1, ("ssc.activity",)),
    ("anti_dsdna", 1, ("sle.autoantibody",)),
]


@SETTINGS
@given(
    variants(),
    st.sampled_from(LAB_MONOTONE),
    st.decimals(Decimal("0.01"), Decimal("500"), places=2),
    st.decimals(Decimal("0.01"), Decimal("500"), places=2),
)
def test_improving_a_lab_value_never_makes_its_criterion_worse(
    data: dict[str, Any], spec: tuple[str, int, tuple[str, ...]], x: Decimal, y: Decimal
) -> None:
    test, direction, criteria = spec
    labs = [lab for lab in data["labs"] if lab["test"] == test and not isinstance(lab["value"], str)]
    assume(labs and x != y)
    worse, better = (min(x, y), max(x, y)) if direction > 0 else (max(x, y), min(x, y))
    results = []
    for value in (worse, better):
        variant = copy.deepcopy(data)
        for lab in variant["labs"]:
            if lab["test"] == test and not isinstance(lab["value"], str):
                lab["value"] = value
        results.append(evaluate(_load(variant)))
    for cid in criteria:
        a, b = results[0].result(cid), results[1].result(cid)
        if a.outcome in RANK and b.outcome in RANK:
            assert RANK[b.outcome] >= RANK[a.outcome], (test, worse, better, cid, a.reason, b.reason)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_canonical_json_matches_its_definition(value: Any) -> None:
    assert canonical_json(value) == canonical_json_reference(value)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_compact_json_matches_the_writer_by_hand(value: Any) -> None:
    assert dumps(value) == dumps_reference(value)


@SETTINGS
@given(variants())
def test_cases_and_results_are_the_same_compact_text_from_both_writers(data: dict[str, Any]) -> None:
    assert dumps(data) == dumps_reference(data)
    ev = evaluate(_load(data))
    assert dumps(evaluation_to_json(ev)) == dumps_reference(evaluation_to_json(ev))


@SETTINGS
@given(variants())
def test_result_json_is_the_same_text_from_both_writers(data: dict[str, Any]) -> None:
    ev = evaluate(_load(data))
    assert render_json(ev) == dumps(evaluation_to_json(ev), indent=2)
    compact = render_json(ev, indent=None)
    assert compact == dumps(evaluation_to_json(ev))
    assert render_compact(ev) == compact
    assert json.loads(compact, parse_float=Decimal) == json.loads(render_json(ev), parse_float=Decimal)
