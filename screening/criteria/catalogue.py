"""The criteria of a protocol version in catalogue order, with texts that state that version's numbers.

The entries come from the registrations next to the rules (`registry.criterion`); importing the
rule modules registers them. `catalogue(protocol)` builds a version's entries once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from string import Formatter
from typing import Final

from . import rules_common_exclusion, rules_common_inclusion, rules_iim, rules_sle, rules_ssc
from .canonical import format_decimal
from .framework import Rule
from .protocol import PROTOCOL_VERSIONS, ProtocolVersion, get_protocol
from .registry import (
    EXCLUSION_ALL,
    EXCLUSION_IIM,
    EXCLUSION_SLE,
    EXCLUSION_SSC,
    INCLUSION_ALL,
    INCLUSION_IIM,
    INCLUSION_SLE,
    INCLUSION_SSC,
    REGISTRY,
    SECTIONS,
    Registration,
)

RULE_MODULES: Final = (rules_common_inclusion, rules_sle, rules_iim, rules_ssc, rules_common_exclusion)

__all__ = [
    "CRITERIA",
    "EXCLUSION_ALL",
    "EXCLUSION_IIM",
    "EXCLUSION_SLE",
    "EXCLUSION_SSC",
    "INCLUSION_ALL",
    "INCLUSION_IIM",
    "INCLUSION_SLE",
    "INCLUSION_SSC",
    "REGISTRY",
    "RULE_MODULES",
    "CriterionInfo",
    "catalogue",
    "registrations",
    "rules",
]


@dataclass(frozen=True, slots=True)
class CriterionInfo:
    id: str
    section: str
    cohort: str | None
    title: str
    page_text: str
    rule: str
    # True for the criteria whose FAIL can clear with time alone (§ 1.7: "the criteria that can have one say so").
    timing: bool = False
    # The thresholds and settings the criterion reads, with this version's values.
    reads: tuple[tuple[str, str], ...] = ()
    introduced_in: str | None = None

    @property
    def is_exclusion(self) -> bool:
        return self.section.startswith("Exclusion")


# A period the page states in weeks or years: `{name_weeks}` or `{name_years}` in a template.
_DERIVED: Final = (("_days", "_weeks", 7), ("_months", "_years", 12))


def protocol_values(protocol: ProtocolVersion) -> dict[str, str]:
    """Every threshold and setting of a version as text, by name, with periods in weeks or years."""
    values: dict[str, str] = {}
    for group in (protocol.settings, protocol.thresholds):
        for f in fields(group):
            v = getattr(group, f.name)
            values[f.name] = format_decimal(v) if isinstance(v, Decimal) else str(v)
            for unit, larger, factor in _DERIVED:
                if f.name.endswith(unit) and isinstance(v, int) and v % factor == 0:
                    values[f.name + larger] = str(v // factor)
    return values


def _base_name(name: str) -> str:
    for unit, larger, _factor in _DERIVED:
        if name.endswith(unit + larger):
            return name[: -len(larger)]
    return name


def _in_version(reg: Registration, protocol: ProtocolVersion) -> bool:
    # Versions are named by their date, so they sort in the order they were issued.
    return reg.introduced_in is None or reg.introduced_in <= protocol.version


def registrations(protocol: ProtocolVersion) -> tuple[Registration, ...]:
    """The registrations of the criteria of a version, in catalogue order."""
    regs = [r for r in REGISTRY if _in_version(r, protocol)]
    return tuple(sorted(regs, key=lambda r: SECTIONS.index(r.section)))  # stable: registration order


def _fill(template: str, reg: Registration, values: Mapping[str, str]) -> str:
    """The template with each {name} replaced; a name the registration does not declare is an error."""
    names = {_base_name(name) for _, name, _, _ in Formatter().parse(template) if name}
    undeclared = names - set(reg.reads)
    if undeclared:
        raise ValueError(f"{reg.id}: text reads {sorted(undeclared)} but `reads` does not declare them")
    return template.format_map(values)


_CATALOGUES: dict[str, tuple[CriterionInfo, ...]] = {}


def catalogue(protocol: ProtocolVersion | str) -> tuple[CriterionInfo, ...]:
    """The criteria of a protocol version (or version name) in catalogue order."""
    if isinstance(protocol, str):
        protocol = get_protocol(protocol)
    cached = _CATALOGUES.get(protocol.version)
    if cached is None:
        values = protocol_values(protocol)
        cached = _CATALOGUES[protocol.version] = tuple(
            CriterionInfo(
                r.id,
                r.section,
                r.cohort,
                _fill(r.title, r, values),
                _fill(r.page_text, r, values),
                _fill(r.rule_text, r, values),
                r.timing,
                tuple((name, values[name]) for name in r.reads),
                r.introduced_in,
            )
            for r in registrations(protocol)
        )
    return cached


def rules(protocol: ProtocolVersion) -> tuple[tuple[CriterionInfo, Rule], ...]:
    """Each criterion of a version with the rule that evaluates it."""
    by_id = {r.id: r.rule for r in REGISTRY}
    return tuple((info, by_id[info.id]) for info in catalogue(protocol))


# Every version's texts are built at import, so a template error cannot wait for a rare case.
for _p in PROTOCOL_VERSIONS.values():
    catalogue(_p)

# The catalogue the web app shows: it evaluates under 2025-03-31.2 until sites activate versions.
CRITERIA: Final[tuple[CriterionInfo, ...]] = catalogue("2025-03-31.2")
