"""Audit trail page benchmark: the participant's trail page (first page, default record types)
at 10,000 and then 100,000 participants in one database, whose history tables grow with them.
The page reads only the participant's own events through indexed columns, so its time must not
grow with the population; the ratio of the two p95 figures is the result.

The measured participants are an example case (sle-eligible) entered through the services, with
a correction and two evaluations each; every other participant gets a copy of the first one's
history events (those of evaluations left out: the stored cases are large), written in bulk into the event tables. Works in the re-evaluation benchmark's
database (<name>_bench, recreated).

    python bench/trail_bench.py [--sizes 10000 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date
from decimal import Decimal

from reeval_bench import ROOT, recreate_database  # noqa: E402

EXAMPLE = ROOT / ".." / "shared" / "cases" / "sle-eligible.json"
MEASURED = 5  # participants entered through the services, among the population


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from audit import trail
    from audit.models import EVENT_MODELS
    from participants import services
    from participants.case_import import import_case
    from participants.models import LabResult, Membership, Participant, Role, Site, User
    from screening.evaluation import evaluate_participant
    from screening.models import Evaluation, Trigger

    setup_test_environment()  # the test client's host, and the rendered context for the checks
    connections.close_all()
    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="BEN", name="Bench site")
    coordinator = User.objects.create(username="bench.coord")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR, site=site)
    case = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    case["dates"]["as_of"] = date.today().isoformat()
    measured = []
    for _ in range(MEASURED):
        p = import_case(coordinator, site, case)
        evaluate_participant(p.pk, trigger=Trigger.MANUAL, detail="bench", user=coordinator)
        lab = LabResult.objects.filter(participant=p, state="current").first()
        if lab is not None and lab.value_number is not None:
            services.correct_record(
                coordinator, lab, reason="transcription error", value_number=lab.value_number + 1
            )
        evaluate_participant(p.pk, trigger=Trigger.MANUAL, detail="bench", user=coordinator)
        measured.append(p)
    first = measured[0]
    client = Client()
    client.force_login(coordinator)

    def columns(model: type, *leave_out: str) -> list[str]:
        fields = model._meta.concrete_fields  # type: ignore[attr-defined]
        return [f.column for f in fields if f.column not in leave_out]

    def seed(up_to: int) -> None:
        """Participants copied in SQL, and their history written straight into the event tables
        (copies of a measured participant's events, under negative record IDs): the tables the page
        reads grow as they would, without running a trigger per clinical record."""
        t = time.perf_counter()
        have = Participant.objects.count()
        if up_to <= have:
            return
        last = Participant.objects.order_by("-pk").values_list("pk", flat=True).first()
        kept = columns(Participant, "id", "screening_sequence", "screening_number")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO participants_participant ({', '.join(kept)}, screening_sequence, screening_number)"
                f" SELECT {', '.join('t.' + c for c in kept)}, 1000 + g, 'BEN-' || lpad(g::text, 7, '0')"
                " FROM participants_participant t CROSS JOIN generate_series(%s, %s) g WHERE t.id = %s",
                [have, up_to - 1, first.pk],
            )
            for model in EVENT_MODELS.values():
                # Evaluations are left out: their stored case would make the copies gigabytes.
                if model is EVENT_MODELS[Evaluation] or "participant_id" not in {
                    f.column for f in model._meta.concrete_fields
                }:
                    continue
                kept = columns(model, "pgh_id", "pgh_obj_id", "participant_id")
                table = model._meta.db_table
                # Each copy's own record IDs, a correction pointing to its own superseded copy.
                values = [f"-(p.id * 100000 + e.{c})" if c == "supersedes_id" else f"e.{c}" for c in kept]
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(kept)}, pgh_obj_id, participant_id)"
                    f" SELECT {', '.join(values)}, -(p.id * 100000 + e.pgh_obj_id), p.id"
                    f" FROM {table} e CROSS JOIN participants_participant p"
                    " WHERE e.participant_id = %s AND p.id > %s",
                    [first.pk, last],
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SELECT count(*) FROM audit_labresultevent")
            lab_events = cursor.fetchone()[0]
        print(
            f"  {up_to} participants ({lab_events} lab result events) seeded in {time.perf_counter() - t:.0f} s"
        )

    def measure(size: int) -> float:
        urls = [reverse("audit:participant", args=[p.pk]) for p in measured]
        for url in urls:
            client.get(url)  # warm
        times = []
        for n in range(args.requests):
            t = time.perf_counter()
            response = client.get(urls[n % len(urls)])
            times.append(time.perf_counter() - t)
            assert response.status_code == 200 and response.context["page"].total > 0
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"  {size} participants: trail page p50 {statistics.median(times) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms ({args.requests} requests, {os.getloadavg()[0]:.2f} load)"
        )
        print(f"    trail statements: {explain(first)}")
        return p95

    def explain(participant: Participant) -> str:
        """The blocks PostgreSQL reads for the page's two trail statements (load-independent:
        the same count at any population means the same work) and any sequential scan."""
        sources = trail._chosen(None)
        keys_sql, keys_params = trail._keys_query(sources, participant, None, None)
        keys_sql += " ORDER BY k.pgh_recorded_at, k.record_type, k.pgh_id LIMIT 50"
        with connection.cursor() as cursor:
            cursor.execute(keys_sql, keys_params)
            ids: dict[str, list[int]] = {}
            for record_type, pgh_id, _ in cursor.fetchall():
                ids.setdefault(record_type, []).append(pgh_id)
            rows_sql, rows_params = trail._query(
                [s for s in sources if s.key in ids],
                participant_scope=None,
                start=None,
                end=None,
                ids=ids,
                readable=True,
            )
            blocks, scans = 0, set()
            for sql, params in ((keys_sql, keys_params), (rows_sql, rows_params)):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                top = plan[0]["Plan"]
                blocks += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)

                def walk(node: dict) -> None:  # type: ignore[type-arg]
                    if node.get("Node Type") == "Seq Scan":
                        scans.add(node.get("Relation Name", "?"))
                    for child in node.get("Plans", []):
                        walk(child)

                walk(top)
        return f"{blocks} blocks read, sequential scans: {', '.join(sorted(scans)) or 'none'}"

    print(f"Audit trail page benchmark ({os.cpu_count()} CPUs)")
    results = []
    for size in sorted(args.sizes):
        seed(size)
        results.append((size, measure(size)))
    base_size, base = results[0]
    for size, p95 in results[1:]:
        print(f"  p95 at {size} / p95 at {base_size}: {p95 / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
