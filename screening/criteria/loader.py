"""Reading a screening case: JSON Schema validation, the engine's own checks, then the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from .model import Adjudication, Case, CaseDates, DatedFact, Event, LabResult, Therapy
from .vocabulary import DATED_FACTS, EARLIEST_DATE, LAB_TESTS_BY_KEY, LATEST_DATE, unit_label


class CaseError(ValueError):
    """A case the engine refuses; `errors` lists (field path, message), e.g. ("labs/3/value", "…")."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(f"{path}: {message}" if path else message for path, message in self.errors)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    # Built once: building it per case would dominate the cost of screening a directory.
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def parse_case_text(text: str) -> Case:
    """Parse case JSON with numbers as exact decimals, then validate and load it."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CaseError([("", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]) from None
    return load_case(data)


def load_case(data: Any) -> Case:
    """Validate a parsed case (JSON numbers as Decimal) and build the immutable Case."""
    _reject_floats(data, "")
    from .fastcheck import fast_valid  # local import: keeps the module graph simple

    if not fast_valid(data):
        errors = list(validator().iter_errors(data))
        if errors:
            err = best_match(errors)
            raise CaseError([("/".join(str(p) for p in err.absolute_path), err.message)])
    case = _build(data)
    problems = engine_checks(case)
    if problems:
        raise CaseError(problems)
    return case


def _reject_floats(value: Any, path: str) -> None:
    # A float has already lost the exact decimal (999.99999999999999999 would read as 1000).
    if isinstance(value, float):
        raise CaseError([(path, "binary floating-point number; parse JSON numbers as Decimal")])
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list, float)):
                _reject_floats(v, f"{path}/{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list, float)):
                _reject_floats(v, f"{path}/{i}" if path else str(i))


def _d(s: str) -> date:
    return date.fromisoformat(s)


def _od(s: str | None) -> date | None:
    return None if s is None else date.fromisoformat(s)


def _build(data: dict[str, Any]) -> Case:
    d = data["dates"]
    dates = CaseDates(
        as_of=_d(d["as_of"]),
        screening_start=_od(d.get("screening_start")),
        icf_signed=_od(d.get("icf_signed")),
        planned_enrollment=_od(d.get("planned_enrollment")),
        planned_day0=_od(d.get("planned_day0")),
    )
    labs = []
    for i, lab in enumerate(data.get("labs", ())):
        test = lab["test"]
        value = lab["value"]
        unit = lab.get("unit")
        num = den = None
        if not isinstance(value, str):
            factor = LAB_TESTS_BY_KEY[test].factor(unit)
            if factor is not None:
                num = value * factor.num if factor.num != 1 else Decimal(value)
                den = factor.den
        labs.append(
            LabResult(
                i, test, value, _d(lab["collected"]), unit, lab.get("uln"), lab.get("specimen"), num, den
            )
        )
    facts: dict[str, Any] = {}
    for key, value in data.get("facts", {}).items():
        if key in DATED_FACTS:
            facts[key] = DatedFact(value["value"], _d(value["date"]))
        elif key == "ssc_first_non_raynaud_date":
            facts[key] = _d(value)
        else:
            facts[key] = value
    therapies = []
    for i, t in enumerate(data.get("therapies", ())):
        therapies.append(
            Therapy(
                index=i,
                agent=t["agent"],
                start=_d(t["start"]),
                ongoing=t["ongoing"],
                fields=tuple((k, v) for k, v in t.items() if k != "start"),
                agent_name=t.get("agent_name"),
                last_dose=_od(t.get("last_dose")),
                stopped_for_intolerance=t.get("stopped_for_intolerance", False),
                counts_as_immunosuppressant=t.get("counts_as_immunosuppressant", False),
            )
        )
    events = []
    for i, e in enumerate(data.get("events", ())):
        events.append(
            Event(
                index=i,
                kind=e["kind"],
                date=_d(e["date"]),
                fields=tuple((k, v) for k, v in e.items() if k not in ("kind", "date")),
                ongoing=e.get("ongoing", False),
                product=e.get("product"),
                type=e.get("type"),
                adequately_treated=e.get("adequately_treated"),
                active_until=_od(e.get("active_until")),
                still_active=e.get("still_active", False),
                condition=e.get("condition"),
                nyha_class=e.get("nyha_class"),
                required_anticoagulation=e.get("required_anticoagulation"),
                isn_rps_classes=tuple(e.get("isn_rps_classes", ())),
                nih_activity_index=e.get("nih_activity_index"),
                glomerular_sclerosis=e.get("glomerular_sclerosis"),
                fibrous_crescents=e.get("fibrous_crescents"),
                tubular_atrophy=e.get("tubular_atrophy"),
                interstitial_fibrosis=e.get("interstitial_fibrosis"),
                nih_chronicity_index=e.get("nih_chronicity_index"),
                active_myositis=e.get("active_myositis"),
            )
        )
    adjudications = tuple(
        Adjudication(
            i,
            a["criterion"],
            a["review_by"],
            a["decision"],
            _d(a["date"]),
            a["evidence_digest"],
            a.get("note"),
        )
        for i, a in enumerate(data.get("adjudications", ()))
    )
    return Case(
        case_id=data["case_id"],
        cohort=data["cohort"],
        sex=data["sex"],
        birth_date=_d(data["birth_date"]),
        dates=dates,
        lupus_nephritis=data.get("lupus_nephritis"),
        labs=tuple(labs),
        facts=facts,
        therapies=tuple(therapies),
        events=tuple(events),
        reviewed=frozenset(data.get("reviewed", ())),
        adjudications=adjudications,
        protocol_version=data.get("protocol_version"),
    )


CHRONICITY_COMPONENTS = (
    "glomerular_sclerosis",
    "fibrous_crescents",
    "tubular_atrophy",
    "interstitial_fibrosis",
)


def _plain(x: Any) -> str:
    if isinstance(x, Decimal):
        x = x.normalize()
        return format(x, "f")
    return str(x)


def _dates(case: Case) -> Iterator[tuple[str, date | None]]:
    """Every date of the case with its field path."""
    yield "birth_date", case.birth_date
    for name in ("as_of", "screening_start", "icf_signed", "planned_enrollment", "planned_day0"):
        yield f"dates/{name}", getattr(case.dates, name)
    for lab in case.labs:
        yield f"labs/{lab.index}/collected", lab.collected
    for key, value in case.facts.items():
        if type(value) is DatedFact:
            yield f"facts/{key}/date", value.date
        elif isinstance(value, date):
            yield f"facts/{key}", value
    for t in case.therapies:
        yield f"therapies/{t.index}/start", t.start
        yield f"therapies/{t.index}/last_dose", t.last_dose
    for e in case.events:
        yield f"events/{e.index}/date", e.date
        yield f"events/{e.index}/active_until", e.active_until
    for a in case.adjudications:
        yield f"adjudications/{a.index}/date", a.date


def engine_checks(case: Case) -> list[tuple[str, str]]:
    """The checks JSON Schema cannot express (cases/README.md, "Engine validation"), and the span
    of dates the engine accepts."""
    problems: list[tuple[str, str]] = [
        (path, f"{d} is outside the dates the engine accepts ({EARLIEST_DATE} to {LATEST_DATE})")
        for path, d in _dates(case)
        if d is not None and not EARLIEST_DATE <= d <= LATEST_DATE
    ]
    for t in case.therapies:
        if t.last_dose is not None and t.last_dose < t.start:
            problems.append((f"therapies/{t.index}/last_dose", f"{t.last_dose} is before start {t.start}"))
    for e in case.events:
        if e.kind == "malignancy" and e.active_until is not None and e.active_until < e.date:
            problems.append(
                (f"events/{e.index}/active_until", f"{e.active_until} is before the diagnosis date {e.date}")
            )
        if e.kind == "kidney_biopsy" and e.nih_chronicity_index is not None:
            parts = [getattr(e, c) for c in CHRONICITY_COMPONENTS]
            recorded = [p for p in parts if p is not None]
            total = sum(recorded)
            if e.nih_chronicity_index < total or (len(recorded) == 4 and e.nih_chronicity_index != total):
                problems.append(
                    (
                        f"events/{e.index}/nih_chronicity_index",
                        f"{e.nih_chronicity_index} does not match the chronicity components (sum {total})",
                    )
                )
    for lab in case.labs:
        test = LAB_TESTS_BY_KEY[lab.test]
        if lab.canonical_num is None or lab.canonical_den is None:
            continue
        num, den = lab.canonical_num, lab.canonical_den
        if not test.plausible(num, den):
            canonical = num if den == 1 else num / den
            if test.max_value is not None and num > test.max_value * den:
                bound = f"at most {_plain(test.max_value)} {test.canonical_unit}"
            elif test.min_exclusive:
                bound = f"above {_plain(test.min_value)} {test.canonical_unit}"
            else:
                bound = f"at least {_plain(test.min_value)} {test.canonical_unit}"
            problems.append(
                (
                    f"labs/{lab.index}/value",
                    f"{lab.test} {_plain(lab.value)} {unit_label(lab.unit or '')} = {_plain(canonical)} "
                    f"{test.canonical_unit} is not plausible ({bound}); check the unit",
                )
            )
    return problems
