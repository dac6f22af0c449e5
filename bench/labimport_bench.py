"""Lab import benchmark: the dry run of generated FHIR NDJSON files of 1,000 and 10,000 Observations.

Reports wall and CPU time and the peak of Python memory (tracemalloc) while the file is read,
decided and written out (to a sink). NDJSON is read line by line and rows are written as they
are decided, so the file and its rows are never held whole; what remains is the bookkeeping of
§ 10 (each source seen and each result's latest version), a few hundred bytes per result.
Target: 10,000 Observations in under 10 s.

    .venv/bin/python bench/labimport_bench.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from labimport.dryrun import dry_run, to_json, write_json  # noqa: E402

LAB = [
    {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
        ]
    }
]
# (LOINC, value, unit, high): a mix of counts, chemistry with a ULN, and qualitative results.
RESULTS = [
    ("751-8", "2.4", "10*3/uL", None),
    ("777-3", "210", "10*9/L", None),
    ("718-7", "12.9", "g/dL", None),
    ("14682-9", "88", "umol/L", None),
    ("2157-6", "512", "U/L", "308"),
    ("1988-5", "12", "mg/L", "5"),
    ("5196-1", None, None, None),
    ("2339-0", "94", "mg/dL", None),
]


def observation(n: int, rng: random.Random, results: int | None) -> dict[str, object]:
    code, value, unit, high = RESULTS[n % len(RESULTS)]
    # Every result comes twice, a preliminary then its final version; with `results`, the file
    # cycles over that many results, each sent again in ever newer versions.
    number = n // 2 if results is None else (n // 2) % results
    version = 1 + n % 2 if results is None else 1 + n // results
    obs: dict[str, object] = {
        "resourceType": "Observation",
        "id": f"lab-{number}",
        "meta": {"versionId": str(version)},
        "status": "final" if n % 2 else "preliminary",
        "category": LAB,
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": "generated"}]},
        "subject": {"identifier": {"system": "urn:oid:1.2.3", "value": f"H-{rng.randrange(500):04d}"}},
        "effectiveDateTime": f"2025-06-{1 + n % 28:02d}T08:15:00-05:00",
        "issued": "2025-06-03T11:42:10.513-05:00",
    }
    if value is None:
        obs["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]}
    else:
        quantity = {
            "value": Decimal(value),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        }
        obs["valueQuantity"] = quantity
        if high is not None:
            obs["referenceRange"] = [{"high": {"value": Decimal(high), "unit": unit}}]
    return obs


def write_file(path: Path, count: int, results: int | None = None) -> None:
    rng = random.Random(329)
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            handle.write(to_json(observation(n, rng, results)) + "\n")


class Sink(io.TextIOBase):
    """Counts what the dry run writes without keeping it."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def run_once(path: Path) -> int:
    run = dry_run(
        str(path), site="S01", zone=ZoneInfo("UTC"), zone_name="UTC", participant_of=lambda identifier: None
    )
    sink = Sink()
    write_json(run, sink)
    return sink.chars


def measure(path: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, peak traced bytes) of a dry run of `path`.

    Timed without tracing (tracemalloc slows Python code several times), then run again traced.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    run_once(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tracemalloc.start()
    run_once(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    runs = [(size, None) for size in args.sizes] + [(max(args.sizes), 400)]
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"{'observations':>12} {'results':>8} {'file MB':>8} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'B/obs':>6}"
        )
        for size, results in runs:
            path = Path(folder) / f"labs-{size}-{results}.ndjson"
            write_file(path, size, results)
            measure(path)  # warm-up: imports and caches are not the file's cost
            wall, cpu, peak = measure(path)
            megabytes = os.path.getsize(path) / 1e6
            distinct = f"{results:,}" if results else f"{(size + 1) // 2:,}"
            print(
                f"{size:>12,} {distinct:>8} {megabytes:>8.1f} {wall:>7.2f} {cpu:>7.2f} {peak / 1e6:>8.2f}"
                f" {peak / size:>6,.0f}"
            )
        print(
            "Neither the file nor its rows are held: peak memory is the bookkeeping of README § 10,"
            " one entry per distinct version (duplicates) and per distinct result (latest version)."
        )


if __name__ == "__main__":
    main()
