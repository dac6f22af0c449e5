"""Worker benchmark: the batch path's CPU per participant against the engine alone, and a sweep
over N participants drained by a real worker (two processes by default), first with new results
(every participant gets an evaluation and its criterion rows), then a day later with the same
results (confirmations). Reports the criterion rows each run adds: the table's growth per day.

Each participant carries the records of an example case (sle-eligible: 61 records), copied in
SQL from one participant entered through the services (bench/copies.py: triggers off for the
set-up, on for every measured step). Works in the re-evaluation
benchmark's database (<name>_bench, recreated), queue and Redis key prefix.

    python bench/worker_bench.py [--participants 100000] [--sample 1000] [--concurrency 2]
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

EXAMPLE = ROOT / ".." / "shared" / "cases" / "sle-eligible.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000, help="participants of the in-process CPU measure")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (the default: 2)")
    parser.add_argument("--limit-seconds", type=float, default=1800)
    args = parser.parse_args()
    (ROOT / ".var").mkdir(exist_ok=True)
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from config.celery import app
    from participants.case_builder import build_case
    from participants.case_import import import_case
    from participants.models import Membership, Participant, Role, Site, User
    from screening import criteria
    from screening.evaluation import evaluate_marked
    from screening.models import Confirmation, CriterionResult, Evaluation, ScreeningState, Trigger
    from screening.tasks import CHUNK, sweep

    call_command("migrate", verbosity=0)
    app.control.purge()
    cpus = os.cpu_count()
    print(
        f"Worker benchmark ({cpus} CPUs, engine {criteria.ENGINE_BUILD}, worker concurrency {args.concurrency})"
    )
    print(f"  load average at the start: {os.getloadavg()[0]:.1f}")

    # --- Seed -------------------------------------------------------------------------------------
    t = time.perf_counter()
    site = Site.objects.create(code="BEN", name="Bench site")
    coordinator = User.objects.create(username="bench.coord")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    case["dates"]["as_of"] = date.today().isoformat()
    first = import_case(coordinator, site, case)
    copy_participant(first, args.participants)
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    print(f"  seeded {len(ids)} participants with 61 records each in {time.perf_counter() - t:.1f} s")

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
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def batch_cpu(day: date) -> tuple[float, float]:
        """CPU per participant (ms) of this process and of its PostgreSQL backend."""
        ScreeningState.objects.filter(participant_id__in=sample).update(
            reevaluation_requested_at=timezone.now()
        )
        database = backend_cpu_seconds()
        t = time.process_time()
        for start in range(0, len(sample), CHUNK):
            with transaction.atomic():
                evaluate_marked(sample[start : start + CHUNK], trigger=Trigger.SWEEP, as_of=day)
        cpu = time.process_time() - t
        database = backend_cpu_seconds() - database
        return cpu / len(sample) * 1000, database / len(sample) * 1000

    today = timezone.localdate()
    for label, day in (("new results", today - timedelta(days=1)), ("same results a day later", today)):
        ms, database_ms = batch_cpu(day)
        print(
            f"  batch path, {label}: {ms:.2f} ms CPU per participant = {ms / engine_ms:.1f} x the engine alone "
            f"(target <= 10 x); PostgreSQL's backend: {database_ms:.2f} ms"
        )

    # --- A sweep drained by the worker, twice ------------------------------------------------------
    def expire_all() -> None:
        """Every result expired yesterday and evaluated two days ago: the sweep takes them all
        (set-up, with the triggers off)."""
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            ScreeningState.objects.update(
                status_valid_until=today - timedelta(days=1),
                evaluated_at=timezone.now() - timedelta(days=2),
                reevaluation_requested_at=None,
            )
            cursor.execute("SET session_replication_role = DEFAULT")

    def drain(label: str) -> None:
        rows_before = CriterionResult.objects.count()
        confirmations_before = Confirmation.objects.count()
        evaluations_before = Evaluation.objects.count()
        expire_all()
        worker = start_worker(args.concurrency)
        try:
            time.sleep(2)  # the pool processes start and connect
            cpu = tree_cpu_seconds(worker.pid)
            t = time.perf_counter()
            result = sweep()
            marked = ScreeningState.objects.filter(reevaluation_requested_at__isnull=False)
            while marked.exists():
                if time.perf_counter() - t > args.limit_seconds:
                    left = marked.count()
                    raise RuntimeError(f"{left} participants still marked after {args.limit_seconds:.0f} s")
                time.sleep(0.5)
            elapsed = time.perf_counter() - t
            cpu = tree_cpu_seconds(worker.pid) - cpu
        finally:
            stop_worker(worker)
            app.control.purge()
        rows = CriterionResult.objects.count() - rows_before
        evaluations = Evaluation.objects.count() - evaluations_before
        confirmations = Confirmation.objects.count() - confirmations_before
        print(
            f"  sweep + drain, {label}: {result.expired} participants in {elapsed:.1f} s "
            f"({result.expired / elapsed:.0f}/s, {args.concurrency} worker processes; target 100,000 in 120 s); "
            f"worker CPU {cpu / result.expired * 1000:.2f} ms per participant; "
            f"stored {evaluations} evaluations, {confirmations} confirmations, {rows} criterion rows; "
            f"load average {os.getloadavg()[0]:.1f}"
        )

    drain("new results (first evaluation of most)")
    drain("the next day, same results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
