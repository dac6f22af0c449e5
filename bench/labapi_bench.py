"""Lab API benchmark: `POST /api/labs/` with 100, 1,000 and 5,000 rows for a site of 500
participants, through the whole request (token, JSON, checks, records, history, marks, the
re-evaluation messages after commit), against PostgreSQL and Redis. The batch is done in the
request here (LAB_API_SYNC_MAX_ROWS raised) so that the work a worker would do is timed; above that
setting the API answers 202 and a worker runs the same function.

Baseline, measured in the same run: the same rows inserted with one bulk_create (no checks, no
history, no marks), the floor of any import. Cost per row at each size shows whether it is linear.

Needs DATABASE_URL and REDIS_URL (`make bench` provides them). Works in its own database
(<name>_labapibench, recreated each run) and its own queue, emptied at the end.

    python bench/labapi_bench.py [--sizes 100 1000 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reeval_bench import bench_database_url, recreate_database  # noqa: E402

QUEUE = "allo329-labapibench"
os.environ["DATABASE_URL"] = bench_database_url("_labapibench")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE
os.environ["CACHE_KEY_PREFIX"] = "allo329-labapibench"
os.environ["LAB_API_SYNC_MAX_ROWS"] = "1000000"
os.environ["LAB_API_RATE"] = "1000/m"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
recreate_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from api.models import ApiToken  # noqa: E402
from config.celery import app  # noqa: E402
from participants.models import LabResult, Membership, Participant, Role, Site, User  # noqa: E402

PATIENTS = 500
ALLOWED_HOST = "127.0.0.1"


def site_with_participants(code: str, coordinator: User) -> list[Participant]:
    site = Site.objects.create(code=code, name=f"Bench {code}")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    return Participant.objects.bulk_create(
        Participant(
            site=site,
            screening_sequence=n + 1,
            screening_number=f"{code}-{n + 1:04d}",
            cohort="SLE",
            lupus_nephritis=False,
            sex="F",
            birth_date=date(1987, 9, 14),
            created_by=coordinator,
        )
        for n in range(PATIENTS)
    )


def rows(people: list[Participant], size: int) -> list[dict[str, object]]:
    first = date.today() - timedelta(days=60)
    return [
        {
            "screening_number": people[n % len(people)].screening_number,
            "test": "anc",
            "value": 1500 + n % 700,
            "unit": "/uL",
            "collected": (first + timedelta(days=n // len(people) % 60)).isoformat(),
        }
        for n in range(size)
    ]


def floor_seconds(coordinator: User, people: list[Participant], size: int) -> float:
    """The same rows as plain INSERTs: one bulk_create, no checks, history or marks."""
    start = time.perf_counter()
    LabResult.objects.bulk_create(
        (
            LabResult(
                participant=people[n % len(people)],
                test="anc",
                value_number=Decimal(1500 + n % 700),
                unit="/uL",
                collected=date.today() - timedelta(days=1),
                entered_by=coordinator,
            )
            for n in range(size)
        ),
        batch_size=1000,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the largest")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    cache.clear()
    coordinator = User.objects.create(username="bench.coordinator")
    _, token = ApiToken.issue(coordinator, "bench")
    client = Client(HTTP_HOST=ALLOWED_HOST)
    sites = iter(f"A{n:02d}" for n in range(1, 100))
    warm = site_with_participants(next(sites), coordinator)  # imports, schema, connections
    headers = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.post("/api/labs/", data=json.dumps({"rows": rows(warm, 20)}), **headers).status_code == 201
    print(f"{'rows':>6} {'wall s':>7} {'ms/row':>7} {'floor s':>8} {'× floor':>8}")
    results = []
    try:
        for size in args.sizes:
            people = site_with_participants(next(sites), coordinator)
            body = json.dumps({"rows": rows(people, size)})
            profiler = Profiler() if args.profile and size == max(args.sizes) else None
            if profiler:
                profiler.start()
            start = time.perf_counter()
            response = client.post("/api/labs/", data=body, **headers)
            wall = time.perf_counter() - start
            if profiler:
                profiler.stop()
                print(profiler.output_text(show_all=False))
            assert response.status_code == 201, response.content[:500]
            assert response.json()["saved"] == size
            floor = floor_seconds(coordinator, site_with_participants(next(sites), coordinator), size)
            results.append((size, wall))
            print(f"{size:>6,} {wall:>7.2f} {wall / size * 1000:>7.2f} {floor:>8.3f} {wall / floor:>8.1f}")
    finally:
        app.control.purge()
    (small, small_wall), (large, large_wall) = results[0], results[-1]
    print(
        f"cost per row at {large:,} rows / at {small:,} rows: "
        f"{(large_wall / large) / (small_wall / small):.2f} (1.0 = linear); target: {large:,} rows under 5 s"
    )


if __name__ == "__main__":
    main()
