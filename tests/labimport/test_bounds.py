"""Plausibility (labs README § 6.1) is the engine's: one statement of the bounds, in the vocabulary,
read by the engine's loader and by the lab import alike."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from labimport import mapping
from screening.criteria import CaseError, load_case
from screening.criteria.vocabulary import LAB_TESTS_BY_KEY

from .helpers import ndjson_file, observation, only_row, quantity

# (LOINC, test, value, unit, plausible) at and beyond each bound of § 6.1.
EDGES = [
    ("751-8", "anc", "200000", "/uL", True),
    ("751-8", "anc", "200.001", "10*9/L", False),
    ("751-8", "anc", "0", "/uL", True),
    ("777-3", "platelets", "5000", "10*3/uL", True),
    ("777-3", "platelets", "5000.001", "10*3/uL", False),
    ("718-7", "hemoglobin", "25", "g/dL", True),
    ("718-7", "hemoglobin", "25.01", "g/dL", False),
    ("2160-0", "creatinine", "0", "mg/dL", False),
    ("2160-0", "creatinine", "2652", "umol/L", True),
    ("2160-0", "creatinine", "2652.1", "umol/L", False),
    ("29463-7", "weight", "20", "kg", True),
    ("29463-7", "weight", "19.99", "kg", False),
    ("19872-1", "fvc_pct_pred", "250", "%", True),
    ("19872-1", "fvc_pct_pred", "250.5", "%", False),
]


def test_the_import_keeps_no_bounds_of_its_own() -> None:
    assert not hasattr(mapping, "BOUNDS")


@pytest.mark.parametrize(("loinc", "test", "value", "unit", "plausible"), EDGES)
def test_the_import_and_the_engine_judge_alike(
    tmp_path: Path, loinc: str, test: str, value: str, unit: str, plausible: bool
) -> None:
    row = only_row(ndjson_file(tmp_path, observation(code=loinc, valueQuantity=quantity(value, unit))))
    assert ("implausible" not in row["problems"]) is plausible, row
    lab = LAB_TESTS_BY_KEY[test]
    factor = lab.factor(unit)
    assert factor is not None
    assert lab.plausible(Decimal(value) * factor.num, factor.den) is plausible
    case = {
        "case_id": "bounds",
        "cohort": "SSc",
        "sex": "F",
        "birth_date": "1980-01-01",
        "dates": {"as_of": "2025-06-10"},
        "labs": [{"test": test, "value": Decimal(value), "unit": unit, "collected": "2025-06-03"}],
    }
    if plausible:
        load_case(case)
    else:
        with pytest.raises(CaseError):
            load_case(case)
