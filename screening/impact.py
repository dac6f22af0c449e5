"""The impact of a candidate protocol version before a site activates it (docs/amendments.md).

Every participant still in screening (today: every participant; enrolment, screen failure and
withdrawal do not exist yet) is evaluated twice as of the same day, under the version its site
uses and under the candidate, from the same records and decisions. Nothing is stored. The work is
done in chunks: per chunk one query per record kind, one for the decisions and one for the versions
in force, as in the sweep's batch evaluation (screening.evaluation.evaluate_marked). The report is a
sum of the chunks' parts (`combine`), so the chunks can be evaluated by several processes: a pool of
forked processes for the command, chunk tasks on the worker's processes for the page
(screening.tasks)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from django.db import connection, connections
from django.db.models import QuerySet

from participants.case_builder import assemble, current_records_many
from participants.models import ENDED, Participant
from screening import criteria
from screening.criteria.catalogue import catalogue
from screening.evaluation import case_adjudications_many
from screening.protocols import versions_in_force

CHUNK = 500


@dataclass(frozen=True)
class CriterionChange:
    criterion_id: str
    title: str
    before: str  # outcome under the version in force; "—" where the criterion does not exist
    after: str
    reason_before: str
    reason_after: str

    @property
    def text(self) -> str:
        return f"{self.criterion_id} {self.before} → {self.after}"


@dataclass(frozen=True)
class ParticipantImpact:
    participant_id: int
    screening_number: str
    site_code: str
    version_before: str
    status_before: str
    status_after: str
    changes: tuple[CriterionChange, ...]

    @property
    def status_changed(self) -> bool:
        return self.status_before != self.status_after


@dataclass
class SiteCounts:
    evaluated: int = 0
    changed: int = 0  # any criterion's outcome changes
    status_changed: int = 0
    refused: int = 0  # data the engine refuses under either version (left out, logged)


@dataclass
class ImpactReport:
    version: str
    as_of: date
    site_code: str = ""  # "" for the whole trial
    impacts: list[ParticipantImpact] = field(default_factory=list)  # the participants that change
    per_site: dict[str, SiteCounts] = field(default_factory=dict)
    # (criterion, before, after) → participants
    per_criterion: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)  # screening numbers

    @property
    def evaluated(self) -> int:
        return sum(c.evaluated for c in self.per_site.values())

    @property
    def status_changed(self) -> int:
        return sum(1 for i in self.impacts if i.status_changed)

    def criterion_rows(self) -> list[tuple[str, str, str, str, int]]:
        titles = _titles(self.version)
        return [
            (cid, titles.get(cid, cid), before, after, n)
            for (cid, before, after), n in sorted(self.per_criterion.items(), key=lambda kv: (-kv[1], kv[0]))
        ]


def _titles(version: str) -> dict[str, str]:
    return {c.id: c.title for c in catalogue(version)}


def compare(
    before: criteria.Evaluation, after: criteria.Evaluation, titles: dict[str, str]
) -> list[CriterionChange]:
    """The criteria whose outcome differs (a criterion only one version has counts as a change)."""
    old = {r.id: r for r in before.criteria}
    changes = []
    for r in after.criteria:
        o = old.pop(r.id, None)
        if o is None or o.outcome != r.outcome:
            changes.append(
                CriterionChange(
                    r.id,
                    titles.get(r.id, r.id),
                    str(o.outcome) if o else "—",
                    str(r.outcome),
                    o.reason if o else "",
                    r.reason,
                )
            )
    for o in old.values():
        changes.append(CriterionChange(o.id, o.id, str(o.outcome), "—", o.reason, ""))
    return changes


def in_screening_ids(participants: QuerySet[Participant]) -> list[int]:
    """The participants an amendment concerns (screening not ended), in primary-key order: the
    order of the report's rows, whichever way it is split."""
    in_screening = participants.exclude(screening_state__outcome__in=ENDED)
    return list(in_screening.order_by("pk").values_list("pk", flat=True))


def chunks(ids: list[int], size: int = CHUNK) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def impact_report(
    version: str,
    participants: QuerySet[Participant],
    as_of: date,
    *,
    site_code: str = "",
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    processes: int = 1,
) -> ImpactReport:
    """Evaluate `participants` under the version in force at their site and under `version`, as
    of `as_of`, without storing anything. `progress(done, total)` is called after each chunk.
    Participants whose screening has ended are left out: an amendment no longer concerns them.

    The report is a sum of per-chunk parts (`evaluate_chunk`, `combine`); with `processes` > 1
    the chunks are evaluated by a pool of forked processes, each with its own database
    connection. Inside a transaction the pool would not see uncommitted rows, so there the
    chunks are evaluated in this process."""
    criteria.get_protocol(version)  # an unknown version is refused before any work
    ids = in_screening_ids(participants)
    parts = chunks(ids, chunk)
    if processes > 1 and len(parts) > 1 and not connection.in_atomic_block:
        evaluated = _in_pool(version, as_of, parts, processes)
    else:
        evaluated = (evaluate_chunk(version, as_of, part) for part in parts)
    results = []
    done = 0
    for result in evaluated:
        results.append(result)
        done += result.evaluated + len(result.refused)
        if progress is not None:
            progress(done, len(ids))
    if progress is not None and not ids:
        progress(0, 0)
    return combine(version, as_of, results, site_code=site_code)


def _in_pool(version: str, as_of: date, parts: list[list[int]], processes: int) -> Iterator[ImpactReport]:
    """The chunks' parts, in order, from `processes` forked processes. The parent's connections are
    closed before the fork (a connection must not be shared between processes); each process
    opens its own on its first query."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(min(processes, len(parts))) as pool:
        yield from pool.imap(partial(evaluate_chunk, version, as_of), parts)


def combine(version: str, as_of: date, parts: Iterable[ImpactReport], *, site_code: str = "") -> ImpactReport:
    """The report of a population from the parts of its chunks, taken in the chunks' order: the
    same report as one pass over the whole population."""
    report = ImpactReport(version=version, as_of=as_of, site_code=site_code)
    for part in parts:
        report.impacts.extend(part.impacts)
        report.refused.extend(part.refused)
        report.per_criterion.update(part.per_criterion)
        for code, c in part.per_site.items():
            counts = report.per_site.setdefault(code, SiteCounts())
            counts.evaluated += c.evaluated
            counts.changed += c.changed
            counts.status_changed += c.status_changed
            counts.refused += c.refused
    return report


def evaluate_chunk(version: str, as_of: date, ids: list[int]) -> ImpactReport:
    """The part of the report for one chunk of participant IDs: one query per record kind, one for
    the decisions and one for the versions in force."""
    report = ImpactReport(version=version, as_of=as_of)
    candidate = criteria.get_protocol(version)
    titles = _titles(version)
    people = list(Participant.objects.filter(pk__in=ids).select_related("site").order_by("pk"))
    records = current_records_many(ids)
    adjudications = case_adjudications_many(ids)
    in_force = versions_in_force({p.site_id for p in people}, report.as_of)
    for p in people:
        counts = report.per_site.setdefault(p.site.code, SiteCounts())
        current = in_force[p.site_id]
        case = assemble(
            p, report.as_of, **records[p.pk], adjudications=adjudications[p.pk], protocol_version=current
        )
        try:
            loaded = criteria.load_case(case)  # read once, evaluated under both versions
            before = criteria.evaluate(loaded)
            after = criteria.evaluate(loaded, candidate)
        except criteria.CaseError:
            counts.refused += 1
            report.refused.append(p.screening_number)
            continue
        counts.evaluated += 1
        changes = compare(before, after, titles)
        if not changes:
            continue
        impact = ParticipantImpact(
            p.pk,
            p.screening_number,
            p.site.code,
            current,
            str(before.overall),
            str(after.overall),
            tuple(changes),
        )
        report.impacts.append(impact)
        counts.changed += 1
        counts.status_changed += impact.status_changed
        for c in changes:
            report.per_criterion[(c.criterion_id, c.before, c.after)] += 1
    return report


# --- Downloads (the exports pipeline streams them) -------------------------------------------------

PARTICIPANT_HEADER = [
    "Site",
    "Screening number",
    "Protocol version in force",
    "Candidate version",
    "As of",
    "Overall status before",
    "Overall status after",
    "Criterion",
    "Criterion title",
    "Outcome before",
    "Outcome after",
    "Reason before",
    "Reason after",
]

COUNTS_HEADER = ["Section", "Key", "Label", "Before", "After", "Participants"]


def participant_rows(report: ImpactReport) -> Iterator[list[Any]]:
    """One row per participant and changed criterion."""
    for i in report.impacts:
        for c in i.changes:
            yield [
                i.site_code,
                i.screening_number,
                i.version_before,
                report.version,
                report.as_of,
                i.status_before,
                i.status_after,
                c.criterion_id,
                c.title,
                c.before,
                c.after,
                c.reason_before,
                c.reason_after,
            ]


def count_rows(report: ImpactReport) -> Iterator[list[Any]]:
    yield ["Total", "", "Participants evaluated", "", "", report.evaluated]
    yield ["Total", "", "Overall status changes", "", "", report.status_changed]
    for code, c in sorted(report.per_site.items()):
        yield ["Site", code, "Participants evaluated", "", "", c.evaluated]
        yield ["Site", code, "Any criterion changes", "", "", c.changed]
        yield ["Site", code, "Overall status changes", "", "", c.status_changed]
        if c.refused:
            yield ["Site", code, "Refused by the engine", "", "", c.refused]
    for cid, title, before, after, n in report.criterion_rows():
        yield ["Criterion", cid, title, before, after, n]
