"""Registration of a criterion next to its rule: catalogue entry, protocol text and thresholds.

Each rule module registers its criteria with `@criterion(...)`, so a criterion's rule, the page
text it implements, the thresholds and settings it reads and its catalogue entry stand together.
Titles and texts are templates: `{name}` is replaced by the value of that threshold or setting
in the protocol version the catalogue is built for (`catalogue.catalogue`), so no number of a
version is typed into a text. The section states the cohort a criterion applies to, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .framework import Rule

INCLUSION_ALL: Final = "Inclusion — all cohorts"
INCLUSION_SLE: Final = "Inclusion — SLE"
INCLUSION_IIM: Final = "Inclusion — IIM"
INCLUSION_SSC: Final = "Inclusion — SSc"
EXCLUSION_ALL: Final = "Exclusion — all cohorts"
EXCLUSION_SLE: Final = "Exclusion — SLE"
EXCLUSION_IIM: Final = "Exclusion — IIM"
EXCLUSION_SSC: Final = "Exclusion — SSc"

# Catalogue order: by section, then in the order of registration within a section.
SECTIONS: Final = (
    INCLUSION_ALL,
    INCLUSION_SLE,
    INCLUSION_IIM,
    INCLUSION_SSC,
    EXCLUSION_ALL,
    EXCLUSION_SLE,
    EXCLUSION_IIM,
    EXCLUSION_SSC,
)
COHORT_OF_SECTION: Final[dict[str, str | None]] = {
    s: (None if s.endswith("all cohorts") else s.rsplit(" ", 1)[1]) for s in SECTIONS
}


@dataclass(frozen=True, slots=True)
class Registration:
    id: str
    section: str
    title: str  # templates: {name} is a threshold or setting of the protocol version
    page_text: str
    rule_text: str
    reads: tuple[str, ...]  # the thresholds and settings the rule and its texts read
    timing: bool  # its FAIL can clear with time alone (§ 1.7), so it may carry eligible_from
    introduced_in: str | None  # the protocol version that added the criterion (None: the first)
    rule: Rule

    @property
    def cohort(self) -> str | None:
        return COHORT_OF_SECTION[self.section]


REGISTRY: Final[list[Registration]] = []


def criterion(
    cid: str,
    section: str,
    *,
    title: str,
    page: str,
    rule: str,
    reads: tuple[str, ...] = (),
    timing: bool = False,
    introduced_in: str | None = None,
) -> Callable[[Rule], Rule]:
    """Register the decorated rule as criterion `cid`; the rule itself is returned unchanged."""
    if section not in COHORT_OF_SECTION:
        raise ValueError(f"{cid}: unknown section {section!r}")

    def register(fn: Rule) -> Rule:
        if any(r.id == cid for r in REGISTRY):
            raise ValueError(f"{cid} is registered twice")
        REGISTRY.append(Registration(cid, section, title, page, rule, reads, timing, introduced_in, fn))
        return fn

    return register
