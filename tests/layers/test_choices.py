"""Django choices mirror the engine's enums exactly: built from them, not copied."""

from __future__ import annotations

from enum import StrEnum

import pytest

from participants.choices import engine_choices
from participants.models import ScreeningStatus
from screening import models
from screening.criteria import results


def test_statuses_are_the_engines_overall_values_after_not_evaluated() -> None:
    assert ScreeningStatus.values == ["NOT_EVALUATED", *(m.value for m in results.Overall)]
    assert ScreeningStatus.NOT_EVALUATED.label == "Not evaluated yet"
    assert ScreeningStatus.PENDING_REVIEW == results.Overall.PENDING_REVIEW


def test_outcomes_and_reviewers_are_the_engines() -> None:
    assert models.Outcome.values == [m.value for m in results.Outcome]
    assert models.ReviewBy.values == [m.value for m in results.ReviewBy]
    assert models.Outcome.MISSING.label == "Missing data"


def test_an_engine_value_without_a_label_is_refused() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="no label for blue"):
        engine_choices("Colour", Colour, {"red": "Red"})
