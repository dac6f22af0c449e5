"""Protocol amendment benchmark: the impact report of 2025-11-14.3 over N participants (target:
100,000 within 60 s) and the re-evaluation after activation through a real worker with the
default settings (target: every participant within 10 minutes).

Each participant carries the records of an example case (sle-eligible: labs, facts, therapies,
events, reviewed areas), copied in bulk. Works in the re-evaluation benchmark's database
(<name>_bench, recreated), queue and Redis key prefix.

    python bench/amendment_bench.py [--participants 10000 20000 ...] [--concurrency N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date, timedelta
from decimal import Decimal

from reeval_bench import ROOT, recreate_database, start_worker, stop_worker

AMENDMENT = "2025-11-14.3"
EXAMPLE = ROOT / ".." / "shared" / "cases" / "sle-eligible.json"


def run(size: int, concurrency: int) -> None:
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from config.celery import app
    from participants.case_import import import_case
    from participants.models import Membership, Participant, Role, Site, User
    from participants.records import RECORD_KINDS
    from screening.amendments import activate_version, record_release
    from screening.impact import impact_report
    from screening.models import Evaluation, ScreeningState, Trigger

    connections.close_all()  # the database was recreated
    call_command("migrate", verbosity=0)
    app.control.purge()
    site = Site.objects.create(code="BEN", name="Bench site")
    coordinator = User.objects.create(username="bench.coord")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    admin = User.objects.create(username="bench.admin", is_superuser=True)
    Membership.objects.create(user=admin, role=Role.ADMIN)

    # --- Seed: one participant entered through the services, its records copied to the others ---
    t = time.perf_counter()
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    case["dates"]["as_of"] = date.today().isoformat()
    first = import_case(coordinator, site, case)
    template = {k.part: list(k.model.objects.filter(participant=first)) for k in RECORD_KINDS.values()}
    batch = 2000
    for start in range(1, size, batch):
        people = Participant.objects.bulk_create(
            [
                Participant(
                    site=site,
                    screening_sequence=first.screening_sequence + start + i,
                    screening_number=f"BEN-{start + i:07d}",
                    cohort=first.cohort,
                    lupus_nephritis=first.lupus_nephritis,
                    sex=first.sex,
                    birth_date=first.birth_date,
                    screening_start=first.screening_start,
                    icf_signed=first.icf_signed,
                    planned_enrollment=first.planned_enrollment,
                    planned_day0=first.planned_day0,
                    created_by=coordinator,
                )
                for i in range(min(batch, size - start))
            ]
        )
        for records in template.values():
            copies = []
            for p in people:
                for r in records:
                    r.pk = None
                    r.participant = p
                    copies.append(
                        type(r)(**{f.attname: getattr(r, f.attname) for f in r._meta.concrete_fields})
                    )
            if copies:
                type(copies[0]).objects.bulk_create(copies, batch_size=5000)
    print(f"  {size} participants seeded in {time.perf_counter() - t:.1f} s")

    # --- Impact report (nothing stored) ---------------------------------------------------------
    t = time.perf_counter()
    report = impact_report(AMENDMENT, Participant.objects.all(), timezone.localdate())
    impact_s = time.perf_counter() - t
    print(
        f"  impact report of {AMENDMENT}: {report.evaluated} participants, {len(report.impacts)} changed, "
        f"in {impact_s:.1f} s ({report.evaluated / impact_s:.0f}/s; target 100,000 within 60 s)"
    )

    # --- Activation, then the worker re-evaluates every participant -------------------------------
    record_release(
        admin, version=AMENDMENT, title="Amendment 3", released_on=date.today() - timedelta(days=1)
    )
    worker = start_worker(concurrency)
    try:
        t = time.perf_counter()
        activate_version(admin, site=site, version=AMENDMENT, approved_on=timezone.localdate())
        marked = ScreeningState.objects.filter(reevaluation_requested_at__isnull=False)
        while marked.exists():
            if time.perf_counter() - t > 1800:
                raise RuntimeError(f"{marked.count()} participants still unevaluated after 30 min")
            time.sleep(0.5)
        reeval_s = time.perf_counter() - t
    finally:
        stop_worker(worker)
        app.control.purge()
    stored = Evaluation.objects.filter(trigger=Trigger.PROTOCOL_AMENDMENT, protocol_version=AMENDMENT).count()
    print(
        f"  re-evaluation after activation: {stored} evaluations stored, 0 left unevaluated, in {reeval_s:.1f} s "
        f"({stored / reeval_s:.0f}/s with {concurrency} worker processes; target 100,000 within 10 min)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, nargs="+", default=[10_000])
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    (ROOT / ".var").mkdir(exist_ok=True)
    print(f"Protocol amendment benchmark ({os.cpu_count()} CPUs, worker concurrency {args.concurrency})")
    for size in args.participants:
        run(size, args.concurrency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
