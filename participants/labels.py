"""Readable names for the inputs the engine reads: lab tests, facts, events, dates and the
`missing` paths of FACTS.md § 1. Display only; no rule lives here."""

from __future__ import annotations

from screening.criteria.vocabulary import (
    FACT_KEYS_BY_KEY,
    LAB_TESTS_BY_KEY,
    THERAPY_AGENTS,
)

# Short names as they appear on a lab report; the vocabulary's long name is used otherwise.
_LAB_SHORT = {
    "anc": "ANC",
    "alc": "ALC",
    "platelets": "Platelets",
    "hemoglobin": "Haemoglobin",
    "creatinine": "Creatinine",
    "weight": "Weight",
    "ck": "CK",
    "aldolase": "Aldolase",
    "crp": "CRP",
    "anti_dsdna": "Anti-dsDNA",
    "anti_sm": "Anti-Sm",
    "anti_rnp": "Anti-U1-RNP",
    "anti_tif1g": "Anti-TIF1-γ",
    "pregnancy_test": "Pregnancy test",
    "hbsag": "HBsAg",
    "anti_hbc": "Anti-HBc",
    "hbv_dna": "HBV DNA",
    "hcv_ab": "Anti-HCV",
    "hcv_rna": "HCV RNA",
    "hiv_ag_ab": "HIV Ag/Ab",
    "fvc_pct_pred": "FVC % predicted",
    "dlco_pct_pred": "DLCO % predicted",
}

_FACT_SHORT = {
    "sledai2k": "SLEDAI-2K",
    "bilag2004": "BILAG-2004",
    "cdasi_activity": "CDASI activity",
    "mdi_global_damage": "MDI global damage",
    "mrss": "mRSS",
    "ild_progressive_raghu2022": "ILD progression (Raghu 2022)",
}

DATE_LABELS = {
    "as_of": "As-of date",
    "screening_start": "Screening start",
    "icf_signed": "ICF signed",
    "planned_enrollment": "Planned enrollment",
    "planned_day0": "Planned Day 0",
}

_AGENTS = {a.key: a.label for a in THERAPY_AGENTS}


# Abbreviations in vocabulary keys, written as the protocol writes them.
_ABBREVIATIONS = {
    "nih": "NIH",
    "isn": "ISN",
    "rps": "RPS",
    "nyha": "NYHA",
    "ln": "LN",
    "cis": "CIS",
    "bcc": "BCC",
    "scc": "SCC",
    "cns": "CNS",
    "slicc": "SLICC",
}


def words(key: str) -> str:
    """A vocabulary key inside a sentence: `cns_lupus` → "CNS lupus" (abbreviations stay capitals)."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in key.split("_") if word)


def humanize(key: str) -> str:
    """A vocabulary key as a label: `nih_activity_index` → "NIH activity index"."""
    text = words(key)
    return text[:1].upper() + text[1:]


def lab_label(test: str) -> str:
    if test in _LAB_SHORT:
        return _LAB_SHORT[test]
    spec = LAB_TESTS_BY_KEY.get(test)
    return spec.label if spec else humanize(test)


# Abbreviations a coordinator may not know: spelled out where the page asks for the result.
_SPELLED_OUT = frozenset(
    {"anc", "alc", "ck", "crp", "hbsag", "anti_hbc", "hcv_ab", "hiv_ag_ab", "hbv_dna", "hcv_rna"}
)


def lab_long_label(test: str) -> str:
    spec = LAB_TESTS_BY_KEY.get(test)
    short = lab_label(test)
    if spec is None or test not in _SPELLED_OUT:
        return short
    long = spec.label
    if len(long) > 1 and long[1].islower():  # "Absolute neutrophil count", not "HIV-1/2 ..."
        long = long[0].lower() + long[1:]
    return f"{short} ({long})"


def fact_label(key: str) -> str:
    if key in _FACT_SHORT:
        return _FACT_SHORT[key]
    spec = FACT_KEYS_BY_KEY.get(key)
    return spec.meaning if spec else humanize(key)


def event_label(kind: str) -> str:
    return humanize(kind)


def agent_label(agent: str, name: str = "") -> str:
    text = name or _AGENTS.get(agent, humanize(agent))
    return text[:1].upper() + text[1:]


def area_label(area: str) -> str:
    return "prior therapies" if area == "therapies" else words(area)


def path_label(path: str) -> str:
    """A `missing` path (FACTS.md § 1) as a coordinator reads it."""
    head, _, rest = path.partition(".")
    if head == "labs":
        return f"{lab_long_label(rest)} result"
    if head == "facts":
        spec = FACT_KEYS_BY_KEY.get(rest)
        return spec.meaning if spec else fact_label(rest)
    if head == "reviewed":
        return f"Confirm the history of {area_label(rest)} was taken in full"
    if head == "dates":
        return f"{DATE_LABELS.get(rest, humanize(rest))} date"
    if head == "events":
        kind, _, field = rest.partition(".")
        return f"{event_label(kind)} record: {words(field)}"
    return {"birth_date": "Date of birth", "sex": "Sex assigned at birth"}.get(path, humanize(path))
