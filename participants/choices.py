"""Django choices built from the engine's enums, so that a value the engine can give is a value the
database accepts, and no list is copied by hand (the engine's enums are the one source)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from django.db import models


def engine_choices(
    name: str,
    enum: type[StrEnum],
    labels: Mapping[str, str],
    *,
    before: tuple[tuple[str, str], ...] = (),
) -> type[models.TextChoices]:
    """A TextChoices named `name` with the values of `enum` (in its order) and a label for each;
    `before` puts values of the application's own (value, label) first. A member without a label is
    an error at import, so a new engine value cannot reach a page unnamed."""
    unlabelled = [m.value for m in enum if m.value not in labels]
    if unlabelled:
        raise ValueError(f"{name}: no label for {', '.join(unlabelled)}")
    members = [*before, *((m.value, labels[m.value]) for m in enum)]
    return models.TextChoices(name, [(value.upper(), (value, label)) for value, label in members])  # type: ignore[return-value]
