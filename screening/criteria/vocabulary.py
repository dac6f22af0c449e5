"""Vocabulary of the case format (FACTS.md), as data for the engine and the intake forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .table4 import TABLE4_2025_03_31_2


class ValueKind(StrEnum):
    NUMERIC = "numeric"
    QUALITATIVE = "qualitative"
    BOTH = "both"


class UlnRule(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class UnitFactor:
    """canonical value = value × num ÷ den (kept as two factors so comparisons stay exact)."""

    unit: str
    num: Decimal
    den: Decimal


@dataclass(frozen=True, slots=True)
class LabTest:
    key: str
    label: str
    value_kind: ValueKind
    units: tuple[UnitFactor, ...]  # empty: any unit of 1-20 characters (ratio tests) or none
    any_unit: bool  # CK, CRP, numeric autoantibodies: only value ÷ uln is compared
    canonical_unit: str
    uln: UlnRule
    specimen_required: bool
    qualitative_values: tuple[str, ...]
    loinc: str
    has_window: bool = True
    # Plausibility bounds in the canonical unit (FACTS.md § 4.3 with the case schema's, labs
    # README § 6.1): inclusive, but for `min_exclusive`; no measurement is below 0.
    min_value: Decimal = Decimal(0)
    max_value: Decimal | None = None
    min_exclusive: bool = False

    @property
    def unit_names(self) -> tuple[str, ...]:
        return tuple(u.unit for u in self.units)

    @property
    def offered_units(self) -> tuple[str, ...]:
        """The units a person chooses from: one spelling per unit, the aliases left out."""
        return tuple(u.unit for u in self.units if u.unit not in UNIT_ALIASES)
    def plausible(self, num: Decimal, den: Decimal = Decimal(1)) -> bool:
        """Whether num / den (a value in the canonical unit, as a fraction: exact) is within the
        plausibility bounds. The one place that states them: the loader and the lab import read it."""
        low = self.min_value * den
        if num < low or (self.min_exclusive and num == low):
            return False
        return self.max_value is None or num <= self.max_value * den

    def factor(self, unit: str | None) -> UnitFactor | None:
        for u in self.units:
            if u.unit == unit:
                return u
        return None


def _u(unit: str, num: str | int = 1, den: str | int = 1) -> UnitFactor:
    return UnitFactor(unit, Decimal(num), Decimal(den))


# The unit table's words: how a unit is written for people (forms, reasons, exports), and the
# other spellings of the same unit that a laboratory may send (UCUM, analyser abbreviations).
# Aliases are accepted wherever a unit is read but never offered as a choice of their own.
UNIT_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "cells/uL": "/uL",
        "{cells}/uL": "/uL",
        "cells/mm3": "/mm3",
        "10*3/uL": "10^3/uL",
        "K/uL": "10^3/uL",
        "x10E3/uL": "10^3/uL",
        "10*9/L": "10^9/L",
        "x10E9/L": "10^9/L",
        "[IU]/L": "IU/L",
        "[lb_av]": "lb",
    }
)
_UNIT_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "/uL": "/µL",
        "/mm3": "/mm³",
        "10^3/uL": "10³/µL",
        "10^9/L": "10⁹/L",
        "umol/L": "µmol/L",
        "ukat/L": "µkat/L",
    }
)


def unit_label(unit: str) -> str:
    """A unit as people read it, the same in forms, reasons and exports: `10^9/L` → 10⁹/L,
    `umol/L` → µmol/L; an alias reads as the unit it spells (`10*9/L` → 10⁹/L). A unit outside the
    table (the free units of ratio tests) stays as written."""
    canonical = UNIT_ALIASES.get(unit, unit)
    return _UNIT_WORDS.get(canonical, canonical)


_COUNT_UNITS: Final = (
    _u("/uL"),
    _u("cells/uL"),
    _u("{cells}/uL"),
    _u("/mm3"),
    _u("cells/mm3"),
    _u("10^3/uL", 1000),
    _u("10*3/uL", 1000),
    _u("K/uL", 1000),
    _u("x10E3/uL", 1000),
    _u("10^9/L", 1000),
    _u("10*9/L", 1000),
    _u("x10E9/L", 1000),
)
_SEROLOGY: Final = ("positive", "negative", "indeterminate")
_PCR: Final = ("detected", "not_detected")

LAB_TESTS: Final[tuple[LabTest, ...]] = (
    LabTest(
        "anc",
        "Absolute neutrophil count",
        ValueKind.NUMERIC,
        _COUNT_UNITS,
        False,
        "/µL",
        UlnRule.FORBIDDEN,
        False,
        (),
        "751-8",
        max_value=Decimal(200000),
    ),
    LabTest(
        "alc",
        "Absolute lymphocyte count",
        ValueKind.NUMERIC,
        _COUNT_UNITS,
        False,
        "/µL",
        UlnRule.FORBIDDEN,
        False,
        (),
        "731-0",
        max_value=Decimal(200000),
    ),
    LabTest(
        "platelets",
        "Platelet count",
        ValueKind.NUMERIC,
        _COUNT_UNITS,
        False,
        "/µL",
        UlnRule.FORBIDDEN,
        False,
        (),
        "777-3",
        max_value=Decimal(5000000),
    ),
    LabTest(
        "hemoglobin",
        "Haemoglobin",
        ValueKind.NUMERIC,
        (_u("g/dL"), _u("g/L", 1, 10), _u("mmol/L", "1.6114")),
        False,
        "g/dL",
        UlnRule.FORBIDDEN,
        False,
        (),
        "718-7",
        max_value=Decimal(25),
    ),
    LabTest(
        "creatinine",
        "Serum creatinine",
        ValueKind.NUMERIC,
        (_u("mg/dL"), _u("umol/L", 1, "88.4")),
        False,
        "mg/dL",
        UlnRule.FORBIDDEN,
        False,
        (),
        "2160-0",
        max_value=Decimal(30),
        min_exclusive=True,
    ),
    LabTest(
        "weight",
        "Body weight (actual)",
        ValueKind.NUMERIC,
        (_u("kg"), _u("lb", "0.45359237"), _u("[lb_av]", "0.45359237")),
        False,
        "kg",
        UlnRule.FORBIDDEN,
        False,
        (),
        "29463-7",
        min_value=Decimal(20),
        max_value=Decimal(400),
    ),
    LabTest(
        "ck",
        "Creatine kinase (total)",
        ValueKind.NUMERIC,
        (),
        True,
        "× ULN",
        UlnRule.REQUIRED,
        False,
        (),
        "2157-6",
    ),
    LabTest(
        "aldolase",
        "Aldolase",
        ValueKind.NUMERIC,
        (_u("U/L"), _u("IU/L"), _u("[IU]/L"), _u("ukat/L", 60)),
        False,
        "U/L",
        UlnRule.OPTIONAL,
        False,
        (),
        "1761-6",
    ),
    LabTest(
        "crp",
        "C-reactive protein",
        ValueKind.NUMERIC,
        (),
        True,
        "× ULN",
        UlnRule.REQUIRED,
        False,
        (),
        "1988-5",
    ),
    LabTest(
        "anti_dsdna",
        "Anti-dsDNA",
        ValueKind.BOTH,
        (),
        True,
        "× ULN",
        UlnRule.REQUIRED,
        False,
        _SEROLOGY,
        "5130-0",
    ),
    LabTest(
        "anti_sm", "Anti-Sm", ValueKind.BOTH, (), True, "× ULN", UlnRule.REQUIRED, False, _SEROLOGY, "11090-8"
    ),
    LabTest(
        "anti_rnp",
        "Anti-U1-RNP",
        ValueKind.BOTH,
        (),
        True,
        "× ULN",
        UlnRule.REQUIRED,
        False,
        _SEROLOGY,
        "29374-6",
    ),
    LabTest(
        "anti_tif1g",
        "Anti-TIF1-γ",
        ValueKind.BOTH,
        (),
        True,
        "× ULN",
        UlnRule.REQUIRED,
        False,
        _SEROLOGY,
        "105555-7",
        has_window=False,
    ),
    LabTest(
        "pregnancy_test",
        "Pregnancy test (hCG)",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        True,
        _SEROLOGY,
        "2106-3",
    ),
    LabTest(
        "hbsag",
        "Hepatitis B surface antigen",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _SEROLOGY,
        "5196-1",
    ),
    LabTest(
        "anti_hbc",
        "Hepatitis B core antibody (total)",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _SEROLOGY,
        "16933-4",
    ),
    LabTest(
        "hbv_dna",
        "HBV DNA (PCR)",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _PCR,
        "29610-3",
    ),
    LabTest(
        "hcv_ab",
        "Hepatitis C antibody",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _SEROLOGY,
        "16128-1",
    ),
    LabTest(
        "hcv_rna",
        "HCV RNA (PCR)",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _PCR,
        "11259-9",
    ),
    LabTest(
        "hiv_ag_ab",
        "HIV-1/2 antibody with p24 antigen",
        ValueKind.QUALITATIVE,
        (),
        False,
        "",
        UlnRule.FORBIDDEN,
        False,
        _SEROLOGY,
        "56888-1",
    ),
    LabTest(
        "fvc_pct_pred",
        "FVC, % predicted",
        ValueKind.NUMERIC,
        (_u("%"),),
        False,
        "%",
        UlnRule.FORBIDDEN,
        False,
        (),
        "19872-1",
        max_value=Decimal(250),
    ),
    LabTest(
        "dlco_pct_pred",
        "DLCO, % predicted",
        ValueKind.NUMERIC,
        (_u("%"),),
        False,
        "%",
        UlnRule.FORBIDDEN,
        False,
        (),
        "",
        max_value=Decimal(250),
    ),
)
LAB_TESTS_BY_KEY: Final[Mapping[str, LabTest]] = MappingProxyType({t.key: t for t in LAB_TESTS})

# Every date of a case lies in this span (engine validation; docs/criteria.md, "Dates the engine
# accepts"): no participant or record is dated outside it, and the calendar arithmetic of § 1.4
# (at most 71 years on from a birth date) stays inside the calendar.
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2199, 12, 31)

# Counts possible but implausible, which the intake questions before saving (FACTS.md § 4.3, last
# paragraph): usually a unit slip. Canonical /µL; the plausibility bounds above refuse the impossible.
IMPLAUSIBLE_BELOW: Final[Mapping[str, Decimal]] = MappingProxyType(
    {"anc": Decimal(10), "alc": Decimal(10), "platelets": Decimal(1000)}
)


class FactType(StrEnum):
    BOOL = "bool"
    INT = "int"
    DECIMAL = "decimal"
    ENUM = "enum"
    DATE = "date"
    BILAG = "bilag"


@dataclass(frozen=True, slots=True)
class FactKey:
    key: str
    type: FactType
    dated: bool
    cohort: str | None
    meaning: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


_B: Final = FactType.BOOL


def _f(
    key: str,
    t: FactType,
    meaning: str,
    *,
    dated: bool = False,
    cohort: str | None = None,
    choices: tuple[str, ...] = (),
    lo: int | None = None,
    hi: int | None = None,
) -> FactKey:
    return FactKey(key, t, dated, cohort, meaning, choices, lo, hi)


BILAG_DOMAINS: Final[tuple[str, ...]] = (
    "constitutional",
    "mucocutaneous",
    "neuropsychiatric",
    "musculoskeletal",
    "cardiorespiratory",
    "gastrointestinal",
    "ophthalmic",
    "renal",
    "haematological",
)
CHILDBEARING_EXEMPTIONS: Final = (
    "none",
    "postmenopausal",
    "hysterectomy",
    "bilateral_oophorectomy",
    "ovarian_failure",
)
IIM_SUBTYPES: Final = (
    "dermatomyositis",
    "amyopathic_dermatomyositis",
    "imnm",
    "antisynthetase_syndrome",
    "polymyositis",
    "inclusion_body_myositis",
    "other",
)

FACT_KEYS: Final[tuple[FactKey, ...]] = (
    _f("inv_adequate_liver_function", _B, "Liver function adequate per protocol (investigator)"),
    _f("inv_adequate_cardiac_function", _B, "Cardiac function adequate per protocol (investigator)"),
    _f("inv_adequate_pulmonary_function", _B, "Pulmonary function adequate per protocol (investigator)"),
    _f(
        "inv_prior_therapy_aes_resolved",
        _B,
        "Acute effects of prior therapy resolved to baseline or CTCAE ≤ 1",
    ),
    _f(
        "inv_no_prior_cd19_cd70_or_engineered_cell_therapy",
        _B,
        "Never received CD19/CD70-targeted or engineered cell therapy (investigator)",
    ),
    _f(
        "childbearing_exemption",
        FactType.ENUM,
        "Basis for non-childbearing potential (females)",
        choices=CHILDBEARING_EXEMPTIONS,
    ),
    _f("male_sterile", _B, "Documented sterility (males)"),
    _f("willing_contraception", _B, "Willing to use highly effective contraception"),
    _f("willing_able_to_comply", _B, "Willing and able to comply with visits and procedures"),
    _f("inv_active_infection", _B, "Exclusionary active infection (investigator)"),
    _f("inv_uncontrolled_other_disease", _B, "Uncontrolled other disease or undue risk (investigator)"),
    _f("history_transplant", _B, "History of HSCT or solid organ transplant"),
    _f("transfusion_refractory", _B, "Refractory to platelet or red cell transfusions"),
    _f("refuses_transfusion", _B, "Will refuse indicated transfusion support"),
    _f("primary_immunodeficiency", _B, "Primary (inherited) immunodeficiency"),
    _f("symptomatic_pericardial_effusion", _B, "Haemodynamically symptomatic pericardial effusion"),
    _f("symptomatic_ecg_abnormality", _B, "Symptomatic ECG abnormality requiring intervention"),
    _f("history_pml", _B, "History of progressive multifocal leukoencephalopathy"),
    _f("cirrhosis", _B, "Has cirrhosis"),
    _f("child_pugh_score", FactType.INT, "Child–Pugh score (only with cirrhosis)", lo=5, hi=15),
    _f("symptomatic_airway_disease", _B, "Symptomatic airway disease requiring intervention"),
    _f(
        "pleural_effusion_ctcae_grade",
        FactType.INT,
        "Pleural effusion, CTCAE v5 grade (0 = none)",
        lo=0,
        hi=4,
    ),
    _f("autoimmune_lung_disease", _B, "Lung disease secondary to the autoimmune disease"),
    _f("ild_progressive_raghu2022", _B, "ILD on HRCT with progression (Raghu 2022)", dated=True),
    _f("inv_adherence_risk", _B, "Condition making safe treatment or adherence unlikely (investigator)"),
    _f(
        "inv_able_to_stop_or_taper_prior_therapies",
        _B,
        "Able to stop or taper every ongoing Table 4 therapy in time (investigator)",
    ),
    _f("breastfeeding", _B, "Currently breastfeeding (females)"),
    _f(
        "plans_pregnancy_or_breastfeeding_12m",
        _B,
        "Plans pregnancy or breastfeeding within 12 months (females)",
    ),
    _f("plans_partner_pregnancy_6m", _B, "Plans a partner pregnancy within 6 months (males)"),
    _f("willing_ltfu_15y", _B, "Willing to take part in 15-year follow-up"),
    _f("slicc_clinical_count", FactType.INT, "SLICC 2012 clinical criteria met", cohort="SLE", lo=0, hi=11),
    _f(
        "slicc_immunologic_count",
        FactType.INT,
        "SLICC 2012 immunological criteria met",
        cohort="SLE",
        lo=0,
        hi=6,
    ),
    _f("slicc_biopsy_proven_ln", _B, "Biopsy-proven LN with ANA or anti-dsDNA", cohort="SLE"),
    _f("sledai2k", FactType.INT, "SLEDAI-2K total at screening", dated=True, cohort="SLE", lo=0, hi=105),
    _f("bilag2004", FactType.BILAG, "BILAG-2004 grades of the nine domains", dated=True, cohort="SLE"),
    _f("drug_induced_lupus", _B, "The lupus is drug-induced", cohort="SLE"),
    _f(
        "inv_expected_rrt_within_12m",
        _B,
        "LN: renal replacement therapy expected within 12 months",
        cohort="SLE",
    ),
    _f(
        "inv_other_kidney_disease_confounding",
        _B,
        "LN: other kidney disease confounding the LN assessment",
        cohort="SLE",
    ),
    _f(
        "iim_eular_acr_2017_score",
        FactType.DECIMAL,
        "2017 EULAR/ACR IIM classification score",
        cohort="IIM",
        lo=0,
        hi=30,
    ),
    _f("iim_eular_acr_2017_with_biopsy", _B, "The 2017 score includes muscle biopsy items", cohort="IIM"),
    _f(
        "iim_subtype",
        FactType.ENUM,
        "Investigator's IIM subclassification",
        cohort="IIM",
        choices=IIM_SUBTYPES,
    ),
    _f("cdasi_activity", FactType.INT, "CDASI activity score", dated=True, cohort="IIM", lo=0, hi=100),
    _f("dm_rash_present", _B, "Cutaneous dermatomyositis rash present", cohort="IIM"),
    _f("iim_other_myositis", _B, "A myositis or myopathy other than the eligible IIM", cohort="IIM"),
    _f(
        "mdi_global_damage",
        FactType.DECIMAL,
        "Myositis Damage Index, physician's global damage",
        dated=True,
        cohort="IIM",
        lo=0,
        hi=10,
    ),
    _f(
        "inv_iim_weakness_not_assessable",
        _B,
        "Weakness non-reversible, unrelated or not assessable",
        cohort="IIM",
    ),
    _f(
        "ssc_acr_eular_2013_score",
        FactType.INT,
        "2013 ACR/EULAR SSc classification score",
        cohort="SSc",
        lo=0,
        hi=28,
    ),
    _f("ssc_first_non_raynaud_date", FactType.DATE, "First non-Raynaud's manifestation", cohort="SSc"),
    _f(
        "ssc_skin_or_lung_progression",
        _B,
        "Documented skin or lung progression in the past 12 months",
        cohort="SSc",
    ),
    _f(
        "mrss", FactType.INT, "Modified Rodnan skin score at screening", dated=True, cohort="SSc", lo=0, hi=51
    ),
    _f("ssc_early_progression", _B, "Early progression of skin disease (investigator)", cohort="SSc"),
    _f("ssc_myositis", _B, "Myositis present", cohort="SSc"),
    _f("pah_requiring_treatment", _B, "Pulmonary arterial hypertension requiring treatment", cohort="SSc"),
    _f("ssc_severe_gi", _B, "Rapidly progressive or severe SSc GI involvement", cohort="SSc"),
    _f("history_scleroderma_renal_crisis", _B, "History of scleroderma renal crisis", cohort="SSc"),
)
FACT_KEYS_BY_KEY: Final[Mapping[str, FactKey]] = MappingProxyType({f.key: f for f in FACT_KEYS})
DATED_FACTS: Final[frozenset[str]] = frozenset(f.key for f in FACT_KEYS if f.dated)


@dataclass(frozen=True, slots=True)
class EventKind:
    kind: str
    date_means: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    can_be_ongoing: bool = False


EVENT_KINDS: Final[tuple[EventKind, ...]] = (
    EventKind("growth_factor", "last dose (with ongoing: start)", ("agent", "ongoing"), (), True),
    EventKind("transfusion", "transfusion date", ("product",), ("product",)),
    EventKind("live_vaccine", "vaccination date", ("vaccine",)),
    EventKind(
        "malignancy",
        "diagnosis date",
        ("type", "adequately_treated", "active_until", "still_active"),
        ("type",),
    ),
    EventKind(
        "cardiovascular_event",
        "most recent symptomatic date (with ongoing: onset)",
        ("condition", "nyha_class", "ongoing"),
        ("condition",),
        True,
    ),
    EventKind(
        "pulmonary_embolism", "diagnosis date", ("required_anticoagulation",), ("required_anticoagulation",)
    ),
    EventKind("hypertensive_crisis", "date of the crisis", ()),
    EventKind("dialysis", "last dialysis session", ()),
    EventKind("cns_lupus", "most recent active date (with ongoing: onset)", ("ongoing",), (), True),
    EventKind(
        "kidney_biopsy",
        "biopsy date",
        (
            "isn_rps_classes",
            "nih_activity_index",
            "glomerular_sclerosis",
            "fibrous_crescents",
            "tubular_atrophy",
            "interstitial_fibrosis",
            "nih_chronicity_index",
        ),
        ("isn_rps_classes",),
    ),
    EventKind("muscle_biopsy", "biopsy date", ("active_myositis",), ("active_myositis",)),
    # From protocol 2025-11-14.3 (exc.major_surgery); accepted and ignored under 2025-03-31.2.
    EventKind("major_surgery", "day of the operation", ("procedure",)),
)
EVENT_KINDS_BY_KIND: Final[Mapping[str, EventKind]] = MappingProxyType({k.kind: k for k in EVENT_KINDS})

REVIEWED_AREAS: Final[tuple[str, ...]] = tuple(k.kind for k in EVENT_KINDS) + ("therapies",)


@dataclass(frozen=True, slots=True)
class TherapyAgentTerm:
    key: str
    label: str
    category: str


THERAPY_AGENTS: Final[tuple[TherapyAgentTerm, ...]] = tuple(
    TherapyAgentTerm(a.key, a.label, str(a.category)) for a in TABLE4_2025_03_31_2
) + (TherapyAgentTerm("other", "other agent (name it)", "unlisted"),)
