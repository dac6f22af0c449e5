"""The case inputs a criterion names: the paths of the screening case (cases/README.md) that its
rule text mentions (`labs.crp`, `facts.ssc_early_progression`, `events.kidney_biopsy`). A
reviewer's page shows these records as the ones the criterion reads, and those not on record as
its open questions."""

from __future__ import annotations

import re
from typing import Final

from .registry import REGISTRY

_PATH: Final = re.compile(r"\b(?:labs|facts|events|therapies|dates)\.[a-z][a-z0-9_]*")


def named_inputs(criterion_id: str) -> tuple[str, ...]:
    """The case paths the criterion's rule and protocol text name, in order of first mention; ()
    for an unknown criterion or one whose text names none."""
    for registration in REGISTRY:
        if registration.id == criterion_id:
            found: list[str] = []
            for path in _PATH.findall(f"{registration.page_text} {registration.rule_text}"):
                if path not in found:
                    found.append(path)
            return tuple(found)
    return ()
