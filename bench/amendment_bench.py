"""Protocol amendment benchmark: the impact report of 2025-11-14.3 over N participants (target:
100,000 within 60 s) and the re-evaluation after activation through a real worker with the
default settings (target: every participant within 10 minutes).

Each participant carries the records of an example case (sle-eligible: 61 records), copied in SQL
from one participant entered through the services (bench/copies.py, as bench/worker_bench.py).
The impact report is measured twice: as `manage.py amendment_impact` computes it (a pool of forked
processes, one per CPU) and as the page's job does (chunk tasks on the worker's processes, then
the combination); the two must be equal. Then the version is activated for the site and the
worker (prefork, default concurrency) re-evaluates until no participant is left marked; the
evaluations stored under the new version must number N. CPU time is reported next to wall time
(it does not depend on how busy the machine is). Works in the re-evaluation benchmark's database
(<name>_bench, recreated), queue and Redis key prefix.

    python bench/amendment_bench.py [--participants 10000 20000 ...] [--concurrency N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

from copies import copy_participant
from reeval_bench import ROOT, recreate_database, start_worker, stop_worker, tree_cpu_seconds

AMENDMENT = "2025-11-14.3"
EXAMPLE = ROOT / ".." / "shared" / "cases" / "sle-eligible.json"


def own_cpu_seconds() -> tuple[float, float]:
    """This process's CPU, and that of its children that ended (the report's pool)."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def run(size: int, concurrency: int, limit_seconds: float) -> None:
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from config.celery import app
    from participants.case_import import import_case
    from participants.models import Membership, Participant, Role, Site, User
    from screening import criteria
    from screening.amendments import activate_version, record_release
    from screening.impact import impact_report
    from screening.models import Evaluation, ScreeningState, Trigger
    from screening.tasks import impact_report_task, impact_state

    connections.close_all()  # the database was recreated
    call_command("migrate", verbosity=0)
    app.control.purge()
    print(f"{size} participants (engine {criteria.ENGINE_BUILD}), {load()}")
    site = Site.objects.create(code="BEN", name="Bench site")
    coordinator = User.objects.create(username="bench.coord")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    admin = User.objects.create(username="bench.admin", is_superuser=True)
    Membership.objects.create(user=admin, role=Role.ADMIN)

    # --- Seed: one participant entered through the services, copied in SQL ------------------------
    t = time.perf_counter()
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    case["dates"]["as_of"] = date.today().isoformat()
    first = import_case(coordinator, site, case)
    copy_participant(first, size)
    assert Participant.objects.count() == size
    print(f"  seeded {size} participants with 61 records each in {time.perf_counter() - t:.1f} s")
    today = timezone.localdate()

    # --- Impact report as the command computes it: a pool of forked processes ---------------------
    processes = os.cpu_count() or 1
    (parent, children), t = own_cpu_seconds(), time.perf_counter()
    report = impact_report(AMENDMENT, Participant.objects.all(), today, processes=processes)
    wall = time.perf_counter() - t
    parent_now, children_now = own_cpu_seconds()
    parent, children = parent_now - parent, children_now - children
    cpu = parent + children
    assert report.evaluated == size, (report.evaluated, report.refused[:5])
    print(
        f"  impact report (command, {processes} processes): {report.evaluated} participants, "
        f"{len(report.impacts)} changed, {report.status_changed} change status, in {wall:.1f} s "
        f"({size / wall:.0f}/s; target 100,000 within 60 s); CPU {cpu / size * 1000:.3f} ms per "
        f"participant ({children:.1f} s in the pool, {parent:.1f} s in this process); {load()}"
    )

    worker = start_worker(concurrency)
    try:
        time.sleep(2)  # the pool processes start and connect

        # --- Impact report as the page computes it: chunk tasks on the worker ---------------------
        report_id = uuid.uuid4().hex
        worker_cpu, t = tree_cpu_seconds(worker.pid), time.perf_counter()
        impact_report_task.delay(report_id, AMENDMENT, None, today.isoformat())
        while (state := impact_state(report_id)) is None or "report" not in state:
            if time.perf_counter() - t > limit_seconds:
                raise RuntimeError(f"the page's report is not done after {limit_seconds:.0f} s: {state}")
            time.sleep(0.2)
        wall = time.perf_counter() - t
        worker_cpu = tree_cpu_seconds(worker.pid) - worker_cpu
        assert state["report"] == report, "the page's report differs from the command's"
        print(
            f"  impact report (page's job, {concurrency} worker processes): equal to the command's, in "
            f"{wall:.1f} s ({size / wall:.0f}/s); worker CPU {worker_cpu / size * 1000:.3f} ms per "
            f"participant ({worker_cpu:.1f} s); {load()}"
        )
        del report, state

        # --- Activation, then the worker re-evaluates every participant ----------------------------
        record_release(admin, version=AMENDMENT, title="Amendment 3", released_on=today - timedelta(days=1))
        evaluations_before = Evaluation.objects.count()
        worker_cpu, t = tree_cpu_seconds(worker.pid), time.perf_counter()
        activate_version(admin, site=site, version=AMENDMENT, approved_on=today)
        marked = ScreeningState.objects.filter(reevaluation_requested_at__isnull=False)
        at_start = marked.count()
        while marked.exists():
            if time.perf_counter() - t > limit_seconds:
                raise RuntimeError(f"{marked.count()} participants still marked after {limit_seconds:.0f} s")
            time.sleep(0.5)
        wall = time.perf_counter() - t
        worker_cpu = tree_cpu_seconds(worker.pid) - worker_cpu
    finally:
        stop_worker(worker)
        app.control.purge()
    stored = Evaluation.objects.filter(trigger=Trigger.PROTOCOL_AMENDMENT, protocol_version=AMENDMENT).count()
    added = Evaluation.objects.count() - evaluations_before
    print(
        f"  re-evaluation after activation ({concurrency} worker processes): {at_start} still marked just after activation, "
        f"0 left marked after {wall:.1f} s ({size / wall:.0f}/s; target 100,000 within 600 s); "
        f"worker CPU {worker_cpu / size * 1000:.2f} ms per participant ({worker_cpu:.1f} s); {load()}"
    )
    print(
        f"  evaluations stored under {AMENDMENT} with the trigger protocol amendment: {stored} "
        f"({'equals' if stored == size == added else 'DIFFERS FROM'} the {size} participants; "
        f"{added} evaluations added)"
    )
    if not stored == size == added:
        raise SystemExit(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, nargs="+", default=[10_000])
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--limit-seconds", type=float, default=1800)
    args = parser.parse_args()
    (ROOT / ".var").mkdir(exist_ok=True)
    print(f"Protocol amendment benchmark ({os.cpu_count()} CPUs, worker concurrency {args.concurrency})")
    for size in args.participants:
        run(size, args.concurrency, args.limit_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
