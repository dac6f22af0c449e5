"""The compiled schema check agrees with jsonschema: it accepts only what jsonschema accepts."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.criteria.fastcheck import _never, compile_schema, fast_valid
from screening.criteria.loader import schema, validator

from .helpers import DATA, read_json

BASES = [read_json(p) for p in sorted(DATA.glob("*.json"))]


def jsonschema_valid(data: Any) -> bool:
    return not any(True for _ in validator().iter_errors(data))


def test_the_bundled_schema_compiles() -> None:
    assert compile_schema(schema()) is not _never


def test_unknown_keywords_compile_to_dont_know() -> None:
    assert compile_schema({"type": "object", "patternProperties": {"a": True}}) is _never
    assert compile_schema({"format": "email"}) is _never


def test_valid_bases_take_the_fast_path() -> None:
    for data in BASES:
        assert jsonschema_valid(data)
        assert fast_valid(data)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


WORDS = [
    "SLE",
    "IIM",
    "SSc",
    "F",
    "M",
    "mg/dL",
    "10^9/L",
    "umol/L",
    "positive",
    "detected",
    "other",
    "heart_failure",
    "III",
    "V",
    "VI",
    "2025-02-30",
    "2025-06-01",
    "2025-6-1",
    "20250601",
    "2025-06-01\n",
    "",
    "x" * 21,
    "therapies",
    "eac",
    "accept",
    "a" * 64,
    "0" * 64,
    "$schema",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=500),
    st.decimals(min_value=-5, max_value=500, allow_nan=False, places=3),
    st.sampled_from(WORDS),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["value", "date", "kind", "test", "unit", "uln"]), SCALARS, max_size=3),
)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from([*WORDS, "ongoing", "nyha_class", "uln", "still_active"]))] = draw(
                VALUES
            )
        else:
            parent.append(draw(VALUES))
    return data


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fast_check_never_accepts_what_jsonschema_refuses(data: Any) -> None:
    if fast_valid(data):
        assert jsonschema_valid(data)


def test_decimal_and_bool_edge_cases() -> None:
    data = copy.deepcopy(BASES[0])
    data["labs"][0]["value"] = True  # a boolean is not a number
    assert not fast_valid(data) and not jsonschema_valid(data)
    data["labs"][0]["value"] = Decimal("-0.001")
    assert not fast_valid(data) and not jsonschema_valid(data)
    data = copy.deepcopy(BASES[0])
    data["facts"]["pleural_effusion_ctcae_grade"] = Decimal("1.0")  # not an integer for jsonschema
    assert not fast_valid(data) and not jsonschema_valid(data)
