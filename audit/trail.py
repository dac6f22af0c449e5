"""Reading the history back: events of every tracked table, in time order, field by field.

One SQL statement gathers the events of the chosen tables (UNION ALL), each with the previous
event of the same row (for the old values), the participant it belongs to and the acting user.
The page reads it in one go; the exports read it through a server-side cursor in chunks.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from participants.models import ClinicalRecord, Participant, RecordState, Site, User
from screening.diff import outcome_changes
from screening.models import CriterionResult, Evaluation

from .models import EVENT_MODELS, TRACKED, Tracked

# Rows fetched per round trip by the exports.
CHUNK_SIZE = 2000
# The time-ordered export reads each table in statements of at most CHUNK_SIZE events: the first
# one small (the first rows leave at once), the next ones sized so that one table's statement holds
# about TABLE_BYTES of event text (an evaluation's event carries its whole case: a few hundred of
# those weigh what 2,000 lab results do), so memory stays flat whatever the tables hold.
FIRST_STATEMENT_ROWS = 20
MIN_STATEMENT_ROWS = 100
TABLE_BYTES = 512 * 1024
# Events turned into rows at a time by the time-ordered export (the first batch as small as the
# first statements, so that the first rows need no second statement of any table).
MERGE_BATCH = 500

# Long values (an evaluation's case JSON) are cut on the page; exports keep them whole.
PAGE_VALUE_LIMIT = 300


@dataclass(frozen=True)
class Source:
    """One event table."""

    key: str
    label: str
    entry: Tracked
    event_model: type[models.Model]

    @property
    def table(self) -> str:
        return self.event_model._meta.db_table

    @property
    def belongs_to_participant(self) -> bool:
        return bool(self.entry.participant_path)

    @property
    def corrects(self) -> bool:
        """A clinical record: a correction inserts a copy that supersedes the old row."""
        return isinstance(self.entry.model, type) and issubclass(self.entry.model, ClinicalRecord)

    def participant_sql(self, alias: str = "e") -> str:
        """SQL giving the participant ID of an event row."""
        if not self.entry.participant_path:
            return "NULL::bigint"
        return _path_sql(self.entry.model, self.entry.participant_path.split("__"), alias)

    def participant_filter_sql(self, scope_sql: str, alias: str = "e") -> str:
        """SQL condition: the event row belongs to a participant in `scope_sql` (a subquery of IDs)."""
        if not self.entry.participant_path:
            return "FALSE"
        return _path_filter_sql(self.entry.model, self.entry.participant_path.split("__"), alias, scope_sql)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _path_sql(model: type[models.Model], hops: list[str], alias: str, on_event: bool = True) -> str:
    """The participant ID reached from `alias` along `hops` (foreign keys, nested subqueries)."""
    if on_event and hops == ["id"]:
        return f"{alias}.pgh_obj_id"
    fk = model._meta.get_field(hops[0])
    column = f"{alias}.{_quote(fk.column)}"  # type: ignore[union-attr]
    if len(hops) == 1:
        return column
    related: Any = fk.related_model
    inner = f"_{alias}"
    return (
        f"(SELECT {_path_sql(related, hops[1:], inner, False)} FROM {_quote(related._meta.db_table)} {inner}"
        f" WHERE {inner}.{_quote(related._meta.pk.column)} = {column})"
    )


def _path_filter_sql(
    model: type[models.Model], hops: list[str], alias: str, scope_sql: str, on_event: bool = True
) -> str:
    """The row at `alias` belongs to a participant in `scope_sql`; indexed lookups all the way."""
    if on_event and hops == ["id"]:
        return f"{alias}.pgh_obj_id IN ({scope_sql})"
    fk = model._meta.get_field(hops[0])
    column = f"{alias}.{_quote(fk.column)}"  # type: ignore[union-attr]
    if len(hops) == 1:
        return f"{column} IN ({scope_sql})"
    related: Any = fk.related_model
    inner = f"_{alias}"
    condition = _path_filter_sql(related, hops[1:], inner, scope_sql, False)
    return (
        f"{column} IN (SELECT {inner}.{_quote(related._meta.pk.column)}"
        f" FROM {_quote(related._meta.db_table)} {inner} WHERE {condition})"
    )


SOURCES: dict[str, Source] = {
    entry.model._meta.model_name: Source(  # type: ignore[misc]
        key=entry.model._meta.model_name,  # type: ignore[arg-type]
        label=str(entry.model._meta.verbose_name).capitalize(),
        entry=entry,
        event_model=EVENT_MODELS[entry.model],
    )
    for entry in TRACKED
}
PARTICIPANT_SOURCES = [s for s in SOURCES.values() if s.belongs_to_participant]
# The participant page leaves these out unless asked: an evaluation writes one row per criterion.
NOT_SHOWN_BY_DEFAULT = {"criterionresult"}
DEFAULT_PARTICIPANT_TYPES = [s.key for s in PARTICIPANT_SOURCES if s.key not in NOT_SHOWN_BY_DEFAULT]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class TrailEvent:
    at: datetime
    record_type: str
    record_label: str
    record_id: str
    action: str
    participant_id: int | None
    screening_number: str
    site_code: str
    user_id: int | None
    username: str
    user_name: str
    reason: str
    role: str
    url: str
    context_id: str
    changes: list[FieldChange] = field(default_factory=list)
    # Readable trail only: the record a correction replaces, and an evaluation's summary.
    replaces: str = ""
    summary: str = ""
    details: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[FieldChange]:
        """The changes, or one empty line for an event without field changes."""
        return self.changes or [FieldChange("", "", "")]

    @property
    def outside_application(self) -> bool:
        """No application context: the change was made directly in the database."""
        return not self.context_id


def _select_sql(source: Source, conditions: list[str], readable: bool = False) -> str:
    where = " AND ".join(conditions) if conditions else "TRUE"
    table = _quote(source.table)
    previous = (
        f"(SELECT to_jsonb(p)::text FROM {table} p WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id"
        " ORDER BY p.pgh_id DESC LIMIT 1)"
    )
    if readable and source.corrects:
        # A correction's "before" is the record it replaces, as it stood just before.
        previous = (
            f"COALESCE({previous}, (SELECT to_jsonb(p)::text FROM {table} p"
            " WHERE p.pgh_obj_id = e.supersedes_id AND p.pgh_id < e.pgh_id ORDER BY p.pgh_id DESC LIMIT 1))"
        )
    return (
        f"SELECT '{source.key}'::text AS record_type, e.pgh_id, e.pgh_recorded_at, e.pgh_label,"
        f" e.pgh_obj_id::text AS record_id, {source.participant_sql()} AS participant_id,"
        " e.pgh_context::text AS context, e.pgh_context_id::text AS context_id,"
        f" to_jsonb(e)::text AS data, {previous} AS previous"
        f" FROM {table} e WHERE {where}"
    )


def _query(
    sources: Iterable[Source],
    *,
    participant_scope: tuple[str, list[Any]] | None,
    start: datetime | None,
    end: datetime | None,
    ids: dict[str, list[int]] | None = None,
    readable: bool = False,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """The statement and its parameters. `participant_scope` is SQL giving participant IDs that
    restricts the tables of participant data (None: no restriction); the other tables are never
    restricted by it, so pass them only when they are wanted. `ids`: only these events (pgh_id by
    source key). `readable`: a correction's old values are those of the record it replaces.
    `after` (time, event ID) and `limit` read one table's events a chunk at a time along its
    (time, ID) index."""
    parts: list[str] = []
    params: list[Any] = []
    for source in sources:
        conditions: list[str] = []
        if after is not None:
            conditions.append("(e.pgh_recorded_at, e.pgh_id) > (%s, %s)")
            params += list(after)
        if participant_scope is not None and source.belongs_to_participant:
            scope_sql, scope_params = participant_scope
            conditions.append(source.participant_filter_sql(scope_sql))
            params += scope_params
        if start is not None:
            conditions.append("e.pgh_recorded_at >= %s")
            params.append(start)
        if end is not None:
            conditions.append("e.pgh_recorded_at < %s")
            params.append(end)
        if ids is not None:
            conditions.append("e.pgh_id = ANY(%s)")
            params.append(ids.get(source.key, []))
        parts.append(_select_sql(source, conditions, readable))
    if not parts:
        parts.append(_select_sql(next(iter(SOURCES.values())), ["FALSE"]))
    union = " UNION ALL ".join(f"({p})" for p in parts)
    sql = (
        "SELECT ev.record_type, ev.pgh_id, ev.pgh_recorded_at, ev.pgh_label, ev.record_id, ev.participant_id,"
        " ev.context, ev.context_id, ev.data, ev.previous, pp.screening_number, s.code, u.id, u.username,"
        " u.full_name"
        f" FROM ({union}) ev"
        " LEFT JOIN participants_participant pp ON pp.id = ev.participant_id"
        " LEFT JOIN participants_site s ON s.id = pp.site_id"
        " LEFT JOIN participants_user u ON u.id = CASE WHEN ev.context::jsonb->>'user' ~ '^[0-9]+$'"
        " THEN (ev.context::jsonb->>'user')::bigint END"
        " ORDER BY ev.pgh_recorded_at, ev.record_type, ev.pgh_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text, parse_float=Decimal)


_SKIPPED_COLUMNS = {"id"}


class _Formatter:
    """Turns stored JSON values into what a person reads: choice labels, user names, yes/no."""

    def __init__(self, readable: bool = False) -> None:
        self._fields: dict[str, dict[str, models.Field[Any, Any]]] = {}
        # The page and the PDF show times as the pages do (local, to the second); exports keep ISO.
        self.readable = readable

    def fields(self, source: Source) -> dict[str, models.Field[Any, Any]]:
        if source.key not in self._fields:
            self._fields[source.key] = {
                f.column: f
                for f in source.entry.model._meta.concrete_fields
                if f.column in {g.column for g in source.event_model._meta.concrete_fields}
            }
        return self._fields[source.key]

    @staticmethod
    def named_columns(fields: dict[str, models.Field[Any, Any]]) -> dict[str, type[models.Model]]:
        """Foreign keys shown by name rather than ID: users and sites."""
        return {c: f.related_model for c, f in fields.items() if f.related_model in _NAMES}  # type: ignore[misc]

    def value(self, f: models.Field[Any, Any], value: Any, names: dict[tuple[type, int], str]) -> str:
        if value is None or value == "":
            return ""
        if f.related_model in _NAMES and isinstance(value, int):
            return names.get((f.related_model, value), f"#{value}")  # type: ignore[arg-type]
        if f.choices and not isinstance(value, (dict, list)):
            return str(dict(f.flatchoices).get(value, value))
        if self.readable and isinstance(f, models.DateTimeField) and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, Decimal):
            return f"{value.normalize():f}"
        if isinstance(value, (dict, list)):
            return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        return str(value)


def _user_names(ids: set[int]) -> dict[int, str]:
    return {u.pk: u.display_name() for u in User.objects.filter(pk__in=ids)}


def _site_names(ids: set[int]) -> dict[int, str]:
    return dict(Site.objects.filter(pk__in=ids).values_list("pk", "code"))


_NAMES = {User: _user_names, Site: _site_names}
EMPTY = (None, "", [], {})


def _action(label: str, data: dict[str, Any], previous: dict[str, Any] | None) -> str:
    if label == "insert":
        return "created"
    if label == "delete":
        return "deleted"
    state, before = data.get("state"), (previous or {}).get("state")
    if state != before and state == RecordState.VOIDED:
        return "voided"
    if state != before and state == RecordState.SUPERSEDED:
        return "superseded"
    return "changed"


# Bookkeeping columns a correction copies or sets by itself: its row shows what the person changed.
_CORRECTION_BOOKKEEPING = {
    "state", "supersedes_id", "change_reason", "entered_by_id", "entered_at",
    "voided_by_id", "voided_at", "void_reason",
}  # fmt: skip


def _events(
    rows: Iterable[tuple[Any, ...]], formatter: _Formatter, readable: bool = False
) -> list[TrailEvent]:
    """Events of a batch of rows, user foreign keys resolved with one query for the batch.
    `readable`: a correction is one event (old → new of the record it replaces), an evaluation
    a summary (filled by `_summarize_evaluations`) instead of its stored case."""
    parsed = []
    wanted: dict[type[models.Model], set[int]] = {model: set() for model in _NAMES}
    for row in rows:
        source = SOURCES[row[0]]
        data, previous = _loads(row[8]), _loads(row[9])
        fields = formatter.fields(source)
        for column, model in formatter.named_columns(fields).items():
            for snapshot in (data, previous or {}):
                if isinstance(snapshot.get(column), int):
                    wanted[model].add(snapshot[column])
        parsed.append((source, row, data, previous, fields))
    names = {
        (model, pk): name for model, ids in wanted.items() if ids for pk, name in _NAMES[model](ids).items()
    }
    events = []
    for source, row, data, previous, fields in parsed:
        context = _loads(row[6]) or {}
        label = row[3]
        action = _action(label, data, previous)
        correction = (
            readable and label == "insert" and bool(data.get("supersedes_id")) and previous is not None
        )
        if correction:
            action = "corrected"
        changes = []
        for column, f in fields.items():
            if column in _SKIPPED_COLUMNS or (correction and column in _CORRECTION_BOOKKEEPING):
                continue
            if readable and source.key == "evaluation" and label == "insert":
                break  # summarised instead: the stored case is long and read elsewhere
            new = data.get(column)
            if label == "delete":
                old, new = new, None
            elif (label == "update" or correction) and previous is not None:
                old = previous.get(column)
                if old == new:
                    continue
            else:
                old = None
            if old in EMPTY and new in EMPTY:
                continue
            changes.append(
                FieldChange(
                    field=str(f.verbose_name),
                    old=formatter.value(f, old, names),
                    new=formatter.value(f, new, names),
                )
            )
        screening_number = row[10] or (
            data.get("screening_number", "") if source.key == "participant" else ""
        )
        events.append(
            TrailEvent(
                at=row[2],
                record_type=source.key,
                record_label=source.label,
                record_id=row[4],
                action=action,
                participant_id=row[5],
                screening_number=screening_number or "",
                site_code=row[11] or "",
                user_id=row[12] if row[12] is not None else context.get("user"),
                username=row[13] or "",
                user_name=row[14] or row[13] or (f"user #{context['user']}" if context.get("user") else ""),
                reason=str(context.get("reason", "")),
                role=str(context.get("role", "")),
                url=str(context.get("url", "")),
                context_id=row[7] or "",
                changes=changes,
                replaces=str(data.get("supersedes_id")) if correction else "",
            )
        )
    return events


def _scope_sql(participants: QuerySet[Participant]) -> tuple[str, list[Any]]:
    sql, params = participants.order_by().values("pk").query.sql_with_params()
    return sql, list(params)


def participant_trail(
    participant: Participant, record_types: Iterable[str] | None = None
) -> list[TrailEvent]:
    """Every event of the participant and their records, oldest first (one statement plus one
    for the names of users the changed fields name)."""
    chosen = [SOURCES[k] for k in (record_types or DEFAULT_PARTICIPANT_TYPES) if k in SOURCES]
    chosen = [s for s in chosen if s.belongs_to_participant]
    sql, params = _query(chosen, participant_scope=("%s", [participant.pk]), start=None, end=None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _events(rows, _Formatter())


def stream_trail(
    *,
    participants: QuerySet[Participant] | None,
    include_unattached: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
    one_participant: bool = False,
) -> Iterator[TrailEvent]:
    """Events of `participants` (and, with include_unattached, of users, sites, memberships and
    protocol versions) in time order. `participants` None: every participant's events, those of
    rows deleted outside the application included.

    Each table is read a chunk at a time along its (time, event ID) index and the tables are
    merged here in the statement's order (time, table, event ID): the first rows come at once and
    memory stays constant however many events there are, where one ordered statement over every
    table would sort them all first. One participant's events are few: one statement, through a
    server-side cursor."""
    sources = [s for s in SOURCES.values() if include_unattached or s.belongs_to_participant]
    scope = None if participants is None else _scope_sql(participants)
    formatter = _Formatter()
    if one_participant:
        sql, params = _query(sources, participant_scope=scope, start=start, end=end)
        # In a transaction, so that the server-side cursor streams (see reports.screening_log_rows).
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk_size):
                yield from _events(rows, formatter)
        return
    streams = [_rows_by_time(source, scope, start, end, chunk_size) for source in sources]
    merged = heapq.merge(*streams, key=lambda row: (row[2], row[0], row[1]))
    batch = min(chunk_size, FIRST_STATEMENT_ROWS)
    while rows := list(itertools.islice(merged, batch)):
        yield from _events(rows, formatter)
        batch = min(chunk_size, MERGE_BATCH)


def _rows_by_time(
    source: Source,
    scope: tuple[str, list[Any]] | None,
    start: datetime | None,
    end: datetime | None,
    chunk_size: int,
) -> Iterator[tuple[Any, ...]]:
    """One table's event rows in (time, event ID) order: FIRST_STATEMENT_ROWS, then statements of
    about TABLE_BYTES of event text, at most `chunk_size` rows each."""
    after: tuple[datetime, int] | None = None
    limit = min(chunk_size, FIRST_STATEMENT_ROWS)
    while True:
        sql, params = _query(
            [source], participant_scope=scope, start=start, end=end, after=after, limit=limit
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if len(rows) < limit:
            yield from rows
            return
        after = (rows[-1][2], rows[-1][1])
        size = sum(len(row[8] or "") + len(row[9] or "") for row in rows) // len(rows) + 1
        limit = min(chunk_size, max(MIN_STATEMENT_ROWS, TABLE_BYTES // size))
        yield from rows
        del rows


# --- The page: paged, readable, independent of how many participants there are ---

PAGE_SIZE = 50


@dataclass
class TrailPage:
    """One page of a participant's readable trail."""

    events: list[TrailEvent]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.events else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.events)


def _hidden_supersede_sql(source: Source) -> str:
    """The old record's switch to "superseded" that a correction made in the same call: the
    correction's own row shows it (old → new), so it is not a second row. A switch made any other
    way (outside the application, or without a replacing record) stays visible."""
    table = _quote(source.table)
    return (
        f"NOT (e.pgh_label = 'update' AND e.state = '{RecordState.SUPERSEDED.value}'"
        f" AND EXISTS (SELECT 1 FROM {table} n WHERE n.supersedes_id = e.pgh_obj_id AND n.pgh_label = 'insert'"
        " AND n.pgh_context_id IS NOT DISTINCT FROM e.pgh_context_id)"
        f" AND (SELECT p.state FROM {table} p WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id"
        f" ORDER BY p.pgh_id DESC LIMIT 1) IS DISTINCT FROM '{RecordState.SUPERSEDED.value}')"
    )


def _keys_query(
    sources: list[Source], participant: Participant, start: datetime | None, end: datetime | None
) -> tuple[str, list[Any]]:
    """Which events the readable trail shows, in order: keys only (no row data), each source
    filtered through its indexed participant column."""
    parts: list[str] = []
    params: list[Any] = []
    for source in sources:
        conditions = [source.participant_filter_sql("%s")]
        params.append(participant.pk)
        if start is not None:
            conditions.append("e.pgh_recorded_at >= %s")
            params.append(start)
        if end is not None:
            conditions.append("e.pgh_recorded_at < %s")
            params.append(end)
        if source.corrects:
            conditions.append(_hidden_supersede_sql(source))
        parts.append(
            f"SELECT '{source.key}'::text AS record_type, e.pgh_id, e.pgh_recorded_at"
            f" FROM {_quote(source.table)} e WHERE {' AND '.join(conditions)}"
        )
    union = " UNION ALL ".join(f"({p})" for p in parts)
    return f"SELECT k.record_type, k.pgh_id, count(*) OVER () FROM ({union}) k", params


def _chosen(record_types: Iterable[str] | None) -> list[Source]:
    chosen = [SOURCES[k] for k in (record_types or DEFAULT_PARTICIPANT_TYPES) if k in SOURCES]
    return [s for s in chosen if s.belongs_to_participant]


def readable_trail(
    participant: Participant,
    record_types: Iterable[str] | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int | None = None,
    per_page: int = PAGE_SIZE,
) -> TrailPage:
    """The participant's trail as a monitor reads it: a correction is one event (field, old → new,
    who, when, role, reason), an evaluation is a summary of what it changed. With `page`, one page
    of `per_page` events (the last page if past the end); without, every event (the printable
    trail). A fixed number of statements whatever the size: the keys of the page, their rows, the
    user names, and the evaluation summaries (three)."""
    sources = _chosen(record_types)
    if not sources:
        return TrailPage([], 0, 1, per_page)
    keys_sql, keys_params = _keys_query(sources, participant, start, end)
    keys_sql += " ORDER BY k.pgh_recorded_at, k.record_type, k.pgh_id"
    number = max(1, page or 1)
    with connection.cursor() as cursor:
        if page is not None:
            cursor.execute(
                f"{keys_sql} LIMIT %s OFFSET %s", [*keys_params, per_page, (number - 1) * per_page]
            )
            keys = cursor.fetchall()
            if not keys and number > 1:  # past the end: the last page
                cursor.execute(f"SELECT count(*) FROM ({keys_sql}) c", keys_params)
                total = cursor.fetchone()[0]
                number = max(1, -(-total // per_page))
                cursor.execute(
                    f"{keys_sql} LIMIT %s OFFSET %s", [*keys_params, per_page, (number - 1) * per_page]
                )
                keys = cursor.fetchall()
        else:
            cursor.execute(keys_sql, keys_params)
            keys = cursor.fetchall()
            per_page = max(per_page, len(keys))
        total = keys[0][2] if keys else 0
        if not keys:
            return TrailPage([], 0, 1, per_page)
        ids: dict[str, list[int]] = {}
        for record_type, pgh_id, _ in keys:
            ids.setdefault(record_type, []).append(pgh_id)
        wanted = [s for s in sources if s.key in ids]
        sql, params = _query(wanted, participant_scope=None, start=None, end=None, ids=ids, readable=True)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    events = _events(rows, _Formatter(readable=True), readable=True)
    _summarize_evaluations(events)
    return TrailPage(events, total, number, per_page)


def _summarize_evaluations(events: list[TrailEvent]) -> None:
    """ "Evaluation #3: overall INCOMPLETE → ELIGIBLE; 3 criteria changed", with the changed
    criteria as details, for every evaluation created among `events` (one query)."""
    created = {int(e.record_id): e for e in events if e.record_type == "evaluation" and e.action == "created"}
    if not created:
        return
    evaluations = Evaluation.objects.filter(pk__in=created).values(
        "pk", "participant_id", "sequence", "overall"
    )
    found = list(evaluations)
    previous = Evaluation.objects.filter(
        participant_id__in={e["participant_id"] for e in found},
        sequence__in={e["sequence"] - 1 for e in found},
    ).values("pk", "participant_id", "sequence", "overall")
    by_position = {(e["participant_id"], e["sequence"]): e for e in previous}
    pairs = {e["pk"]: by_position.get((e["participant_id"], e["sequence"] - 1)) for e in found}
    outcomes: dict[int, dict[str, str]] = {}
    wanted = {*pairs, *(p["pk"] for p in pairs.values() if p)}
    for evaluation_id, criterion_id, outcome in CriterionResult.objects.filter(
        evaluation_id__in=wanted
    ).values_list("evaluation_id", "criterion_id", "outcome"):
        outcomes.setdefault(evaluation_id, {})[criterion_id] = outcome
    for e in found:
        event, before = created[e["pk"]], pairs[e["pk"]]
        if before is None:
            event.summary = f"Evaluation #{e['sequence']}: overall {e['overall']} (first evaluation)"
            continue
        changed = list(outcome_changes(outcomes.get(before["pk"], {}), outcomes.get(e["pk"], {})))
        overall = (
            f"overall {before['overall']} → {e['overall']}"
            if before["overall"] != e["overall"]
            else f"overall {e['overall']} (unchanged)"
        )
        count = (
            f"{len(changed)} criteri{'on' if len(changed) == 1 else 'a'} changed"
            if changed
            else "no criterion changed"
        )
        event.summary = f"Evaluation #{e['sequence']}: {overall}; {count}"
        event.details = [c.text for c in changed]
