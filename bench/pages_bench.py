"""Pages and exports at a population of N participants over 10 sites (`seed_population`).

For each size: a database of its own (<name>_pages_<N>, recreated and seeded unless --reuse finds
it seeded), then, in process through Django's test client, p95 of 100 requests (after 3 warm-up
requests) of each page, with its query count, as a ratio to the baseline measured in the same
run: the participant's evaluation-status fragment. Then the exports: the screening log CSV of the
whole population and the first 1,000,000 rows of a trial-wide audit trail CSV streamed to the end
(time to the first byte, which is the header, and to the first data row; rows/s; the peak of
Python memory), and the same two as XLSX files written by the export job (`exports.jobs.run_job`,
in process: rows/s, and the peak of Python memory over the first 50,000 rows).

    python bench/pages_bench.py [--participants 10000 100000] [--reuse] [--pages-only | --exports-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ["DATABASE_URL"]

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ["DJANGO_SECURE_COOKIES"] = "false"

REQUESTS = 100
WARM_UP = 3


def database_url(size: int) -> str:
    parts = urlsplit(BASE_URL)
    name = unquote(parts.path.lstrip("/")) + f"_pages_{size}"
    return urlunsplit(parts._replace(path="/" + quote(name)))


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def prepare(size: int, reuse: bool) -> float | None:
    """The seeded database of `size` participants; the seeding's seconds when it was seeded now."""
    from django.core.management import call_command
    from django.db import connections

    from participants.models import Participant

    os.environ["DATABASE_URL"] = url = database_url(size)
    connections["default"].close()
    connections["default"].settings_dict.update(_settings_of(url))
    if reuse:
        try:
            if Participant.objects.count() >= size:
                call_command("migrate", verbosity=0)
                return None
        except Exception:  # noqa: BLE001 - no such database yet: create it
            connections["default"].close()
    from reeval_bench import recreate_database

    recreate_database(url)
    connections["default"].close()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_population", str(size), "--sites", "10", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return time.perf_counter() - started


def _settings_of(url: str) -> dict[str, object]:
    import environ

    settings = environ.Env.db_url_config(url)
    settings["HOST"] = unquote(str(settings.get("HOST", "")))
    return {k: v for k, v in settings.items() if k in ("NAME", "HOST", "PORT", "USER", "PASSWORD")}


def explain(client_of: Callable[[str], object], pages: list[tuple[str, str, str]]) -> None:
    """Each page's statements under `EXPLAIN (ANALYZE, BUFFERS)`: the server's time and the blocks
    they touch (shared buffers hit or read), which do not depend on the machine's load; the
    slowest statement of each page is named."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print("  | page | SQL time | blocks | slowest statement |")
    print("  |---|---|---|---|")
    for label, user, url in pages:
        client = client_of(user)
        client.get(url)  # type: ignore[attr-defined]
        with CaptureQueriesContext(connection) as captured:
            client.get(url)  # type: ignore[attr-defined]
        total_ms = 0.0
        blocks = 0
        slowest = (0.0, "")
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
                ms = plan["Planning Time"] + plan["Execution Time"]
                total_ms += ms
                top = plan["Plan"]
                blocks += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                if ms > slowest[0]:
                    slowest = (ms, sql[:90].replace("|", "/"))
        print(f"  | {label} | {total_ms:.1f} ms | {blocks:,} | {slowest[0]:.1f} ms: {slowest[1]} |")


def measure(
    client_of: Callable[[str], object], pages: list[tuple[str, str, str]]
) -> list[tuple[str, float, int]]:
    """p95 of REQUESTS requests of each page, taken in rounds that request every page once, so
    that every page meets the same moments of the machine (another process's burst, the
    collector) and a drift of the load moves the baseline with the pages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients = [client_of(user) for _, user, _ in pages]
    for (label, _, url), client in zip(pages, clients, strict=True):
        for _ in range(WARM_UP):
            response = client.get(url)  # type: ignore[attr-defined]
            assert response.status_code == 200, (label, url, response.status_code)
    samples: list[list[float]] = [[] for _ in pages]
    cpu: list[list[float]] = [[] for _ in pages]
    queries = [0] * len(pages)
    for _ in range(REQUESTS):
        for i, ((_, _, url), client) in enumerate(zip(pages, clients, strict=True)):
            with CaptureQueriesContext(connection) as captured:
                t, c = time.perf_counter(), time.process_time()
                client.get(url)  # type: ignore[attr-defined]
                samples[i].append((time.perf_counter() - t) * 1000)
                cpu[i].append((time.process_time() - c) * 1000)
            queries[i] = len(captured)
    for i, (label, _, _) in enumerate(pages):
        CPU[label] = statistics.median(cpu[i])
    return [(label, p95(samples[i]), queries[i]) for i, (label, _, _) in enumerate(pages)]


# The median CPU time of this process per request, by page (the application's own work, which
# waits for a CPU under load but does not grow with it; the SQL is timed by `explain`).
CPU: dict[str, float] = {}


def run(
    size: int,
    reuse: bool,
    exports: bool = True,
    explain_only: bool = False,
    all_pages: bool = True,
    xlsx_rows: int = 100_000,
) -> dict[str, tuple[float, int]]:
    seeded = prepare(size, reuse)
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from adjudication.models import Escalation
    from participants.models import Membership, Participant, Role, Site, User

    if seeded is not None:
        print(f"  seeding {size:,} participants: {seeded:.1f} s (target for 100,000: < 180 s)")
    site = Site.objects.get(code="S01")
    monitor, _ = User.objects.get_or_create(username="bench.monitor")
    Membership.objects.get_or_create(user=monitor, role=Role.MONITOR, site=None)
    reviewer, _ = User.objects.get_or_create(username="bench.reviewer")
    Membership.objects.get_or_create(user=reviewer, role=Role.EAC_REVIEWER, site=Site.objects.get(code="S02"))
    coordinator = Membership.objects.filter(site=site, role=Role.COORDINATOR).first().user  # type: ignore[union-attr]
    clients: dict[str, Client] = {}

    def client_of(username: str) -> Client:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        return clients[username]

    participant = (
        Participant.objects.filter(site=site, evaluations__isnull=False).order_by("screening_sequence").last()
    )
    assert participant is not None
    at_site = Participant.objects.filter(site=site).count()
    last_page = max(1, (at_site + 49) // 50)
    escalation = Escalation.objects.exclude(participant__site__code="S02").first()
    dashboard = reverse("participants:list")

    def continued(query: str, rows: object, page: int) -> str:
        """The address of page `page` as the dashboard's Next links give it: the key of the last
        row of the page before (by an offset here, once); past the end, the page number alone."""
        order = ("site_id", "screening_sequence", "attempt")
        before = rows.order_by(*order).values_list(*order)[(page - 1) * 50 - 1 : (page - 1) * 50]  # type: ignore[attr-defined]
        key = ".".join(map(str, before[0])) if before else ""
        return f"{dashboard}?{query}page={page}" + (f"&after={key}" if key else "")

    pages = [
        (
            "baseline: evaluation-status fragment",
            coordinator.username,
            reverse("screening:evaluation_status", args=[participant.pk]),
        ),
        ("dashboard", coordinator.username, dashboard),
        (
            "dashboard filtered, page 20",
            coordinator.username,
            continued(
                "status=INELIGIBLE&cohort=SLE&",
                Participant.objects.filter(site=site, cohort="SLE", screening_state__status="INELIGIBLE"),
                20,
            ),
        ),
        ("dashboard, last page", coordinator.username, f"{dashboard}?page={last_page}"),
        ("search", coordinator.username, f"{dashboard}?q={participant.screening_number[-4:]}"),
        ("monitor's all-site dashboard", monitor.username, dashboard),
        (
            "monitor's all-site dashboard, page 1000",
            monitor.username,
            continued("", Participant.objects.all(), 1000),
        ),
        ("EAC queue", reviewer.username, reverse("adjudication:queue")),
        ("participant page", coordinator.username, reverse("participants:detail", args=[participant.pk])),
    ]
    if escalation is None:
        print("  (no escalation: the EAC queue is empty)")
    if all_pages:
        explain(client_of, pages)
    if explain_only:
        return {}
    measured = pages if all_pages else pages[:1]
    figures = {label: (ms, queries) for label, ms, queries in measure(client_of, measured)}
    base_cpu = CPU["baseline: evaluation-status fragment"]
    print("  | page | CPU per request, median (× baseline) |")
    print("  |---|---|")
    for label, _, _ in measured:
        print(f"  | {label} | {CPU[label]:.1f} ms ({CPU[label] / base_cpu:.1f}×) |")

    # The screening log of the whole population, streamed to the end; the audit trail of every
    # site (a trial-wide monitor's export), its first 1,000,000 rows.
    if not exports:
        return figures
    client = client_of(monitor.username)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for label, url, most in (
        ("screening log CSV", reverse("audit:screening_log", args=["csv"]), None),
        ("audit trail CSV", f"{reverse('audit:audit_trail', args=['csv'])}?start={yesterday}", AUDIT_ROWS),
    ):
        first_byte, first_row, rows, total, peak = stream(client, url, most)
        figures[label] = (total * 1000, rows)
        print(
            f"  {label}, {rows:,} rows: first byte {first_byte * 1000:.0f} ms, first row {first_row * 1000:.0f} ms,"
            f" {total:.1f} s, {rows / total:,.0f} rows/s, peak Python memory {peak / 2**20:.1f} MB over the"
            f" first {MEMORY_ROWS:,} rows (load average {os.getloadavg()[0]:.1f})"
        )
    for label, report, filters in (
        ("screening log XLSX job", "screening-log", {"protocol": ""}),
        ("audit trail XLSX job", "audit-trail", {"screening_number": "", "start": yesterday, "end": ""}),
    ):
        rows, total, cpu, peak = xlsx_job(monitor, report, filters, xlsx_rows)
        figures[label] = (total * 1000, rows)
        print(
            f"  {label}, {rows:,} rows: {total:.1f} s, {rows / total:,.0f} rows/s, {cpu / rows * 1e6:.0f} µs CPU"
            f" a row, peak Python memory {peak / 2**20:.1f} MB over the first {XLSX_MEMORY_ROWS:,} rows"
            f" (load average {os.getloadavg()[0]:.1f})"
        )
    return figures


def xlsx_job(
    monitor: object, report: str, filters: dict[str, str], most: int
) -> tuple[int, float, float, int]:
    """An XLSX export job run in this process as the worker runs it (its first `most` rows), then
    again over XLSX_MEMORY_ROWS rows under tracemalloc: rows, seconds, CPU seconds, peak bytes."""
    import itertools
    import tempfile

    from django.conf import settings

    from audit.export_jobs import participant_scope
    from exports import jobs
    from exports.models import ExportJob, JobStatus
    from participants.models import Role

    registered = jobs.REPORTS[report]

    def run_capped(cap: int) -> ExportJob:
        def capped(job: ExportJob) -> jobs.ReportRows:
            found = registered(job)
            return jobs.ReportRows(found.header, itertools.islice(found.rows, cap), found.sheet_title)

        jobs.REPORTS[report] = capped
        try:
            job = ExportJob.objects.create(
                requested_by=monitor,
                role=Role.MONITOR,
                scope=participant_scope(monitor),  # type: ignore[arg-type]
                report=report,
                basename=report,
                filters=filters,
            )
            job = jobs.run_job(job.pk)
        finally:
            jobs.REPORTS[report] = registered
        assert job.status == JobStatus.DONE, job.error
        jobs.file_path(job).unlink()
        return job

    with tempfile.TemporaryDirectory() as store:
        settings.EXPORT_DIR = store
        t, c = time.perf_counter(), time.process_time()
        job = run_capped(most)
        total, cpu = time.perf_counter() - t, time.process_time() - c
        tracemalloc.start()
        run_capped(XLSX_MEMORY_ROWS)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return job.rows_done, total, cpu, peak


AUDIT_ROWS = 1_000_000
MEMORY_ROWS = 50_000
XLSX_MEMORY_ROWS = 10_000  # openpyxl under tracemalloc is slow; its peak does not grow with rows


def stream(client: object, url: str, most: int | None) -> tuple[float, float, int, float, int]:
    """Read a streamed download: seconds to the first chunk and to the first data row, rows read
    (up to `most`), seconds, and the peak of Python memory (tracemalloc, which slows Python down:
    a second pass over the first MEMORY_ROWS rows)."""
    first_byte, first_row, rows, total = _consume(client, url, most)
    tracemalloc.start()
    _consume(client, url, MEMORY_ROWS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return first_byte, first_row, rows, total, peak


def _consume(client: object, url: str, most: int | None) -> tuple[float, float, int, float]:
    t = time.perf_counter()
    response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200, (url, response.status_code)
    first_byte = first_row = 0.0
    lines = 0
    for chunk in response.streaming_content:
        if not first_byte:
            first_byte = time.perf_counter() - t
        lines += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        if not first_row and lines > 1:
            first_row = time.perf_counter() - t
        if most is not None and lines > most:
            break
    response.close()
    return first_byte, first_row, lines - 1, time.perf_counter() - t


def main() -> int:
    global REQUESTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, nargs="+", default=[10_000])
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded")
    parser.add_argument("--pages-only", action="store_true", help="leave out the exports")
    parser.add_argument(
        "--explain", action="store_true", help="only the pages' statements under EXPLAIN ANALYZE"
    )
    parser.add_argument(
        "--exports-only", action="store_true", help="only the baseline fragment and the exports"
    )
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="rows of each XLSX job measured")
    parser.add_argument("--requests", type=int, default=100, help="requests of each page measured")
    args = parser.parse_args()
    REQUESTS = args.requests
    import django

    django.setup()
    print(f"Pages at scale (p95 of {REQUESTS} requests, in process; load average {os.getloadavg()[0]:.1f})")
    table: dict[int, dict[str, tuple[float, int]]] = {}
    for size in args.participants:
        print(f"{size:,} participants over 10 sites")
        table[size] = run(
            size,
            args.reuse,
            exports=not args.pages_only,
            explain_only=args.explain,
            all_pages=not args.exports_only,
            xlsx_rows=args.xlsx_rows,
        )
    if args.explain:
        return 0
    sizes = list(table)
    print()
    print("| page | " + " | ".join(f"{s:,}: p95 (× baseline, queries)" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for label in table[sizes[0]]:
        if label.endswith((" CSV", " job")):
            continue
        cells = []
        for s in sizes:
            ms, queries = table[s][label]
            base = table[s]["baseline: evaluation-status fragment"][0]
            cells.append(f"{ms:.1f} ms ({ms / base:.1f}×, {queries})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
