"""Lab staging benchmark: a real import (labimport.services.stage_file) of generated FHIR NDJSON
files of 1,000 and 10,000 Observations into PostgreSQL, with 500 participants known by their
hospital identifiers. Reports wall time and the peak of Python memory (tracemalloc) per file.

Needs DATABASE_URL (`make bench` provides it). Works in its own database (<name>_labbench,
recreated each run). Each measurement stages the file for a fresh site, so that every row is
new (a second import of the same file at the same site would only find duplicates).

    python bench/labstaging_bench.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reeval_bench import bench_database_url, recreate_database  # noqa: E402

os.environ["DATABASE_URL"] = bench_database_url("_labbench")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ["CACHE_KEY_PREFIX"] = "allo329-labbench"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
recreate_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from labimport_bench import write_file  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from labimport.matching import site_dry_run  # noqa: E402
from labimport.models import BatchOrigin, HospitalIdentifier  # noqa: E402
from labimport.services import STAGE_CHUNK, site_zone, stage_file  # noqa: E402
from participants.models import Membership, Participant, Role, Site, User  # noqa: E402

PATIENTS = 500


def site_with_patients(code: str, coordinator: User) -> Site:
    """A site whose 500 participants carry the identifiers the generated files use (H-0000…)."""
    site = Site.objects.create(code=code, name=f"Bench {code}")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    people = Participant.objects.bulk_create(
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
    HospitalIdentifier.objects.bulk_create(
        HospitalIdentifier(
            site=site, participant=p, system="urn:oid:1.2.3", value=f"H-{n:04d}", recorded_by=coordinator
        )
        for n, p in enumerate(people)
    )
    return site


def dry_run_seconds(site: Site, path: Path) -> float:
    """The baseline: the same file read and decided for a site, nothing written."""
    zone, zone_name = site_zone(site)
    start = time.perf_counter()
    run = site_dry_run(site, str(path), zone=zone, zone_name=zone_name)
    for _ in run.rows:
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the largest")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    coordinator = User.objects.create(username="bench.coordinator")
    sites = iter(f"B{n:02d}" for n in range(1, 100))
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"{'observations':>12} {'file MB':>8} {'wall s':>7} {'rows/s':>8} {'peak MB':>8} {'B/obs':>6}"
            f" {'dry run s':>9} {'× dry run':>9}"
        )
        for size in args.sizes:
            path = Path(folder) / f"labs-{size}.ndjson"
            write_file(path, size)
            profiler = Profiler() if args.profile and size == max(args.sizes) else None
            if profiler:
                profiler.start()
            start = time.perf_counter()
            batch = stage_file(
                coordinator,
                site_with_patients(next(sites), coordinator),
                str(path),
                file_name=path.name,
                origin=BatchOrigin.COMMAND,
            )
            wall = time.perf_counter() - start
            if profiler:
                profiler.stop()
                print(profiler.output_text(show_all=False))
            assert batch.rows_done == size, batch
            tracemalloc.start()
            stage_file(
                coordinator,
                site_with_patients(next(sites), coordinator),
                str(path),
                file_name=path.name,
                origin=BatchOrigin.COMMAND,
            )
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            baseline = dry_run_seconds(site_with_patients(next(sites), coordinator), path)
            megabytes = os.path.getsize(path) / 1e6
            print(
                f"{size:>12,} {megabytes:>8.1f} {wall:>7.2f} {size / wall:>8,.0f} {peak / 1e6:>8.2f} {peak / size:>6,.0f}"
                f" {baseline:>9.2f} {wall / baseline:>9.1f}"
            )
        print(
            f"Rows are decided and written (COPY) {STAGE_CHUNK:,} at a time, against the earlier imports "
            "of that window only: memory is bounded by the window, not by the file. Baseline: the dry "
            "run of the same file (reading and deciding, nothing written), in the same run."
        )


if __name__ == "__main__":
    main()
