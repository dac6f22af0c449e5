"""Generated screening cases for benchmarks: seeded variations of the four base cases.

Each case starts from a base case of tests/engine/data (non-LN SLE, LN SLE, IIM, SSc) and varies
lab values and units, the evaluation date, facts, reviewed areas, events and therapies, so that
every outcome occurs. Every generated case validates (the generator checks it with the loader).
"""

from __future__ import annotations

import copy
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from screening.criteria import CaseError, dumps, load_case

DATA = Path(__file__).resolve().parents[1] / "tests" / "engine" / "data"
BASE_NAMES = ("sle-eligible", "sle-ln-eligible", "iim-eligible", "ssc-male-eligible")

# Alternative units of the counts: (unit, factor to divide a /µL value by).
_COUNT_UNITS = (("/uL", 1), ("cells/uL", 1), ("/mm3", 1), ("10^9/L", 1000), ("K/uL", 1000), ("10*3/uL", 1000))
_HB_UNITS = (("g/dL", Decimal(1)), ("g/L", Decimal("0.1")), ("mmol/L", Decimal("1.6114")))


def _load_bases() -> list[dict[str, Any]]:
    return [
        json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)
        for name in BASE_NAMES
    ]


def _day(text: str, days: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def _vary_lab(rng: random.Random, lab: dict[str, Any]) -> None:
    value = lab["value"]
    if isinstance(value, str):
        if lab["test"] in ("hbsag", "anti_hbc", "hcv_ab", "hiv_ag_ab") and rng.random() < 0.04:
            lab["value"] = rng.choice(("positive", "indeterminate"))
        return
    test = lab["test"]
    factor = Decimal(rng.randint(55, 180)) / 100
    if test in ("anc", "alc", "platelets"):
        per_ul = Decimal(value) * factor
        if lab["unit"] in ("10^9/L", "10^3/uL", "10*9/L", "K/uL", "10*3/uL", "x10E3/uL", "x10E9/L"):
            per_ul *= 1000
        unit, div = rng.choice(_COUNT_UNITS)
        lab["unit"], lab["value"] = unit, (per_ul / div).quantize(Decimal("0.01"))
    elif test == "hemoglobin":
        g_dl = min(Decimal(value) * dict(_HB_UNITS)[lab["unit"]] * factor, Decimal(17))
        unit, mult = rng.choice(_HB_UNITS)
        lab["unit"], lab["value"] = unit, (g_dl / mult).quantize(Decimal("0.001"))
    elif test == "creatinine":
        if rng.random() < 0.5:
            lab["unit"], lab["value"] = "umol/L", (Decimal(value) * 88 * factor).quantize(Decimal("0.1"))
        else:
            lab["value"] = (Decimal(value) * factor).quantize(Decimal("0.01"))
    elif test == "weight":
        lab["value"] = (Decimal(value) * (Decimal(rng.randint(80, 125)) / 100)).quantize(Decimal("0.1"))
    elif test in ("fvc_pct_pred", "dlco_pct_pred"):
        lab["value"] = (Decimal(value) * factor).quantize(Decimal("0.1"))
    else:
        lab["value"] = (Decimal(value) * factor).quantize(Decimal("0.1"))
    if rng.random() < 0.05:
        lab["collected"] = _day(lab["collected"], -rng.randint(5, 40))


def _vary_facts(rng: random.Random, facts: dict[str, Any]) -> None:
    for key in list(facts):
        value = facts[key]
        if rng.random() < 0.02:
            del facts[key]
        elif type(value) is bool and rng.random() < 0.03:
            facts[key] = not value
        elif isinstance(value, dict) and "date" in value and rng.random() < 0.05:
            value["date"] = _day(value["date"], -rng.randint(1, 30))


def _extra_events(rng: random.Random, case: dict[str, Any]) -> None:
    as_of = case["dates"]["as_of"]
    if rng.random() < 0.05:
        case["events"].append(
            {"kind": "transfusion", "date": _day(as_of, -rng.randint(5, 60)), "product": "red_cells"}
        )
    if rng.random() < 0.03:
        case["events"].append({"kind": "live_vaccine", "date": _day(as_of, -rng.randint(1, 60))})
    if rng.random() < 0.03:
        case["events"].append(
            {
                "kind": "cardiovascular_event",
                "date": _day(as_of, -rng.randint(30, 400)),
                "condition": "arrhythmia",
            }
        )
    if rng.random() < 0.02:
        case["events"].append(
            {
                "kind": "malignancy",
                "date": _day(as_of, -rng.randint(400, 2000)),
                "type": "other",
                "active_until": _day(as_of, -rng.randint(100, 399)),
            }
        )


def _extra_therapies(rng: random.Random, case: dict[str, Any]) -> None:
    as_of = case["dates"]["as_of"]
    if rng.random() < 0.05:
        last = _day(as_of, -rng.randint(1, 60))
        case["therapies"].append(
            {"agent": "rituximab", "start": _day(last, -14), "last_dose": last, "ongoing": False}
        )
    if rng.random() < 0.02:
        case["therapies"].append(
            {"agent": "other", "agent_name": "iguratimod", "start": _day(as_of, -200), "ongoing": True}
        )


def generate(n: int, seed: int = 329) -> list[dict[str, Any]]:
    """`n` valid cases, the same for the same seed."""
    rng = random.Random(seed)
    bases = _load_bases()
    cases: list[dict[str, Any]] = []
    while len(cases) < n:
        case = copy.deepcopy(rng.choice(bases))
        case["case_id"] = f"gen-{len(cases):05d}"
        case.setdefault("events", [])
        case.setdefault("therapies", [])
        case["dates"]["as_of"] = _day(case["dates"]["as_of"], rng.randint(-5, 12))
        for lab in case.get("labs", ()):
            _vary_lab(rng, lab)
        _vary_facts(rng, case.setdefault("facts", {}))
        if rng.random() < 0.1:
            case["reviewed"] = [a for a in case.get("reviewed", ()) if rng.random() > 0.2]
        _extra_events(rng, case)
        _extra_therapies(rng, case)
        try:
            load_case(case)
        except CaseError:
            continue
        cases.append(case)
    return cases


def write_cases(directory: Path, cases: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (directory / f"{case['case_id']}.json").write_text(dumps(case, indent=2), encoding="utf-8")
