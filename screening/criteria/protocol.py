"""Protocol versions: every clinical threshold, window and setting, keyed by catalogue version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from .table4 import TABLE4_2025_03_31_2, UNLISTED_AGENT, TherapyAgent


@dataclass(frozen=True, slots=True)
class Settings:
    """Protocol settings of CRITERIA.md § 1.9: configuration, not code."""

    screening_window_days: int = 28
    lung_function_review_margin_pct: Decimal = Decimal(5)
    ln_min_nih_activity_index: int = 2
    muscle_biopsy_window_months: int = 6
    nyha_exclusion_min_class: int = 2
    unlisted_agent_lookback_days: int = 28


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Constants taken from the eligibility page (changed only by an amendment)."""

    age_min: int = 18
    age_max: int = 69
    anc_min_per_ul: Decimal = Decimal(1000)
    platelets_min_per_ul: Decimal = Decimal(75000)
    hemoglobin_min_g_dl: Decimal = Decimal(8)
    alc_min_per_ul: Decimal = Decimal(1000)
    crcl_min_ml_min: Decimal = Decimal(50)
    support_free_days: int = 7
    postmenopausal_confirm_below_age: int = 50
    sledai_min: int = 6
    ln_biopsy_window_months: int = 6
    prior_immunosuppressant_months: int = 3
    iim_score_min_without_biopsy: Decimal = Decimal("5.5")
    iim_score_min_with_biopsy: Decimal = Decimal("6.7")
    iim_ck_uln_multiple: Decimal = Decimal(3)
    iim_aldolase_max_u_l: Decimal = Decimal(8)
    cdasi_activity_min_exclusive: int = 14
    ssc_score_min: int = 9
    ssc_duration_months: int = 84
    ssc_mrss_min_exclusive: int = 10
    ssc_ck_uln_multiple: Decimal = Decimal("1.5")
    ssc_crp_uln_multiple: Decimal = Decimal("1.5")
    malignancy_months: int = 36
    live_vaccine_days: int = 28
    cardiac_months: int = 6
    pulmonary_embolism_months: int = 6
    hypertensive_crisis_months: int = 6
    cns_lupus_months: int = 6
    dialysis_months: int = 12
    child_pugh_min_excluded: int = 7
    pleural_effusion_min_excluded_grade: int = 2
    lung_function_floor_pct: Decimal = Decimal(40)
    mdi_max_global_damage: Decimal = Decimal(7)
    chronicity_component_excluded: int = 3
    chronicity_total_excluded_min: int = 9
    chronicity_total_pass_max: int = 2


@dataclass(frozen=True, slots=True)
class ProtocolVersion:
    version: str
    settings: Settings
    thresholds: Thresholds
    agents: Mapping[str, TherapyAgent] = field(default_factory=dict)
    unlisted_agent: TherapyAgent = UNLISTED_AGENT
    based_on: str | None = None  # the version this one amends

    def agent(self, key: str) -> TherapyAgent:
        """Table 4 row of an agent key; `other` is the unlisted agent."""
        return self.agents.get(key, self.unlisted_agent)


def _agents(rows: tuple[TherapyAgent, ...]) -> Mapping[str, TherapyAgent]:
    return MappingProxyType({row.key: row for row in rows})


PROTOCOL_2025_03_31_2: Final = ProtocolVersion(
    version="2025-03-31.2",
    settings=Settings(),
    thresholds=Thresholds(),
    agents=_agents(TABLE4_2025_03_31_2),
)

PROTOCOL_VERSIONS: Final[Mapping[str, ProtocolVersion]] = MappingProxyType(
    {p.version: p for p in (PROTOCOL_2025_03_31_2,)}
)
CURRENT_PROTOCOL: Final[ProtocolVersion] = PROTOCOL_2025_03_31_2


def get_protocol(version: str) -> ProtocolVersion:
    try:
        return PROTOCOL_VERSIONS[version]
    except KeyError:
        raise KeyError(
            f"unknown protocol version {version!r}; known: {', '.join(PROTOCOL_VERSIONS)}"
        ) from None
