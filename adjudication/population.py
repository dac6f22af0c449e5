"""A screening population of any size for benchmarks, load tests and demos (`seed_population`).

Profiles are screening cases: the protocol package's worked examples (when present) and the
engine's test cases, with their dates moved to a few days before today, lab values varied, and
screening at different stages (registered only, first labs and facts, everything entered). Each
profile is entered in bulk as a template participant (`records_of_case`: the mapping
`import_case` uses) and evaluated by the sweep's batch path (`evaluate_marked`), whose stored
evaluations open escalations through `evaluations_stored` as in the running app. Every other
participant copies a template: its records, evaluation (the case text naming its own screening
number), criterion rows, screening state and escalations, by set-based `INSERT … SELECT`
statements inside PostgreSQL, each writing its rows' history events in the same statement (the
row triggers are off for the copy; the state counts those triggers keep are rebuilt after it),
the records on one connection and the evaluations on a second at the same time; into a fresh
database, each table's secondary indexes are built after its copy. The engine would give each
copy the same result (the screening number is not an input; tests/screening/test_seed_population.py
re-evaluates a sample).
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pghistory
from django.conf import settings
from django.db import connection, models, transaction
from django.test.utils import override_settings
from django.utils import timezone

from adjudication.models import Escalation
from participants.case_import import records_of_case, shift_case_dates
from participants.models import Membership, Participant, Role, Site, User
from participants.records import RECORD_KINDS
from screening import criteria
from screening.demo import CASES_DIR
from screening.evaluation import evaluate_marked
from screening.models import CriterionResult, Evaluation, ScreeningState, Trigger
from screening.state_counts import rebuild_state_counts

log = logging.getLogger(__name__)

ENGINE_CASES = Path(settings.BASE_DIR) / "tests" / "engine" / "data"

# Given a model, the statement that writes the history of rows a bulk copy inserted with the row
# triggers off, reading them from the CTE `new`; filled by audit, which owns the history tables.
HISTORY_OF_BULK_INSERTS: list[Callable[[type[models.Model]], str | None]] = []
# Given a model, the table holding its history (None if untracked); filled by audit.
HISTORY_TABLE_OF: list[Callable[[type[models.Model]], str | None]] = []

# Share of profiles per stage of screening (the rest: everything entered).
REGISTERED_ONLY = 0.04
EARLY = 0.30
# Templates evaluated per transaction (the sweep's chunk size).
CHUNK = 25


@dataclass(frozen=True)
class SeedReport:
    participants: int
    sites: int
    profiles: int
    evaluations: int
    open_escalations: int
    seconds: float


def seed_population(n: int, *, sites: int = 10, seed: int = 329, profiles: int = 300) -> SeedReport:
    """Add `n` participants spread over `sites` sites (S01, S02, …, created with a coordinator
    each when missing). The same seed gives the same population."""
    started = time.perf_counter()
    rng = random.Random(seed)
    today = timezone.localdate()
    site_rows, coordinators = _sites(sites)
    cases = _profiles(rng, min(n, profiles), today)
    log.info("%d profiles built in %.1f s", len(cases), time.perf_counter() - started)
    # A fresh database (no participant yet) gets the copies' secondary indexes built after the
    # load; in a populated one they stay in place (slower: an index entry per row).
    fresh = not Participant.objects.exists()
    if not fresh:
        log.warning("the database already holds participants: the copy keeps every index in place (slower)")
    with transaction.atomic(), pghistory.context(reason="seeded population"):
        locked = {s.pk: s for s in Site.objects.select_for_update().filter(pk__in=[s.pk for s in site_rows])}
        numbers = _numbering(rng, n, list(locked.values()))
        for site in locked.values():
            used = [sequence for site_id, sequence, _ in numbers if site_id == site.pk]
            if used:  # every number is taken now, so a failed copy leaves no gap reused
                Site.objects.filter(pk=site.pk).update(last_screening_sequence=max(used))
        templates = _enter_templates(cases, numbers[: len(cases)], coordinators)
        _mark([t.pk for t in templates])
    log.info("templates entered at %.1f s", time.perf_counter() - started)
    # The templates are evaluated as the sweep evaluates: 25 per transaction, escalations after
    # commit (no mail for a seeded population).
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        ids = [t.pk for t in templates]
        for start in range(0, len(ids), CHUNK):
            evaluate_marked(ids[start : start + CHUNK], trigger=Trigger.DATA_CHANGE)
    log.info("templates evaluated at %.1f s", time.perf_counter() - started)
    with transaction.atomic(), pghistory.context(reason="seeded population"):
        clones = numbers[len(cases) :]
        template_of = [templates[rng.randrange(len(templates))].pk for _ in clones]
        _copy_templates(clones, template_of, coordinators, defer_indexes=fresh)
    log.info("copies committed at %.1f s", time.perf_counter() - started)
    seeded = Participant.objects.filter(screening_number__in=[number for _, _, number in numbers])
    return SeedReport(
        participants=len(numbers),
        sites=len(site_rows),
        profiles=len(cases),
        evaluations=Evaluation.objects.filter(participant__in=seeded).count(),
        open_escalations=Escalation.objects.filter(participant__in=seeded, state="open").count(),
        seconds=time.perf_counter() - started,
    )


def _sites(count: int) -> tuple[list[Site], dict[int, User]]:
    sites: list[Site] = []
    coordinators: dict[int, User] = {}
    for i in range(1, count + 1):
        code = f"S{i:02d}"
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": f"Site {code}"})
        sites.append(site)
        membership = (
            Membership.objects.filter(site=site, role=Role.COORDINATOR)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if membership is None:
            user, _ = User.objects.get_or_create(
                username=f"coord.{code.lower()}", defaults={"full_name": f"Coordinator, site {code}"}
            )
            membership = Membership.objects.create(user=user, role=Role.COORDINATOR, site=site)
        coordinators[site.pk] = membership.user
    return sites, coordinators


def _numbering(rng: random.Random, n: int, sites: list[Site]) -> list[tuple[int, int, str]]:
    """(site id, screening sequence, screening number) of each new participant, spread over the
    sites unevenly (a large site screens three times as many as a small one)."""
    weights = [1 + 2 * rng.random() for _ in sites]
    next_sequence = {s.pk: s.last_screening_sequence for s in sites}
    rows = []
    for site in rng.choices(sites, weights=weights, k=n):
        next_sequence[site.pk] += 1
        sequence = next_sequence[site.pk]
        rows.append((site.pk, sequence, f"{site.code}-{sequence:04d}"))
    return rows


def _base_cases() -> list[dict[str, Any]]:
    paths = sorted(CASES_DIR.glob("*.json")) if CASES_DIR.is_dir() else []
    paths = [p for p in paths if p.name != "schema.json"] + sorted(ENGINE_CASES.glob("*.json"))
    cases = []
    for path in paths:
        case = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if isinstance(case, dict) and "cohort" in case:
            case.pop("adjudications", None)  # decisions are not records
            cases.append(case)
    return cases


def _profiles(rng: random.Random, count: int, today: date) -> list[dict[str, Any]]:
    """`count` valid cases whose data are 0 to 20 days old on `today`."""
    bases = _base_cases()
    profiles: list[dict[str, Any]] = []
    while len(profiles) < count:
        base = rng.choice(bases)
        age = rng.randint(0, 20)
        case = shift_case_dates(
            base, (today - timedelta(days=age) - date.fromisoformat(base["dates"]["as_of"])).days
        )
        case = copy.deepcopy(case)
        stage = rng.random()
        if stage < REGISTERED_ONLY:
            for part in ("labs", "therapies", "events", "reviewed"):
                case[part] = []
            case["facts"] = {}
        elif stage < REGISTERED_ONLY + EARLY:
            case["labs"] = [lab for lab in case.get("labs", []) if rng.random() < 0.5]
            case["facts"] = {k: v for k, v in case.get("facts", {}).items() if rng.random() < 0.4}
            case["reviewed"] = []
        for lab in case.get("labs", []):
            if not isinstance(lab["value"], str) and rng.random() < 0.3:
                factor = Decimal(rng.randint(60, 160)) / 100
                lab["value"] = (Decimal(lab["value"]) * factor).quantize(Decimal("0.1"))
        facts = case.get("facts", {})
        for key, value in list(facts.items()):
            if type(value) is bool and rng.random() < 0.02:
                facts[key] = not value
        try:
            criteria.load_case(case)
        except criteria.CaseError:
            continue
        profiles.append(case)
    return profiles


def _enter_templates(
    cases: list[dict[str, Any]], numbers: list[tuple[int, int, str]], coordinators: dict[int, User]
) -> list[Participant]:
    participants = []
    for case, (site_id, sequence, number) in zip(cases, numbers, strict=True):
        dates = case.get("dates", {})
        participants.append(
            Participant(
                site_id=site_id,
                screening_sequence=sequence,
                screening_number=number,
                cohort=case["cohort"],
                lupus_nephritis=case.get("lupus_nephritis"),
                sex=case["sex"],
                birth_date=date.fromisoformat(case["birth_date"]),
                created_by=coordinators[site_id],
                data_version=1,
                **{
                    name: date.fromisoformat(dates[name]) if dates.get(name) else None
                    for name in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0")
                },
            )
        )
    Participant.objects.bulk_create(participants)
    ScreeningState.objects.bulk_create([ScreeningState(participant=p) for p in participants])
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for case, participant in zip(cases, participants, strict=True):
        for record in records_of_case(participant, case, coordinators[participant.site_id]):
            by_model.setdefault(type(record), []).append(record)
    for model, records in by_model.items():
        model.objects.bulk_create(records, batch_size=2000)
    return participants


def _mark(participant_ids: list[int]) -> None:
    """Every template waits for the engine, the registered-only ones too: in the app registration
    itself marks the participant (`announce_change`), so none stays "Not evaluated yet" for long,
    and `verify_evaluations` finds every seeded participant evaluated on its current data."""
    ScreeningState.objects.filter(participant_id__in=participant_ids).update(reevaluation_requested_at=timezone.now())


def _columns(model: type[models.Model], *skip: str) -> list[str]:
    """The model's columns but its primary key and the named fields."""
    return [f.column for f in model._meta.concrete_fields if not f.primary_key and f.name not in skip]


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(drop, create) statements of the tables' indexes but their primary keys, partial indexes and
    the indexes a foreign key relies on; a unique or exclusion constraint is dropped and added as a constraint."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
                   quote_ident(c.conname), pg_get_constraintdef(c.oid)
              FROM pg_index i
              LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
             WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
               -- Partial indexes stay: they are small, and their predicate's text does not
               -- survive a round trip through pg_get_indexdef unchanged.
               AND i.indpred IS NULL
               AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
             ORDER BY i.indexrelid
            """,
            [tables],
        )
        return [
            (
                f"ALTER TABLE {table} DROP CONSTRAINT {name}",
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}",
            )
            if name is not None
            else (f"DROP INDEX {index}", create)
            for table, index, create, name, definition in cursor.fetchall()
        ]


def _insert_select(
    model: type[models.Model], overrides: dict[str, str], source: str, *, defer_indexes: bool = False
) -> None:
    """INSERT INTO model's table every column of the alias `t` in `source`, but those in
    `overrides` (column → SQL expression), and write the rows' history in the same statement.
    With `defer_indexes`, the secondary indexes of the table and of its history table are dropped
    first and built again after the insert (a sort per index instead of an entry per row: for a
    load into tables that were empty)."""
    columns = [*_columns(model), *(c for c in overrides if c not in _columns(model))]
    values = [overrides.get(c, f"t.{c}") for c in columns]
    insert = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} {source}"
    history = [sql for writer in HISTORY_OF_BULK_INSERTS if (sql := writer(model)) is not None]
    if history:
        insert = f"WITH new AS ({insert} RETURNING *) {history[0]}"
    tables = [model._meta.db_table, *(h for of in HISTORY_TABLE_OF if (h := of(model)) is not None)]
    indexes = _secondary_indexes(tables) if defer_indexes else []
    t = time.perf_counter()
    with connection.cursor() as cursor:
        for drop, _ in indexes:
            cursor.execute(drop)
        cursor.execute(insert)
        rows, copied = cursor.rowcount, time.perf_counter()
        for _, create in indexes:
            cursor.execute(create)
        built = time.perf_counter()
        # Fresh statistics for the next copies' plans and the pages' (autovacuum would catch up
        # only later), taken inside the copying transaction, which samples its own new rows.
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    log.info(
        "%s: %d rows copied in %.1f s, %d indexes built in %.1f s, analysed in %.1f s",
        model._meta.db_table,
        rows,
        copied - t,
        len(indexes),
        built - copied,
        time.perf_counter() - built,
    )


def _copy_settings(cursor: Any) -> None:
    """The settings of a copying transaction."""
    # Row triggers off (history and foreign-key checks): the copies write the history themselves
    # and copy rows that already passed the checks.
    cursor.execute("SET LOCAL session_replication_role = replica")
    # Memory for the sorts, the rows each statement hands to its history insert, and the index
    # builds; one commit at the end, whose flush need not be waited for.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    cursor.execute("SET LOCAL synchronous_commit = off")


def _fill_seed_map(cursor: Any, columns: dict[str, tuple[str, list[Any]]]) -> None:
    """The temporary table `seed_map` of this transaction, one row per copy: column → (SQL
    type, values)."""
    cursor.execute(
        "CREATE TEMPORARY TABLE seed_map ("
        + ", ".join(f"{name} {sql_type}" for name, (sql_type, _) in columns.items())
        + ", clone_id bigint) ON COMMIT DROP"
    )
    cursor.execute(
        f"INSERT INTO seed_map ({', '.join(columns)}) SELECT * FROM unnest("
        + ", ".join(f"%s::{sql_type}[]" for sql_type, _ in columns.values())
        + ")",
        [values for _, values in columns.values()],
    )


def _copy_templates(
    clones: list[tuple[int, int, str]],
    template_of: list[int],
    coordinators: dict[int, User],
    *,
    defer_indexes: bool,
) -> None:
    """Copy the templates: participants first; then, at the same time, their records on this
    connection and their evaluations (criterion rows, state, escalations) on a second one (two
    processes on the server; the tables of the two halves are disjoint). The second transaction
    commits after this one's work is done and just before this one commits."""
    if not clones:
        return
    participant = Participant._meta.db_table
    with connection.cursor() as cursor:
        _copy_settings(cursor)
        _fill_seed_map(
            cursor,
            {
                "template_id": ("bigint", template_of),
                "site_id": ("bigint", [site_id for site_id, _, _ in clones]),
                "sequence": ("integer", [sequence for _, sequence, _ in clones]),
                "number": ("varchar(30)", [number for _, _, number in clones]),
                "created_by": ("bigint", [coordinators[site_id].pk for site_id, _, _ in clones]),
            },
        )
    _insert_select(
        Participant,
        {
            "site_id": "m.site_id",
            "screening_sequence": "m.sequence",
            "screening_number": "m.number",
            "created_by_id": "m.created_by",
            "created_at": "now()",
        },
        f"FROM {participant} t JOIN seed_map m ON m.template_id = t.id",
        defer_indexes=defer_indexes,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE seed_map m SET clone_id = p.id FROM {participant} p WHERE p.screening_number = m.number"
        )
        cursor.execute("CREATE INDEX ON seed_map (template_id)")
        cursor.execute("ANALYZE seed_map")
        cursor.execute(
            "SELECT m.template_id, m.clone_id, m.number, m.created_by, t.screening_number, m.site_id"
            f" FROM seed_map m JOIN {participant} t ON t.id = m.template_id"
        )
        mapping = list(zip(*cursor.fetchall(), strict=True))
        # The history context of this transaction, for the events the second one writes.
        cursor.execute(
            "SELECT current_setting('pghistory.context_id', true),"
            " current_setting('pghistory.context_metadata', true)"
        )
        history_context = cursor.fetchone()
    second = _SecondTransaction(
        lambda: _copy_evaluations(mapping, history_context, defer_indexes=defer_indexes)
    )
    second.start()
    try:
        _copy_records(defer_indexes=defer_indexes)
    except BaseException:
        second.finish(commit=False)
        raise
    second.finish(commit=True)


class _SecondTransaction(threading.Thread):
    """`work` in a transaction on the thread's own connection, committed or rolled back when
    `finish` says so, once the work is done."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__(name="seed-population-copy")
        self.work = work
        self.done = threading.Event()
        self.decided = threading.Event()
        self.commit = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                try:
                    self.work()
                finally:
                    self.done.set()
                self.decided.wait()
                if not self.commit:
                    transaction.set_rollback(True)
        except BaseException as error:  # handed to the caller's thread by finish()
            self.error = error
        finally:
            self.done.set()
            connection.close()

    def finish(self, *, commit: bool) -> None:
        self.done.wait()
        self.commit = commit and self.error is None
        self.decided.set()
        self.join()
        if commit and self.error is not None:
            raise self.error


def _copy_records(*, defer_indexes: bool) -> None:
    for kind in RECORD_KINDS.values():
        _insert_select(
            kind.model,
            {"participant_id": "m.clone_id", "entered_by_id": "m.created_by", "entered_at": "now()"},
            # In the template's order: the case lists records of one day in the order entered.
            f"FROM {kind.model._meta.db_table} t JOIN seed_map m ON m.template_id = t.participant_id"
            " ORDER BY m.clone_id, t.id",
            defer_indexes=defer_indexes,
        )


def _copy_evaluations(
    mapping: list[tuple[Any, ...]], history_context: tuple[str | None, str | None], *, defer_indexes: bool
) -> None:
    """On the second connection: evaluations, criterion rows, states and escalations of the copies
    (`mapping`: template ids, clone ids, numbers, creators, template numbers, sites)."""
    template_ids, clone_ids, numbers, created_by, template_numbers, site_ids = mapping
    with connection.cursor() as cursor:
        _copy_settings(cursor)
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
            [history_context[0] or "", history_context[1] or ""],
        )
        _fill_seed_map(
            cursor,
            {
                "template_id": ("bigint", list(template_ids)),
                "number": ("varchar(30)", list(numbers)),
                "created_by": ("bigint", list(created_by)),
                "template_number": ("varchar(30)", list(template_numbers)),
                "site_id": ("bigint", list(site_ids)),
            },
        )
        cursor.execute(
            "UPDATE seed_map m SET clone_id = c.clone_id FROM unnest(%s::varchar[], %s::bigint[]) c(number, clone_id)"
            " WHERE c.number = m.number",
            [list(numbers), list(clone_ids)],
        )
        cursor.execute("CREATE INDEX ON seed_map (template_id)")
        cursor.execute("ANALYZE seed_map")
    evaluation = Evaluation._meta.db_table
    # The case text names the participant's own screening number (criteria.dumps writes the
    # case_id first).
    _insert_select(
        Evaluation,
        {
            "participant_id": "m.clone_id",
            "case_json": "replace(t.case_json, '\"case_id\": ' || to_jsonb(m.template_number)::text,"
            " '\"case_id\": ' || to_jsonb(m.number)::text)",
            "created_at": "now()",
        },
        f"FROM {evaluation} t JOIN seed_map m ON m.template_id = t.participant_id",
        defer_indexes=defer_indexes,
    )
    _insert_select(
        CriterionResult,
        {"evaluation_id": "ce.id"},
        f"FROM {CriterionResult._meta.db_table} t JOIN {evaluation} te ON te.id = t.evaluation_id"
        f" JOIN seed_map m ON m.template_id = te.participant_id"
        f" JOIN {evaluation} ce ON ce.participant_id = m.clone_id AND ce.sequence = te.sequence",
        defer_indexes=defer_indexes,
    )
    _insert_select(
        ScreeningState,
        {"participant_id": "m.clone_id", "site_id": "m.site_id", "evaluated_at": "now()"},
        f"FROM {ScreeningState._meta.db_table} t JOIN seed_map m ON m.template_id = t.participant_id",
        defer_indexes=defer_indexes,
    )
    # The copy ran with the triggers that count the states off.
    t = time.perf_counter()
    rebuild_state_counts()
    log.info("state counts rebuilt in %.1f s", time.perf_counter() - t)
    _insert_select(
        Escalation,
        {
            "participant_id": "m.clone_id",
            # The clone's site: the trigger that would copy it is off here (the cohort is the template's).
            "site_id": "m.site_id",
            "latest_result_id": "cr.id",
            "created_at": "now()",
            "opened_at": "now() - mod(t.id, 240) * interval '1 hour'",
            "updated_at": "now()",
        },
        f"FROM {Escalation._meta.db_table} t JOIN seed_map m ON m.template_id = t.participant_id"
        f" JOIN {CriterionResult._meta.db_table} tr ON tr.id = t.latest_result_id"
        f" JOIN {evaluation} te ON te.id = tr.evaluation_id"
        f" JOIN {evaluation} ce ON ce.participant_id = m.clone_id AND ce.sequence = te.sequence"
        f" JOIN {CriterionResult._meta.db_table} cr ON cr.evaluation_id = ce.id AND cr.criterion_id = t.criterion_id",
        defer_indexes=defer_indexes,
    )
