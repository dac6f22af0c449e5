"""Re-evaluation benchmark: save-to-stored latency through a real worker and broker, and the sweep
over 100,000 participants (selection and enqueue; then evaluation throughput), each with a ratio
to the engine alone on the same case, measured in the same run.

Needs DATABASE_URL and REDIS_URL (`make bench` provides them). Works in its own database
(<name>_bench, recreated each run), its own queue and its own Redis key prefix.

    python bench/reeval_bench.py [--changes 220] [--participants 100000] [--drain-seconds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url(suffix: str = "_bench") -> str:
    """DATABASE_URL with `suffix` added to the database's name: each benchmark works in its own."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = unquote(parts.path.lstrip("/")) + suffix
    return urlunsplit(parts._replace(path="/" + quote(name)))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    host = unquote(parts.hostname or "") if parts.hostname else None
    if "%2F" in (parts.netloc or ""):
        host = unquote(parts.netloc.rsplit("@", 1)[-1])
    with psycopg.connect(
        host=host, port=parts.port, user=parts.username or "postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


os.environ["DATABASE_URL"] = bench_database_url()
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "allo329-bench"
os.environ["CACHE_KEY_PREFIX"] = "allo329-bench"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    log = open(ROOT / ".var" / "reeval-bench-worker.log", "ab")  # noqa: SIM115 - lives with the worker
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "--loglevel", "WARNING", "-n", f"bench-{os.getpid()}@%h"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log)
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return worker
    raise RuntimeError("worker did not start; see .var/reeval-bench-worker.log")


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (Linux /proc), to report a figure that does
    not depend on how busy the machine is."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=220, help="lab saves timed (the first 20 warm up)")
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--drain-seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    (ROOT / ".var").mkdir(exist_ok=True)

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from config.celery import app
    from participants import services
    from participants.case_builder import build_case
    from participants.models import Membership, Participant, Role, ScreeningStatus, Site, User
    from screening import criteria
    from screening.models import Evaluation, ScreeningState, Trigger
    from screening.tasks import sweep

    call_command("migrate", verbosity=0)
    app.control.purge()
    site = Site.objects.create(code="BEN", name="Bench site")
    user = User.objects.create(username="bench.coord")
    Membership.objects.create(user=user, role=Role.COORDINATOR, site=site)
    cpus = os.cpu_count()
    print(f"Re-evaluation benchmark ({cpus} CPUs, worker concurrency {args.concurrency})")

    def make_participants(n: int, start: int, **state: object) -> list[Participant]:
        """Participants added in bulk, each with its screening state (`state`: its fields)."""
        rows = [
            Participant(
                site=site,
                screening_sequence=start + i,
                screening_number=f"BEN-{start + i:07d}",
                cohort="SLE",
                lupus_nephritis=False,
                sex="F",
                birth_date=date(1987, 9, 14),
                planned_enrollment=date.today() + timedelta(days=7),
                created_by=user,
            )
            for i in range(n)
        ]
        created = Participant.objects.bulk_create(rows, batch_size=5000)
        ScreeningState.objects.bulk_create(
            (ScreeningState(participant=p, **state) for p in created), batch_size=5000
        )
        return created

    # --- Baseline: the engine alone on the latency case ------------------------------------------
    changes = max(args.changes, 220)
    people = make_participants(changes, 1)
    services.record_lab(user, people[0], test="anc", value=Decimal(2100), unit="/uL", collected=date.today())
    case = build_case(people[0], date.today())
    n = 500
    t = time.perf_counter()
    for _ in range(n):
        criteria.evaluate(criteria.load_case(case))
    engine_ms = (time.perf_counter() - t) / n * 1000
    print(f"  engine alone (load + evaluate, one case with one lab): {engine_ms:.2f} ms")

    # --- Latency: lab saved -> evaluation stored --------------------------------------------------
    worker = start_worker(args.concurrency)
    try:
        latencies: list[float] = []
        for i, p in enumerate(people):
            before = time.perf_counter()
            services.record_lab(
                user, p, test="anc", value=Decimal(1000 + i), unit="/uL", collected=date.today()
            )
            version = Participant.objects.values_list("data_version", flat=True).get(pk=p.pk)
            deadline = before + 30
            while not Evaluation.objects.filter(participant=p, data_version=version).exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"no evaluation for participant {p.pk}")
                time.sleep(0.002)
            if i >= 20:
                latencies.append((time.perf_counter() - before) * 1000)
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(
            f"  latency lab saved -> evaluation stored over {len(latencies)} saves: "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies):.0f} ms "
            f"(p50 = {p50 / engine_ms:.0f} x the engine alone)"
        )
    finally:
        stop_worker(worker)

    # --- Sweep over many participants -------------------------------------------------------------
    now = timezone.now()
    t = time.perf_counter()
    make_participants(
        args.participants,
        changes + 1,
        status=ScreeningStatus.ELIGIBLE,
        status_valid_until=timezone.localdate() - timedelta(days=1),
        evaluated_at=now - timedelta(days=2),
    )
    print(
        f"  bulk-created {args.participants} participants with expired results in {time.perf_counter() - t:.1f} s"
    )
    app.control.purge()
    t = time.perf_counter()
    result = sweep()
    sweep_s = time.perf_counter() - t
    print(
        f"  sweep: selected {result.expired} expired, marked and enqueued {result.batches} batches "
        f"in {sweep_s:.2f} s (target < 60 s)"
    )
    assert result.expired >= args.participants and not result.enqueue_failed

    # Evaluation throughput: the worker drains the sweep's batches for a fixed time.
    sweep_case = build_case(Participant.objects.order_by("-pk").first(), date.today())  # type: ignore[arg-type]
    t = time.perf_counter()
    for _ in range(n):
        criteria.evaluate(criteria.load_case(sweep_case))
    sweep_engine_ms = (time.perf_counter() - t) / n * 1000
    worker = start_worker(args.concurrency)
    try:
        time.sleep(2)  # pool processes start and connect
        before = Evaluation.objects.filter(trigger=Trigger.EXPIRY).count()
        cpu = tree_cpu_seconds(worker.pid)
        t = time.perf_counter()
        time.sleep(args.drain_seconds)
        done = Evaluation.objects.filter(trigger=Trigger.EXPIRY).count() - before
        elapsed = time.perf_counter() - t
        cpu = tree_cpu_seconds(worker.pid) - cpu
    finally:
        stop_worker(worker)
        app.control.purge()
    rate = done / elapsed
    per_eval_ms = 1000 / rate if rate else float("inf")
    print(
        f"  evaluation throughput: {rate:.0f} participants/s with {args.concurrency} worker processes "
        f"({per_eval_ms:.1f} ms each, wall); the whole {args.participants} in ~{args.participants / rate / 60:.0f} min"
        if rate
        else "  evaluation throughput: nothing evaluated"
    )
    cpu_ms = cpu / done * 1000 if done else float("inf")
    print(
        f"  worker CPU per stored evaluation: {cpu_ms:.1f} ms (PostgreSQL's own CPU not included); "
        f"engine alone on the sweep's case: {sweep_engine_ms:.2f} ms -> ratio {cpu_ms / sweep_engine_ms:.1f}"
    )
    load = os.getloadavg()[0]
    print(f"  load average at the end: {load:.1f} on {cpus} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
