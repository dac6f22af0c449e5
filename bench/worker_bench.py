"""Worker benchmark: the batch path's CPU per participant against the engine alone, and a sweep
over N participants drained by a real worker (two processes by default), first with new results
(every participant gets an evaluation and its criterion rows), then a day later with the same
results (confirmations). Reports the criterion rows each run adds: the table's growth per day.

Each participant carries the records of an example case (sle-eligible: 61 records), copied in
SQL from one participant entered through the services (bench/copies.py: triggers off for the
set-up, on for every measured step). Works in the re-evaluation
benchmark's database (<name>_bench, recreated), queue and Redis key prefix.

    python bench/worker_bench.py [--participants 100000] [--sample 1000] [--concurrency 2] [--reuse]
                                 [--profile] [--new-drain/--no-new-drain] [--no-drains] [--evaluated-only]

--reuse keeps the benchmark's database when it already holds the participants (the seed is then
skipped; every run still forces new results where it measures them, by a new data version).
--profile prints a profile (pyinstrument, sampling) of the in-process batch path on confirmations and the queries per chunk.
The chunk size of the batch path is the setting REEVALUATION_CHUNK_SIZE (environment variable).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from copies import copy_participant
from reeval_bench import ROOT, recreate_database, start_worker, stop_worker, tree_cpu_seconds


def database_exists(url: str) -> bool:
    from urllib.parse import unquote, urlsplit

    import psycopg

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process (Linux /proc), None once it is gone."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


EXAMPLE = ROOT / ".." / "shared" / "cases" / "sle-eligible.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000, help="participants of the in-process CPU measure")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (the default: 2)")
    parser.add_argument("--limit-seconds", type=float, default=1800)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the participants")
    parser.add_argument("--profile", action="store_true", help="profile of the batch path on confirmations")
    parser.add_argument(
        "--new-drain", action=argparse.BooleanOptionalAction, default=True, help="drain with new results too"
    )
    parser.add_argument(
        "--no-drains", action="store_true", help="the in-process steps only (no worker, no queue)"
    )
    parser.add_argument(
        "--evaluated-only",
        action="store_true",
        help="the drains sweep only the participants evaluated so far (a reused database left by a partial run)",
    )
    args = parser.parse_args()
    (ROOT / ".var").mkdir(exist_ok=True)
    reuse = args.reuse and database_exists(os.environ["DATABASE_URL"])
    if not reuse:
        recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries, transaction
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from config.celery import app
    from participants.case_builder import build_case
    from participants.case_import import import_case
    from participants.models import Membership, Participant, Role, ScreeningStatus, Site, User
    from screening import criteria
    from screening.evaluation import evaluate_marked
    from screening.models import Confirmation, CriterionResult, Evaluation, ScreeningState, Trigger
    from screening.tasks import sweep

    call_command("migrate", verbosity=0)
    if not args.no_drains:
        app.control.purge()
    cpus = os.cpu_count()
    print(
        f"Worker benchmark ({cpus} CPUs, engine {criteria.ENGINE_BUILD}, worker concurrency {args.concurrency}, "
        f"chunk {settings.REEVALUATION_CHUNK_SIZE}, batch {settings.REEVALUATION_SWEEP_BATCH_SIZE})"
    )
    chunk = settings.REEVALUATION_CHUNK_SIZE
    print(f"  load average at the start: {os.getloadavg()[0]:.1f}")

    # --- Seed -------------------------------------------------------------------------------------
    def seed() -> None:
        site = Site.objects.create(code="BEN", name="Bench site")
        coordinator = User.objects.create(username="bench.coord")
        Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
        case = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
        case["dates"]["as_of"] = date.today().isoformat()
        copy_participant(import_case(coordinator, site, case), args.participants)

    t = time.perf_counter()
    seeded = reuse and Participant.objects.count() == args.participants
    if reuse and not seeded:
        raise SystemExit("the database holds another population: run without --reuse")
    if not seeded:
        seed()
    first = Participant.objects.order_by("pk").first()
    assert first is not None
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    print(
        f"  {'reused' if seeded else 'seeded'} {len(ids)} participants with 61 records each "
        f"in {time.perf_counter() - t:.1f} s"
    )

    # --- Baseline: the engine alone on the same case ---------------------------------------------
    sample_case = build_case(first, timezone.localdate())
    n = 500
    t = time.process_time()
    for _ in range(n):
        criteria.evaluate(criteria.load_case(sample_case))
    engine_ms = (time.process_time() - t) / n * 1000
    print(f"  engine alone (load + evaluate the participant's case, CPU): {engine_ms:.3f} ms")

    # --- The batch path in this process: CPU per participant ------------------------------------
    sample = ids[: args.sample]

    def backend_cpu_seconds() -> float:
        """CPU of this process's PostgreSQL backend (Linux /proc; 0 if PostgreSQL runs elsewhere)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        return proc_cpu_seconds(pid) or 0.0

    def new_data_version(participant_ids: list[int] | None = None) -> None:
        """A new data version for these participants (all by default), so that the next run stores
        new results rather than confirmations (set-up, with the triggers off)."""
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            rows = Participant.objects.all()
            if participant_ids is not None:
                rows = rows.filter(pk__in=participant_ids)
            rows.update(data_version=F("data_version") + 1)
            cursor.execute("SET session_replication_role = DEFAULT")

    def run_batch(day: date) -> None:
        for start in range(0, len(sample), chunk):
            with transaction.atomic():
                evaluate_marked(sample[start : start + chunk], trigger=Trigger.SWEEP, as_of=day)

    def batch_cpu(day: date, new: bool, profile: bool = False) -> tuple[float, float]:
        """CPU per participant (ms) of this process and of its PostgreSQL backend."""
        if new:
            new_data_version(sample)
        ScreeningState.objects.filter(participant_id__in=sample).update(
            reevaluation_requested_at=timezone.now()
        )
        database = backend_cpu_seconds()
        t = time.process_time()
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            run_batch(day)
            profiler.stop()
        else:
            run_batch(day)
        cpu = time.process_time() - t
        database = backend_cpu_seconds() - database
        if profile:
            print(profiler.output_text(unicode=False, color=False))
        return cpu / len(sample) * 1000, database / len(sample) * 1000

    def queries_per_chunk(day: date) -> None:
        part = sample[:chunk]
        ScreeningState.objects.filter(participant_id__in=part).update(
            reevaluation_requested_at=timezone.now()
        )
        reset_queries()
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            evaluate_marked(part, trigger=Trigger.SWEEP, as_of=day)
        print(f"  queries for a chunk of {len(part)} confirmations: {len(queries)}")
        for q in queries.captured_queries:
            print(f"    {q['time']}s  {q['sql'][:150]}")

    today = timezone.localdate()
    for label, day, new in (
        ("new results (a new data version)", today, True),
        ("same data, same results (confirmations)", today, False),
    ):
        evaluations_before, confirmations_before = Evaluation.objects.count(), Confirmation.objects.count()
        ms, database_ms = batch_cpu(day, new)
        stored = (
            Evaluation.objects.count() - evaluations_before,
            Confirmation.objects.count() - confirmations_before,
        )
        print(
            f"  batch path, {label}: {ms:.2f} ms CPU per participant = {ms / engine_ms:.1f} x the engine alone "
            f"(target <= 10 x); PostgreSQL's backend: {database_ms:.2f} ms; stored {stored[0]} evaluations, "
            f"{stored[1]} confirmations; load average {os.getloadavg()[0]:.1f}"
        )
    if args.profile:
        batch_cpu(today, False, profile=True)
        queries_per_chunk(today)

    # --- A sweep drained by the worker, twice ------------------------------------------------------
    def expire_all() -> None:
        """Every result expired yesterday and evaluated two days ago: the sweep takes them all
        (set-up, with the triggers off; no state changes its site, cohort, status or outcome, so
        the state counts need no rebuild)."""
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            ScreeningState.objects.update(reevaluation_requested_at=None)
            expired = ScreeningState.objects.all()
            if args.evaluated_only:
                expired = expired.exclude(status=ScreeningStatus.NOT_EVALUATED)
                ScreeningState.objects.filter(status=ScreeningStatus.NOT_EVALUATED).update(
                    status_valid_until=None, evaluated_at=None
                )
            expired.update(
                status_valid_until=today - timedelta(days=1), evaluated_at=timezone.now() - timedelta(days=2)
            )
            cursor.execute("SET session_replication_role = DEFAULT")

    def backends() -> dict[int, float]:
        """CPU so far of every other backend connected to this database (the worker's)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [row[0] for row in cursor.fetchall()]
        found = {pid: proc_cpu_seconds(pid) for pid in pids}
        return {pid: cpu for pid, cpu in found.items() if cpu is not None}

    def drain(label: str, new: bool) -> None:
        if new:
            new_data_version()
        rows_before = CriterionResult.objects.count()
        confirmations_before = Confirmation.objects.count()
        evaluations_before = Evaluation.objects.count()
        expire_all()
        worker = start_worker(args.concurrency)
        try:
            time.sleep(2)  # the pool processes start and connect
            cpu = tree_cpu_seconds(worker.pid)
            start = backends()  # the worker's backends, their CPU before (sampled until the end)
            seen = dict(start)
            load = [os.getloadavg()[0]]
            t = time.perf_counter()
            result = sweep()
            marked = ScreeningState.objects.filter(reevaluation_requested_at__isnull=False)
            while marked.exists():
                if time.perf_counter() - t > args.limit_seconds:
                    left = marked.count()
                    raise RuntimeError(f"{left} participants still marked after {args.limit_seconds:.0f} s")
                time.sleep(0.5)
                seen.update(backends())
                load.append(os.getloadavg()[0])
            elapsed = time.perf_counter() - t
            cpu = tree_cpu_seconds(worker.pid) - cpu
            seen.update(backends())
            database = sum(seen.values()) - sum(start.values())
        finally:
            stop_worker(worker)
            app.control.purge()
        rows = CriterionResult.objects.count() - rows_before
        evaluations = Evaluation.objects.count() - evaluations_before
        confirmations = Confirmation.objects.count() - confirmations_before
        print(
            f"  sweep + drain, {label}: {result.expired} participants in {elapsed:.1f} s "
            f"({result.expired / elapsed:.0f}/s, {args.concurrency} worker processes; target 100,000 in 120 s); "
            f"worker CPU {cpu / result.expired * 1000:.2f} ms per participant "
            f"({cpu / result.expired * 1000 / engine_ms:.1f} x the engine alone), "
            f"its PostgreSQL backends {database / result.expired * 1000:.2f} ms; "
            f"stored {evaluations} evaluations, {confirmations} confirmations, {rows} criterion rows; "
            f"load average {min(load):.1f}-{max(load):.1f} (1 min)"
        )

    if args.no_drains:
        return 0
    if args.new_drain:
        drain("new results (a new data version for every participant)", new=True)
    drain("same data, same results (a later sweep: confirmations)", new=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
