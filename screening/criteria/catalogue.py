"""The 57 criteria in catalogue order: metadata for people and the rule the engine applies."""

from __future__ import annotations

from dataclasses import dataclass

from . import rules_cohorts as co
from . import rules_exclusion as ex
from . import rules_inclusion as inc
from .catalogue_text import CATALOGUE_TEXT
from .framework import Rule

INCLUSION_ALL = "Inclusion — all cohorts"
INCLUSION_SLE = "Inclusion — SLE"
INCLUSION_IIM = "Inclusion — IIM"
INCLUSION_SSC = "Inclusion — SSc"
EXCLUSION_ALL = "Exclusion — all cohorts"
EXCLUSION_SLE = "Exclusion — SLE"
EXCLUSION_IIM = "Exclusion — IIM"
EXCLUSION_SSC = "Exclusion — SSc"


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

    @property
    def is_exclusion(self) -> bool:
        return self.section.startswith("Exclusion")


_RULE_R = CATALOGUE_TEXT["rule_r"][1]

# (id, section, cohort, title, rule function, timing)
_TABLE: tuple[tuple[str, str, str | None, str, Rule, bool], ...] = (
    ("inc.age", INCLUSION_ALL, None, "Age 18 to 69", inc.inc_age, True),
    ("inc.consent", INCLUSION_ALL, None, "Signed informed consent", inc.inc_consent, False),
    (
        "inc.heme.support",
        INCLUSION_ALL,
        None,
        "No growth factor or transfusion support",
        inc.inc_heme_support,
        False,
    ),
    ("inc.heme.anc", INCLUSION_ALL, None, "ANC ≥ 1000/µL", inc.inc_heme_anc, False),
    ("inc.heme.platelets", INCLUSION_ALL, None, "Platelets ≥ 75 000/µL", inc.inc_heme_platelets, False),
    ("inc.heme.hemoglobin", INCLUSION_ALL, None, "Haemoglobin ≥ 8 g/dL", inc.inc_heme_hemoglobin, False),
    ("inc.heme.alc", INCLUSION_ALL, None, "ALC ≥ 1000/µL", inc.inc_heme_alc, False),
    ("inc.crcl", INCLUSION_ALL, None, "Creatinine clearance ≥ 50 mL/min", inc.inc_crcl, False),
    (
        "inc.organ_function",
        INCLUSION_ALL,
        None,
        "Adequate liver, cardiac and pulmonary function",
        inc.inc_organ_function,
        False,
    ),
    (
        "inc.prior_ae_resolved",
        INCLUSION_ALL,
        None,
        "Prior therapy effects resolved",
        inc.inc_prior_ae_resolved,
        False,
    ),
    ("inc.pregnancy_test", INCLUSION_ALL, None, "Negative pregnancy test", inc.inc_pregnancy_test, False),
    ("inc.childbearing_status", INCLUSION_ALL, None, "Childbearing status", inc.childbearing_status, False),
    ("inc.contraception", INCLUSION_ALL, None, "Willing to use contraception", inc.inc_contraception, False),
    ("inc.compliance", INCLUSION_ALL, None, "Willing and able to comply", inc.inc_compliance, False),
    ("sle.slicc", INCLUSION_SLE, "SLE", "SLE by SLICC 2012", co.sle_slicc, False),
    (
        "sle.autoantibody",
        INCLUSION_SLE,
        "SLE",
        "Positive anti-dsDNA, anti-Sm or anti-RNP",
        co.sle_autoantibody,
        False,
    ),
    ("sle.sledai", INCLUSION_SLE, "SLE", "SLEDAI-2K ≥ 6 (non-LN)", co.sle_sledai, False),
    (
        "sle.organ_involvement",
        INCLUSION_SLE,
        "SLE",
        "BILAG one A or two B (non-LN)",
        co.sle_organ_involvement,
        False,
    ),
    ("sle.ln_biopsy", INCLUSION_SLE, "SLE", "Active LN on a recent biopsy (LN)", co.sle_ln_biopsy, False),
    ("sle.refractory", INCLUSION_SLE, "SLE", "Refractory to an immunosuppressant", co.sle_refractory, True),
    (
        "iim.classification",
        INCLUSION_IIM,
        "IIM",
        "DM, IMNM or anti-synthetase syndrome (2017 EULAR/ACR)",
        co.iim_classification,
        False,
    ),
    ("iim.involvement", INCLUSION_IIM, "IIM", "Muscle, skin or lung involvement", co.iim_involvement, False),
    ("iim.refractory", INCLUSION_IIM, "IIM", "Refractory to an immunosuppressant", co.iim_refractory, True),
    ("ssc.classification", INCLUSION_SSC, "SSc", "SSc by 2013 ACR/EULAR", co.ssc_classification, False),
    (
        "ssc.disease_duration",
        INCLUSION_SSC,
        "SSc",
        "Within 7 years of the first non-Raynaud's manifestation",
        co.ssc_disease_duration,
        False,
    ),
    ("ssc.activity", INCLUSION_SSC, "SSc", "Active disease", co.ssc_activity, False),
    ("ssc.refractory", INCLUSION_SSC, "SSc", "Refractory to an immunosuppressant", co.ssc_refractory, True),
    ("exc.infection", EXCLUSION_ALL, None, "Active infection", ex.exc_infection, False),
    ("exc.malignancy", EXCLUSION_ALL, None, "Active malignancy within 3 years", ex.exc_malignancy, True),
    (
        "exc.prior_targeted_therapy",
        EXCLUSION_ALL,
        None,
        "Prior CD19/CD70-targeted or engineered cell therapy",
        ex.exc_prior_targeted_therapy,
        False,
    ),
    ("exc.live_vaccine", EXCLUSION_ALL, None, "Live vaccine within 4 weeks", ex.exc_live_vaccine, True),
    ("exc.washout", EXCLUSION_ALL, None, "Washout of prior therapies before Day 0", ex.exc_washout, True),
    (
        "exc.uncontrolled_disease",
        EXCLUSION_ALL,
        None,
        "Uncontrolled other disease",
        ex.exc_uncontrolled_disease,
        False,
    ),
    ("exc.transplant", EXCLUSION_ALL, None, "Prior transplantation", ex.exc_transplant, False),
    (
        "exc.transfusion_refractory",
        EXCLUSION_ALL,
        None,
        "Transfusion refractory or refusing transfusion",
        ex.exc_transfusion_refractory,
        False,
    ),
    (
        "exc.hepatitis_hiv",
        EXCLUSION_ALL,
        None,
        "Hepatitis B, hepatitis C or HIV",
        ex.exc_hepatitis_hiv,
        False,
    ),
    ("exc.immunodeficiency", EXCLUSION_ALL, None, "Primary immunodeficiency", ex.exc_immunodeficiency, False),
    ("exc.cardiac", EXCLUSION_ALL, None, "Cardiac or vascular disease within 6 months", ex.exc_cardiac, True),
    ("exc.pml", EXCLUSION_ALL, None, "History of PML", ex.exc_pml, False),
    ("exc.cirrhosis", EXCLUSION_ALL, None, "Child–Pugh B or C cirrhosis", ex.exc_cirrhosis, False),
    (
        "exc.pulmonary",
        EXCLUSION_ALL,
        None,
        "Airway disease, pleural effusion or pulmonary embolism",
        ex.exc_pulmonary,
        True,
    ),
    (
        "exc.lung_function",
        EXCLUSION_ALL,
        None,
        "FVC and DLCO > 40 % in autoimmune lung disease",
        ex.exc_lung_function,
        False,
    ),
    (
        "exc.hypertensive_crisis",
        EXCLUSION_ALL,
        None,
        "Hypertensive crisis within 6 months",
        ex.exc_hypertensive_crisis,
        True,
    ),
    (
        "exc.adherence_risk",
        EXCLUSION_ALL,
        None,
        "Condition preventing safe treatment or adherence",
        ex.exc_adherence_risk,
        False,
    ),
    (
        "exc.pregnancy",
        EXCLUSION_ALL,
        None,
        "Pregnancy, breastfeeding or pregnancy plans",
        ex.exc_pregnancy,
        False,
    ),
    (
        "exc.long_term_followup",
        EXCLUSION_ALL,
        None,
        "Unwilling to take part in 15-year follow-up",
        ex.exc_long_term_followup,
        False,
    ),
    ("sle.exc.cns", EXCLUSION_SLE, "SLE", "Active CNS lupus within 6 months", ex.sle_exc_cns, True),
    ("sle.exc.drug_induced", EXCLUSION_SLE, "SLE", "Drug-induced lupus", ex.sle_exc_drug_induced, False),
    (
        "sle.exc.ln_dialysis",
        EXCLUSION_SLE,
        "SLE",
        "Dialysis within 12 months or expected RRT (LN)",
        ex.sle_exc_ln_dialysis,
        True,
    ),
    (
        "sle.exc.ln_other_kidney",
        EXCLUSION_SLE,
        "SLE",
        "Other confounding kidney disease (LN)",
        ex.sle_exc_ln_other_kidney,
        False,
    ),
    (
        "sle.exc.ln_chronicity",
        EXCLUSION_SLE,
        "SLE",
        "NIH chronicity component of 3 (LN)",
        ex.sle_exc_ln_chronicity,
        False,
    ),
    ("iim.exc.other_myositis", EXCLUSION_IIM, "IIM", "Other myositis", ex.iim_exc_other_myositis, False),
    (
        "iim.exc.damage",
        EXCLUSION_IIM,
        "IIM",
        "Damage index > 7/10 or weakness not assessable",
        ex.iim_exc_damage,
        False,
    ),
    (
        "iim.exc.anti_tif1g",
        EXCLUSION_IIM,
        "IIM",
        "Dermatomyositis with anti-TIF1-γ",
        ex.iim_exc_anti_tif1g,
        False,
    ),
    ("ssc.exc.pah", EXCLUSION_SSC, "SSc", "PAH requiring treatment", ex.ssc_exc_pah, False),
    ("ssc.exc.gi", EXCLUSION_SSC, "SSc", "Severe SSc gastrointestinal involvement", ex.ssc_exc_gi, False),
    (
        "ssc.exc.renal_crisis",
        EXCLUSION_SSC,
        "SSc",
        "Prior scleroderma renal crisis",
        ex.ssc_exc_renal_crisis,
        False,
    ),
)


def _rule_text(cid: str) -> str:
    rule = CATALOGUE_TEXT[cid][1]
    if cid.endswith(".refractory"):
        rule = f"{rule} Rule R: {_RULE_R}"
    return rule


CRITERIA: tuple[CriterionInfo, ...] = tuple(
    CriterionInfo(cid, section, cohort, title, CATALOGUE_TEXT[cid][0], _rule_text(cid), timing)
    for cid, section, cohort, title, _rule, timing in _TABLE
)
RULES: tuple[tuple[str, Rule, bool], ...] = tuple(
    (cid, rule, timing) for cid, _s, _c, _t, rule, timing in _TABLE
)
CRITERION_IDS: tuple[str, ...] = tuple(c.id for c in CRITERIA)
