"""Shared helpers of the engine tests: the shared folder, base cases, and one-change variants."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from screening.criteria import Evaluation, evaluate, load_case
from screening.criteria.results import CriterionResult

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
CASES = SHARED / "cases"
DATA = Path(__file__).resolve().parent / "data"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def base(name: str = "sle-eligible") -> dict[str, Any]:
    """A fresh copy of a valid base case (kept in tests/engine/data so the tests run without /work/shared)."""
    return copy.deepcopy(read_json(DATA / f"{name}.json"))


def run(data: dict[str, Any]) -> Evaluation:
    return evaluate(load_case(data))


def crit(data: dict[str, Any], cid: str) -> CriterionResult:
    return run(data).result(cid)


def set_lab(data: dict[str, Any], test: str, **fields: Any) -> dict[str, Any]:
    """Replace the fields of the first result of `test` (adding a result if there is none)."""
    for lab in data["labs"]:
        if lab["test"] == test:
            for k, v in fields.items():
                if v is None:
                    lab.pop(k, None)
                else:
                    lab[k] = v
            return data
    lab = {"test": test, "collected": "2025-06-03"}
    lab.update({k: v for k, v in fields.items() if v is not None})
    data["labs"].append(lab)
    return data


def drop_lab(data: dict[str, Any], test: str) -> dict[str, Any]:
    data["labs"] = [lab for lab in data["labs"] if lab["test"] != test]
    return data


def D(text: str) -> Decimal:
    return Decimal(text)
