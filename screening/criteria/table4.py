"""Working Table 4 (PRIOR-THERAPIES.md) as data: one frozen row per agent key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Category(StrEnum):
    IMMUNOSUPPRESSANT = "immunosuppressant"
    B_CELL_DEPLETING = "b_cell_depleting"
    INVESTIGATIONAL = "investigational_or_non_standard"
    BACKGROUND = "background"
    PROCEDURE = "procedure"
    TARGETED_EXCLUDED = "cd19_cd70_or_engineered_cell_therapy"
    UNLISTED = "unlisted"


class Exposure(StrEnum):
    CONTINUOUS = "continuous"
    COURSE = "course"


# Washout kinds other than a number of days.
TAPER: Final = "taper"
CONTINUE: Final = "continue"
EXCLUDED: Final = "excluded"
REVIEW: Final = "review"

Washout = int | str


@dataclass(frozen=True, slots=True)
class TherapyAgent:
    key: str
    label: str
    category: Category
    b_cell_depleting: bool
    counts_sle: bool
    counts_iim: bool
    counts_ssc: bool
    exposure: Exposure
    dosing_interval_days: int
    half_life: str
    washout: Washout
    note: str = ""

    def counts_as_immunosuppressant(self, cohort: str) -> bool:
        if cohort == "SLE":
            return self.counts_sle
        if cohort == "IIM":
            return self.counts_iim
        return self.counts_ssc


_C: Final = Exposure.CONTINUOUS
_K: Final = Exposure.COURSE
_IS: Final = Category.IMMUNOSUPPRESSANT
_BC: Final = Category.B_CELL_DEPLETING
_INV: Final = Category.INVESTIGATIONAL
_BG: Final = Category.BACKGROUND
_TX: Final = Category.TARGETED_EXCLUDED

# PRIOR-THERAPIES.md note 1, in words a coordinator can read aloud (the reasons quote it).
_BELIMUMAB_NOTE: Final = (
    "28 days apply while the sponsor's classification is pending, 14 days if it is not B-cell depleting"
)


def _agent(
    key: str,
    label: str,
    category: Category,
    bcell: bool,
    counts: tuple[bool, bool, bool],
    exposure: Exposure,
    interval: int,
    half_life: str,
    washout: Washout,
    note: str = "",
) -> TherapyAgent:
    return TherapyAgent(
        key,
        label,
        category,
        bcell,
        counts[0],
        counts[1],
        counts[2],
        exposure,
        interval,
        half_life,
        washout,
        note,
    )


_YYY: Final = (True, True, True)
_NNN: Final = (False, False, False)

TABLE4_2025_03_31_2: Final[tuple[TherapyAgent, ...]] = (
    _agent("rituximab", "rituximab (anti-CD20 mAb)", _BC, True, _YYY, _K, 0, "≈ 3 weeks", 28),
    _agent("obinutuzumab", "obinutuzumab (anti-CD20 mAb)", _BC, True, _YYY, _K, 0, "≈ 4 weeks", 28),
    _agent("ocrelizumab", "ocrelizumab (anti-CD20 mAb)", _BC, True, _YYY, _K, 0, "≈ 26 days", 28),
    _agent("ofatumumab", "ofatumumab (anti-CD20 mAb)", _BC, True, _YYY, _K, 0, "≈ 16 days", 28),
    _agent("ianalumab", "ianalumab (anti-BAFF-R mAb)", _BC, True, _YYY, _K, 0, "weeks (mAb)", 28),
    _agent(
        "daratumumab",
        "daratumumab (anti-CD38 mAb)",
        _BC,
        True,
        _YYY,
        _K,
        0,
        "≈ 18 days",
        28,
        "treated as B-cell depleting until the sponsor says otherwise",
    ),
    _agent(
        "belimumab", "belimumab (anti-BLyS mAb)", _BC, True, _YYY, _C, 28, "≈ 19 days", 28, _BELIMUMAB_NOTE
    ),
    _agent(
        "telitacicept", "telitacicept (TACI-Fc)", _BC, True, _YYY, _C, 0, "> 2.8 days", 28, _BELIMUMAB_NOTE
    ),
    _agent("anifrolumab", "anifrolumab (anti-IFNAR1 mAb)", _IS, False, _YYY, _C, 28, "≈ 18 days", 14),
    _agent("cyclophosphamide", "cyclophosphamide", _IS, False, _YYY, _K, 0, "12 h", 3),
    _agent("mycophenolate_mofetil", "mycophenolate mofetil", _IS, False, _YYY, _C, 0, "17.9 h", 4),
    _agent(
        "mycophenolic_acid", "mycophenolic acid / mycophenolate sodium", _IS, False, _YYY, _C, 0, "16 h", 4
    ),
    _agent("azathioprine", "azathioprine", _IS, False, _YYY, _C, 0, "≈ 5 h", 2),
    _agent("methotrexate", "methotrexate", _IS, False, _YYY, _C, 0, "10 h", 3),
    _agent("tacrolimus", "tacrolimus", _IS, False, _YYY, _C, 0, "≈ 35 h", 8),
    _agent("voclosporin", "voclosporin", _IS, False, _YYY, _C, 0, "36.5 h", 8),
    _agent("cyclosporine", "ciclosporin", _IS, False, _YYY, _C, 0, "27 h", 6),
    _agent("leflunomide", "leflunomide", _IS, False, _YYY, _C, 0, "≈ 18 days", 14),
    _agent("sirolimus", "sirolimus", _IS, False, _YYY, _C, 0, "≈ 62 h", 13),
    _agent("tocilizumab", "tocilizumab (anti-IL-6R mAb)", _IS, False, _YYY, _C, 28, "5–13 days", 14),
    _agent("abatacept", "abatacept (CTLA4-Ig)", _IS, False, _YYY, _C, 28, "≈ 13 days", 14),
    _agent("tofacitinib", "tofacitinib (JAK inhibitor)", _IS, False, _YYY, _C, 0, "≈ 3 h", 1),
    _agent("baricitinib", "baricitinib (JAK inhibitor)", _IS, False, _YYY, _C, 0, "≈ 12.5 h", 3),
    _agent("upadacitinib", "upadacitinib (JAK inhibitor)", _IS, False, _YYY, _C, 0, "14 h", 3),
    _agent("ruxolitinib", "ruxolitinib (JAK inhibitor)", _IS, False, _YYY, _C, 0, "≈ 3 h", 1),
    _agent("deucravacitinib", "deucravacitinib (TYK2 inhibitor)", _INV, False, _NNN, _C, 0, "≈ 10 h", 3),
    _agent("fenebrutinib", "fenebrutinib (BTK inhibitor)", _INV, False, _NNN, _C, 0, "≈ 14.4 h", 3),
    _agent("remibrutinib", "remibrutinib (BTK inhibitor)", _INV, False, _NNN, _C, 0, "≈ 2 h", 1),
    _agent("efgartigimod", "efgartigimod (FcRn blocker)", _INV, False, _NNN, _C, 0, "≥ 2.8 days", 14),
    _agent("nipocalimab", "nipocalimab (anti-FcRn mAb)", _INV, False, _NNN, _C, 0, "≥ 2.8 days", 14),
    _agent("rozanolixizumab", "rozanolixizumab (anti-FcRn mAb)", _INV, False, _NNN, _C, 0, "≥ 2.8 days", 14),
    _agent(
        "ivig",
        "intravenous or subcutaneous immunoglobulin",
        _IS,
        False,
        (False, True, False),
        _C,
        28,
        "≈ 3–4 weeks",
        14,
        "counts as immunosuppressant in IIM only (note 3)",
    ),
    _agent("hydroxychloroquine", "hydroxychloroquine", _BG, False, _NNN, _C, 0, "≈ 40–50 days", CONTINUE),
    _agent("glucocorticoid", "systemic glucocorticoids", _BG, False, _NNN, _C, 0, "—", TAPER),
    _agent("nintedanib", "nintedanib (antifibrotic)", _BG, False, _NNN, _C, 0, "15 h", CONTINUE),
    _agent("pirfenidone", "pirfenidone (antifibrotic)", _BG, False, _NNN, _C, 0, "≈ 3 h", CONTINUE),
    _agent(
        "plasma_exchange",
        "plasma exchange or immunoadsorption",
        Category.PROCEDURE,
        False,
        _NNN,
        _C,
        0,
        "—",
        REVIEW,
        "a procedure: investigator review when ongoing or recent (note 10)",
    ),
    _agent("inebilizumab", "inebilizumab (anti-CD19 mAb)", _TX, True, _NNN, _K, 0, "—", EXCLUDED),
    _agent("tafasitamab", "tafasitamab (anti-CD19 mAb)", _TX, False, _NNN, _K, 0, "—", EXCLUDED),
    _agent(
        "blinatumomab", "blinatumomab (CD19 × CD3 T-cell engager)", _TX, False, _NNN, _K, 0, "—", EXCLUDED
    ),
    _agent(
        "loncastuximab_tesirine",
        "loncastuximab tesirine (anti-CD19 ADC)",
        _TX,
        False,
        _NNN,
        _K,
        0,
        "—",
        EXCLUDED,
    ),
    _agent("obexelimab", "obexelimab (CD19 × FcγRIIb)", _TX, False, _NNN, _K, 0, "—", EXCLUDED),
    _agent("cusatuzumab", "cusatuzumab (anti-CD70 mAb)", _TX, False, _NNN, _K, 0, "—", EXCLUDED),
    _agent(
        "other_cd19_or_cd70_targeted",
        "other CD19- or CD70-targeted agent",
        _TX,
        False,
        _NNN,
        _K,
        0,
        "—",
        EXCLUDED,
    ),
    _agent(
        "engineered_cell_therapy",
        "engineered cell therapy (CAR-T, CAR-NK, TCR-T…)",
        _TX,
        False,
        _NNN,
        _K,
        0,
        "—",
        EXCLUDED,
    ),
)

# An `other` entry: not in the table. It counts for rule R only as a candidate (continuous, interval 0).
UNLISTED_AGENT: Final = TherapyAgent(
    "other", "agent not in Table 4", Category.UNLISTED, False, False, False, False, _C, 0, "—", REVIEW
)
