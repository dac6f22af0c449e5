"""Per-evaluation lookups computed once (CRITERIA.md § 1.4, § 1.5): anchors, the selected lab
result of each test, usable dated facts, events and therapies as read on T."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from .model import Adjudication, Case, DatedFact, Event, LabResult, Therapy
from .protocol import ProtocolVersion, Settings, Thresholds
from .table4 import TherapyAgent
from .vocabulary import LAB_TESTS_BY_KEY

_NO_WINDOW: Final = frozenset(k for k, t in LAB_TESTS_BY_KEY.items() if not t.has_window)


class TherapyView:
    """A therapy entry as read on T: a last dose after T is unread and the entry counts as ongoing."""

    __slots__ = ("therapy", "agent", "ongoing", "last_dose")

    def __init__(self, therapy: Therapy, agent: TherapyAgent, ongoing: bool, last_dose: date | None) -> None:
        self.therapy = therapy
        self.agent = agent
        self.ongoing = ongoing
        self.last_dose = last_dose


# Ctx's attributes; shifted() copies them (a compiled class does not expose __slots__).
_FIELDS: Final = (
    "case",
    "protocol",
    "settings",
    "th",
    "cohort",
    "female",
    "t",
    "t_read",
    "s",
    "c",
    "e",
    "d0",
    "s_is_t",
    "c_is_t",
    "icf",
    "w",
    "window_start",
    "selected",
    "usable",
    "stale",
    "facts",
    "dated",
    "dated_usable",
    "events",
    "therapies",
    "reviewed",
    "adjudications",
    "memo",
)


class Ctx:
    __slots__ = _FIELDS

    case: Case
    protocol: ProtocolVersion
    settings: Settings
    th: Thresholds
    cohort: str
    female: bool
    t: date  # evaluation date T of the rules (F when testing eligible_from)
    t_read: date  # the date up to which the case is read (T of the evaluation)
    s: date
    c: date
    e: date
    d0: date | None
    s_is_t: bool
    c_is_t: bool
    icf: date | None
    w: timedelta
    window_start: date
    selected: dict[str, LabResult]  # latest result per test, collected <= T
    usable: dict[str, LabResult]  # the selected results inside the screening window
    stale: dict[str, date]  # tests/facts whose selected value is older than the window: its date
    facts: dict[str, Any]
    dated: dict[str, DatedFact]  # dated facts dated <= T
    dated_usable: dict[str, DatedFact]
    events: dict[str, list[Event]]  # dated <= T, in list order
    therapies: list[TherapyView]
    reviewed: frozenset[str]
    adjudications: dict[str, list[Adjudication]]
    memo: dict[str, Any]

    @classmethod
    def build(cls, case: Case, protocol: ProtocolVersion) -> Ctx:
        self = cls()
        self.case = case
        self.protocol = protocol
        self.settings = protocol.settings
        self.th = protocol.thresholds
        self.cohort = case.cohort
        self.female = case.sex == "F"
        t = case.dates.as_of
        self.t_read = t
        self.w = timedelta(days=protocol.settings.screening_window_days)
        dates = case.dates
        self.icf = dates.icf_signed if dates.icf_signed is not None and dates.icf_signed <= t else None
        self._anchors(t)
        self.facts = case.facts
        self.reviewed = case.reviewed
        window_start = self.window_start

        selected: dict[str, LabResult] = {}
        for lab in case.labs:
            if lab.collected <= t:
                prev = selected.get(lab.test)
                if prev is None or lab.collected >= prev.collected:
                    selected[lab.test] = lab
        usable: dict[str, LabResult] = {}
        stale: dict[str, date] = {}
        for test, lab in selected.items():
            if lab.collected >= window_start or test in _NO_WINDOW:
                usable[test] = lab
            else:
                stale["labs." + test] = lab.collected
        self.selected = selected
        self.usable = usable

        dated: dict[str, DatedFact] = {}
        dated_usable: dict[str, DatedFact] = {}
        for key, value in case.facts.items():
            if type(value) is DatedFact and value.date <= t:
                dated[key] = value
                if value.date >= window_start:
                    dated_usable[key] = value
                else:
                    stale["facts." + key] = value.date
        self.dated = dated
        self.dated_usable = dated_usable
        self.stale = stale

        events: dict[str, list[Event]] = {}
        for ev in case.events:
            if ev.date <= t:
                lst = events.get(ev.kind)
                if lst is None:
                    events[ev.kind] = [ev]
                else:
                    lst.append(ev)
        self.events = events

        agent_of = protocol.agent
        views = []
        for th in case.therapies:
            if th.start <= t:
                last = th.last_dose
                if last is not None and last > t:
                    views.append(TherapyView(th, agent_of(th.agent), True, None))
                else:
                    views.append(TherapyView(th, agent_of(th.agent), th.ongoing, last))
        self.therapies = views

        adj: dict[str, list[Adjudication]] = {}
        for a in case.adjudications:
            if a.date <= t:
                adj.setdefault(a.criterion, []).append(a)
        self.adjudications = adj
        self.memo = {}
        return self

    def _anchors(self, t: date) -> None:
        dates = self.case.dates
        self.t = t
        ss = dates.screening_start
        if ss is not None and ss <= self.t_read:
            self.s, self.s_is_t = ss, False
        else:
            self.s, self.s_is_t = t, True
        if self.icf is not None:
            self.c, self.c_is_t = self.icf, False
        else:
            self.c, self.c_is_t = t, True
        pe = dates.planned_enrollment
        self.e = pe if pe is not None and pe > t else t
        pd = dates.planned_day0
        self.d0 = None if pd is None else (pd if pd > self.e else self.e)
        self.window_start = self.e - self.w

    def shifted(self, f: date) -> Ctx:
        """The case as read on T, evaluated on F (§ 1.7): anchors move, results keep their usability."""
        other = Ctx()
        for name in _FIELDS:
            setattr(other, name, getattr(self, name))
        other._anchors(f)
        other.memo = {}
        return other

    # Lookups used by many rules.

    def event_date(self, ev: Event) -> date:
        """An ongoing event is read as dated T (§ 1.5)."""
        return self.t if ev.ongoing else ev.date

    def kind(self, kind: str) -> list[Event]:
        return self.events.get(kind, _EMPTY)


_EMPTY: Final[list[Event]] = []
