"""The screening case as immutable input (cases/README.md). Values stay as recorded; units are
converted once at load time into `canonical`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

Number = int | Decimal
# Alias for annotations inside classes whose `date` field shadows the type.
_Date = date
LabValue = int | Decimal | str
# A recorded field kept exactly as entered (for evidence): name and JSON value.
RecordedFields = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class CaseDates:
    as_of: date
    screening_start: date | None = None
    icf_signed: date | None = None
    planned_enrollment: date | None = None
    planned_day0: date | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    index: int
    test: str
    value: LabValue
    collected: date
    unit: str | None = None
    uln: Number | None = None
    specimen: str | None = None
    # Value in the canonical unit (FACTS.md § 4) as num/den so that thresholds compare exactly;
    # None for qualitative results and ratio tests.
    canonical_num: Decimal | None = None
    canonical_den: Decimal | None = None

    @property
    def is_numeric(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def canonical(self) -> Decimal | None:
        if self.canonical_num is None or self.canonical_den is None:
            return None
        if self.canonical_den == 1:
            return self.canonical_num
        return self.canonical_num / self.canonical_den


@dataclass(frozen=True, slots=True)
class DatedFact:
    value: Any
    date: date


@dataclass(frozen=True, slots=True)
class Event:
    index: int
    kind: str
    date: date
    fields: RecordedFields  # every recorded field other than kind and date
    ongoing: bool = False
    product: str | None = None
    type: str | None = None
    adequately_treated: bool | None = None
    active_until: _Date | None = None
    still_active: bool = False
    condition: str | None = None
    nyha_class: int | None = None
    required_anticoagulation: bool | None = None
    isn_rps_classes: tuple[str, ...] = ()
    nih_activity_index: int | None = None
    glomerular_sclerosis: int | None = None
    fibrous_crescents: int | None = None
    tubular_atrophy: int | None = None
    interstitial_fibrosis: int | None = None
    nih_chronicity_index: int | None = None
    active_myositis: bool | None = None


@dataclass(frozen=True, slots=True)
class Therapy:
    index: int
    agent: str
    start: date
    ongoing: bool
    fields: RecordedFields  # every recorded field other than start
    agent_name: str | None = None
    last_dose: date | None = None
    stopped_for_intolerance: bool = False
    counts_as_immunosuppressant: bool = False


@dataclass(frozen=True, slots=True)
class Adjudication:
    index: int
    criterion: str
    review_by: str
    decision: str
    date: date
    evidence_digest: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    cohort: str
    sex: str
    birth_date: date
    dates: CaseDates
    lupus_nephritis: bool | None = None
    labs: tuple[LabResult, ...] = ()
    # Undated facts hold their value (a `date` for ssc_first_non_raynaud_date); dated facts a DatedFact.
    facts: dict[str, Any] = field(default_factory=dict)
    therapies: tuple[Therapy, ...] = ()
    events: tuple[Event, ...] = ()
    reviewed: frozenset[str] = frozenset()
    adjudications: tuple[Adjudication, ...] = ()
    # The version the case names (None: the current one); an explicit override takes precedence.
    protocol_version: str | None = None
