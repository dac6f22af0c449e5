"""Readings into rows: test, unit spelling, value, ULN, collection date, action and problems.

The rules are `shared/labs/README.md` (§ 5, 6, 7, 9, 10); the units, factors and tests are the
engine's own vocabulary (FACTS.md § 4.1), so the import and the engine accept the same spellings.
Pure: no Django, no database. `matching` supplies what the site recorded and imported before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from screening.criteria.vocabulary import LAB_TESTS_BY_KEY, LabTest, ValueKind

from .reading import Identifier, Reading, SentValue, Stamp, answer_from_codes

# § 5: LOINC code → (test, specimen).
LOINC_TESTS: dict[str, tuple[str, str | None]] = {
    **dict.fromkeys(("751-8", "753-4", "26499-4"), ("anc", None)),
    **dict.fromkeys(("731-0", "732-8", "26474-7"), ("alc", None)),
    **dict.fromkeys(("777-3", "26515-7"), ("platelets", None)),
    **dict.fromkeys(("718-7", "59260-0"), ("hemoglobin", None)),
    **dict.fromkeys(("2160-0", "14682-9"), ("creatinine", None)),
    "29463-7": ("weight", None),
    "2157-6": ("ck", None),
    "1761-6": ("aldolase", None),
    **dict.fromkeys(("1988-5", "30522-7"), ("crp", None)),
    "19872-1": ("fvc_pct_pred", None),
    **dict.fromkeys(("5130-0", "31348-6"), ("anti_dsdna", None)),
    "11090-8": ("anti_sm", None),
    "29374-6": ("anti_rnp", None),
    **dict.fromkeys(("105555-7", "107562-1"), ("anti_tif1g", None)),
    "2106-3": ("pregnancy_test", "urine"),
    "2118-8": ("pregnancy_test", "serum"),
    **dict.fromkeys(("5196-1", "5195-3"), ("hbsag", None)),
    **dict.fromkeys(("16933-4", "13952-7"), ("anti_hbc", None)),
    **dict.fromkeys(("29610-3", "29615-2", "42595-9"), ("hbv_dna", None)),
    **dict.fromkeys(("16128-1", "13955-0"), ("hcv_ab", None)),
    **dict.fromkeys(("11259-9", "11011-4", "20416-4"), ("hcv_rna", None)),
    "56888-1": ("hiv_ag_ab", None),
}

# § 6.1 step 4, matched ignoring case.
UNIT_ALIASES = {
    "x10^9/l": "10^9/L",
    "x10^3/ul": "10^3/uL",
    "10e9/l": "10^9/L",
    "10e3/ul": "10^3/uL",
    "lbs": "lb",
}

# § 6.2 text answers (trimmed, white space made one space, case ignored).
TEXT_ANSWERS = {
    "positive": "positive",
    "reactive": "positive",
    "negative": "negative",
    "non-reactive": "negative",
    "nonreactive": "negative",
    "non reactive": "negative",
    "indeterminate": "indeterminate",
    "equivocal": "indeterminate",
    "borderline": "indeterminate",
    "detected": "detected",
    "not detected": "not_detected",
}
VIRAL_LOAD_TESTS = frozenset({"hbv_dna", "hcv_rna"})

# § 10 statuses, by format: (accepted, waiting, voiding). Any other is unsupported.
STATUSES: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "fhir": (
        frozenset({"final", "amended", "corrected"}),
        frozenset({"preliminary", "registered"}),
        frozenset({"entered-in-error"}),
    ),
    "hl7": (frozenset({"F", "C", "U"}), frozenset({"P", "I", "R", "S"}), frozenset({"D", "W"})),
}

# § 9, in the order rows list them.
PROBLEMS = (
    "invalid",
    "not-a-lab",
    "unknown-code",
    "no-id",
    "duplicate",
    "unmatched-patient",
    "unsupported-status",
    "unknown-value",
    "unknown-unit",
    "no-uln",
    "implausible",
    "no-date",
    "nothing-to-void",
    "outdated",
    "patient-mismatch",
)
_PROBLEM_ORDER = {code: n for n, code in enumerate(PROBLEMS)}
VALUE_PROBLEMS = frozenset({"unknown-value", "unknown-unit", "no-uln", "implausible", "no-date"})

STAGE, SUPERSEDE, VOID, WAIT, SKIP = "stage", "supersede", "void", "wait", "skip"
IMPORT_ACTIONS = frozenset({STAGE, SUPERSEDE})
VERSION_ACTIONS = frozenset({STAGE, SUPERSEDE, VOID})


# ---------------------------------------------------------------------------------------------
# Units and values (§ 6)


def _printable_unit(unit: str) -> bool:
    return 1 <= len(unit) <= 20 and all(" " <= c <= "~" for c in unit)


def unit_spelling(test: LabTest, unit: str | None) -> str | None:
    """The spelling of `unit` that the case format accepts for `test`, or None (§ 6.1)."""
    if unit is None:
        return None
    unit = unit.strip(" ").replace("\u00b5", "u").replace("\u03bc", "u")
    if test.any_unit:
        return unit if _printable_unit(unit) else None
    accepted = test.unit_names
    if unit in accepted:
        return unit
    folded = unit.casefold()
    for name in accepted:
        if name.casefold() == folded:
            return name
    alias = UNIT_ALIASES.get(folded)
    return alias if alias in accepted else None


def _plausible(test: LabTest, number: Decimal, unit: str) -> bool:
    """§ 6.1 plausibility: the engine's bounds (LabTest.plausible), on the value converted exactly."""
    factor = test.factor(unit)
    if factor is None:  # any unit (CK, CRP, autoantibodies): the value as sent
        return test.plausible(number)
    return test.plausible(number * factor.num, factor.den)


@dataclass(frozen=True, slots=True)
class Value:
    """A value as it would be recorded, with the problems of reading it."""

    value: Decimal | str | None = None
    unit: str | None = None
    uln: Decimal | None = None
    problems: tuple[str, ...] = ()


_UNKNOWN_VALUE = Value(problems=("unknown-value",))


def read_value(test: LabTest, sent: SentValue) -> Value:
    quantity = sent.kind in ("number", "inexact")
    if test.value_kind == ValueKind.NUMERIC or (test.value_kind == ValueKind.BOTH and quantity):
        return _numeric(test, sent)
    if test.key in VIRAL_LOAD_TESTS and quantity:
        detected = sent.kind == "number" and sent.number is not None and sent.number > 0
        return Value("detected") if detected else _UNKNOWN_VALUE
    answer = None
    if sent.kind == "coded":
        answer = answer_from_codes(sent.codes)
        if answer is None and sent.text is not None:
            answer = TEXT_ANSWERS.get(" ".join(sent.text.split()).casefold())
    elif sent.kind == "text" and sent.text is not None:
        answer = TEXT_ANSWERS.get(" ".join(sent.text.split()).casefold())
    if answer is None or answer not in test.qualitative_values:
        return _UNKNOWN_VALUE
    return Value(answer)


def _numeric(test: LabTest, sent: SentValue) -> Value:
    if sent.kind != "number" or sent.number is None:
        return _UNKNOWN_VALUE
    unit = unit_spelling(test, sent.unit_sent)
    if unit is None:
        return Value(sent.number, problems=("unknown-unit",))
    problems: list[str] = []
    uln = None
    if test.uln.value != "forbidden":
        if sent.uln_found and sent.uln is not None and sent.uln > 0:
            if sent.uln_unit is None or unit_spelling(test, sent.uln_unit) == unit:
                uln = sent.uln
        if uln is None and test.uln.value == "required":
            problems.append("no-uln")
    if not _plausible(test, sent.number, unit):
        problems.append("implausible")
    return Value(sent.number, unit, uln, tuple(problems))


# ---------------------------------------------------------------------------------------------
# Dates and times (§ 7)

_FHIR_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))?)?"
)
_HL7_TIME = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d+))?)?)?)?(?:(Z)|([+-])(\d{2})(\d{2}))?"
)


@dataclass(frozen=True, slots=True)
class Moment:
    day: date
    clock: tuple[int, int, int, int] | None  # hour, minute, second, microsecond; None: no time
    offset: timedelta | None

    def instant(self, zone: tzinfo) -> datetime:
        """As an instant; missing parts count as 0 and no offset means the zone's local time."""
        hour, minute, second, micro = self.clock or (0, 0, 0, 0)
        local = datetime(self.day.year, self.day.month, self.day.day, hour, minute, min(second, 59), micro)
        return local.replace(tzinfo=timezone(self.offset) if self.offset is not None else zone)

    def date_in(self, zone: tzinfo) -> date:
        if self.clock is None or self.offset is None:
            return self.day
        return self.instant(zone).astimezone(zone).date()


def parse_moment(stamp: Stamp) -> Moment | None:
    """The forms of § 7; None without a full, possible date or with an impossible time."""
    pattern = _FHIR_TIME if stamp.style == "fhir" else _HL7_TIME
    match = pattern.match(stamp.text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        day_value = date(int(year), int(month), int(day))
    except ValueError:
        return None
    clock = None
    if hour is not None:
        if int(hour) > 23 or int(minute or 0) > 59:
            return None
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        clock = (int(hour), int(minute or 0), int(second or 0), micro)
    offset = None
    if zulu:
        offset = timedelta(0)
    elif sign:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    return Moment(day_value, clock, offset)


def collected_on(stamps: tuple[Stamp, ...], zone: tzinfo) -> date | None:
    for stamp in stamps:
        moment = parse_moment(stamp)
        if moment is not None:
            return moment.date_in(zone)
    return None


def is_older(row: tuple[tuple[str, str], ...], other: tuple[tuple[str, str], ...], zone: tzinfo) -> bool:
    """Whether a version comes before another by the first kind of order both carry (§ 10)."""
    theirs = dict(other)
    for kind, mine in row:
        if kind not in theirs:
            continue
        if kind == "version":
            return int(mine) < int(theirs[kind])
        style = "fhir" if kind == "updated" else "hl7"
        a, b = parse_moment(Stamp(style, mine)), parse_moment(Stamp(style, theirs[kind]))
        if a is None or b is None:
            continue
        return a.instant(zone) < b.instant(zone)
    return False


# ---------------------------------------------------------------------------------------------
# Rows and actions (§ 4, 9, 10)


@dataclass(slots=True)
class Row:
    source: str | None
    patient: Identifier | None = None
    participant: str | None = None
    test: str | None = None
    specimen: str | None = None
    status: str | None = None
    value_sent: str | None = None
    unit_sent: str | None = None
    value: Decimal | str | None = None
    unit: str | None = None
    uln: Decimal | None = None
    collected: date | None = None
    action: str = SKIP
    problems: list[str] = field(default_factory=list)
    # Not printed: what later rows and later imports need.
    result: str | None = None
    order: tuple[tuple[str, str], ...] = ()
    sent: SentValue | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "patient": self.patient.as_json() if self.patient else None,
            "participant": self.participant,
            "test": self.test,
            "specimen": self.specimen,
            "status": self.status,
            "value_sent": self.value_sent,
            "unit_sent": self.unit_sent,
            "value": self.value,
            "unit": self.unit,
            "uln": self.uln,
            "collected": self.collected.isoformat() if self.collected else None,
            "action": self.action,
            "problems": list(self.problems),
        }

    def lab_entry(self) -> dict[str, Any]:
        """The case-format lab entry of a row that stages or supersedes (null members left out)."""
        entry = {
            "test": self.test,
            "value": self.value,
            "unit": self.unit,
            "uln": self.uln,
            "specimen": self.specimen,
            "collected": self.collected.isoformat() if self.collected else None,
        }
        return {key: value for key, value in entry.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Earlier:
    """An earlier row of a result, as far as later rows need it."""

    action: str
    patient: Identifier | None
    participant: str | None
    order: tuple[tuple[str, str], ...]
    sent: SentValue | None
    rejected: bool = False  # a coordinator rejected the staged row


@dataclass(slots=True)
class ResultState:
    latest: Earlier | None = None  # last row with action stage, supersede or void
    current: Earlier | None = None  # the earlier import, if any
    last: Earlier | None = None  # last row that was not skipped

    def add(self, earlier: Earlier) -> None:
        if earlier.action == SKIP:
            return
        self.last = earlier
        if earlier.action in VERSION_ACTIONS:
            self.latest = earlier
        if earlier.rejected:
            return
        if earlier.action in IMPORT_ACTIONS:
            self.current = earlier
        elif earlier.action == VOID:
            self.current = None


@dataclass
class History:
    """What came before a row: the site's earlier imports, then the earlier rows of the file."""

    sources: set[str] = field(default_factory=set)  # sources of rows that were not skipped
    results: dict[str, ResultState] = field(default_factory=dict)

    def add(self, source: str | None, result: str | None, earlier: Earlier) -> None:
        if earlier.action == SKIP:
            return
        if source is not None:
            self.sources.add(source)
        if result is not None:
            self.results.setdefault(result, ResultState()).add(earlier)


def _same_patient(row: Row, earlier: Earlier) -> bool:
    if row.participant is not None and row.participant == earlier.participant:
        return True
    mine = (row.patient.system, row.patient.value) if row.patient else None
    theirs = (earlier.patient.system, earlier.patient.value) if earlier.patient else None
    return mine == theirs


def choose_patient(
    identifiers: tuple[Identifier, ...], participant_of: Callable[[Identifier], str | None]
) -> tuple[Identifier | None, str | None]:
    """The identifier shown and the participant it gives (§ 4)."""
    for identifier in identifiers:
        participant = participant_of(identifier)
        if participant is not None:
            return identifier, participant
    shown = next((i for i in identifiers if i.mr), identifiers[0] if identifiers else None)
    return shown, None


def first_loinc(reading: Reading) -> str | None:
    """The first of the reading's codes that names a test (§ 5)."""
    return next((code for code in reading.codes if code in LOINC_TESTS), None)


def result_key(reading: Reading) -> str | None:
    """The result a reading is a version of (§ 10): FHIR the Observation, HL7 the order with the
    test and OBX-4; None without a known test or an id."""
    loinc = first_loinc(reading)
    if loinc is None or reading.result_base is None:
        return None
    return (
        f"{reading.result_base}|{loinc}|{reading.sub_id}" if reading.style == "hl7" else reading.result_base
    )


class Stager:
    """Decides the rows of one file in file order (§ 10)."""

    def __init__(
        self, zone: tzinfo, participant_of: Callable[[Identifier], str | None], history: History | None = None
    ) -> None:
        self.zone = zone
        self.participant_of = participant_of
        self.history = history if history is not None else History()

    def row(self, reading: Reading) -> Row:
        row = Row(reading.source)
        if reading.invalid:
            row.problems = ["invalid"]
            return row
        row.patient, row.participant = choose_patient(reading.patients, self.participant_of)
        row.status = reading.status
        row.collected = collected_on(reading.dates, self.zone)
        loinc = first_loinc(reading)
        test_key, specimen = LOINC_TESTS[loinc] if loinc is not None else (None, None)
        sent = reading.value
        row.value_sent, row.unit_sent = sent.sent, sent.unit_sent
        if test_key is None and reading.style == "fhir" and not reading.laboratory:
            row.problems = ["not-a-lab"]
            return row
        problems: list[str] = []
        if test_key is None:
            problems.append("unknown-code")
        row.result = result_key(reading)
        state = self.history.results.get(row.result) if row.result else None
        if (
            reading.style == "hl7"
            and reading.status == "U"
            and reading.value_empty
            and state is not None
            and state.last is not None
            and state.last.action == WAIT
            and state.last.sent is not None
        ):
            sent = state.last.sent
            row.value_sent, row.unit_sent = sent.sent, sent.unit_sent
        row.sent = sent
        row.order = reading.order
        if reading.source is None:
            problems.append("no-id")
        elif reading.source in self.history.sources:
            problems.append("duplicate")
        if row.participant is None:
            problems.append("unmatched-patient")
        status = reading.status or ""
        accepted_statuses, waiting_statuses, voiding_statuses = STATUSES[reading.style]
        accepted, voiding = status in accepted_statuses, status in voiding_statuses
        if not (accepted or voiding or status in waiting_statuses):
            problems.append("unsupported-status")
        if test_key is not None:
            test = LAB_TESTS_BY_KEY[test_key]
            row.test, row.specimen = test_key, specimen
            value = read_value(test, sent)
            row.value, row.unit, row.uln = value.value, value.unit, value.uln
            if accepted:
                problems.extend(value.problems)
                if row.collected is None:
                    problems.append("no-date")
        if (accepted or voiding) and not {"unknown-code", "no-id", "duplicate"} & set(problems):
            current = state.current if state else None
            if (
                state is not None
                and state.latest is not None
                and is_older(row.order, state.latest.order, self.zone)
            ):
                problems.append("outdated")
            if voiding and current is None:
                problems.append("nothing-to-void")
            if current is not None and not _same_patient(row, current):
                problems.append("patient-mismatch")
        row.problems = sorted(problems, key=_PROBLEM_ORDER.__getitem__)
        if any(p != "unmatched-patient" for p in problems):
            row.action = SKIP
        elif accepted:
            row.action = SUPERSEDE if state is not None and state.current is not None else STAGE
        elif voiding:
            row.action = VOID
        else:
            row.action = WAIT
        self.history.add(row.source, row.result, self.earlier(row))
        return row

    @staticmethod
    def earlier(row: Row, rejected: bool = False) -> Earlier:
        # Only a waiting row's value is read again (by a `U` row): the others keep none.
        sent = row.sent if row.action == WAIT else None
        return Earlier(row.action, row.patient, row.participant, row.order, sent, rejected)
