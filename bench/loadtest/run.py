"""The load test (`make loadtest`): the production shape under 50 coordinators and 5 EAC reviewers.

    python -m config.devstack exec -- .venv/bin/python bench/loadtest/run.py [--participants 10000]
        [--duration 3m] [--coordinators 50] [--reviewers 5]

Uses the PostgreSQL and Redis named by DATABASE_URL / REDIS_URL (devstack's embedded ones when
run through `config.devstack exec` without them). Steps:

1. Migrate; seed the population (`seed_population N --sites 10`) unless the database already
   holds N participants (then it is reused); create the load-test users with their TOTP devices
   (`seed_loadtest_users`, a development command).
2. Start gunicorn (3 workers, as the Dockerfile and docker-compose run it), a Celery worker
   (2 processes) and Celery beat, with production settings (DEBUG off; cookies over plain HTTP,
   as there is no TLS proxy here). Wait until `/healthz` sees the worker and no re-evaluation is
   pending (a reused database may have results that expired since its seeding: the sweep's drain
   is not part of the measurement).
3. Run locust headless (bench/loadtest/locustfile.py) for the duration, sampling the load average.
4. Wait for the re-evaluations to drain, then check: no request failed; p95 ≤ 300 ms for every
   request name; every save evaluated within 5 s of its response (each save raises the
   participant's data version by one: the first stored evaluation or confirmation whose data
   version reaches it covers it); nothing lost (each participant's data version rose by its saves,
   the lab results and signatures in the database are the ones locust counted); then
   `verify_evaluations` over every participant.
5. Stop everything it started, print the figures (also written to .var/loadtest/summary.json) and
   exit 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
OUT = Path(os.environ.get("LOADTEST_DIR", ROOT / ".var" / "loadtest"))
PYTHON = sys.executable
BIN = Path(PYTHON).parent

P95_TARGET_MS = 300.0
EVALUATED_WITHIN_S = 5.0

os.environ.setdefault("DJANGO_SECRET_KEY", "loadtest-" + secrets.token_urlsafe(24))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def log(text: str) -> None:
    print(f"[loadtest {datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_database() -> None:
    """Create the database DATABASE_URL names when it does not exist yet."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"] or None, "user": db["USER"], "password": db["PASSWORD"]}
    with psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            log(f"creating database {db['NAME']}")
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def prepare(participants: int, sites: int, coordinators_per_site: int, reviewers: int) -> dict[str, Any]:
    """Migrate, seed or reuse, create the users. Runs with DEBUG on (the users' command needs it)."""
    from django.core.management import call_command

    from participants.models import Participant

    ensure_database()
    call_command("migrate", "--no-input", verbosity=0)
    have = Participant.objects.count()
    seeded: dict[str, Any] = {"reused": have >= participants, "participants_before": have}
    if have < participants:
        log(f"seeding {participants - have} participants over {sites} sites (load {loadavg()})")
        started = time.monotonic()
        call_command("seed_population", str(participants - have), "--sites", str(sites))
        seeded["seconds"] = round(time.monotonic() - started, 1)
    else:
        log(f"reusing the {have} participants already there")
    seeded["marked_unevaluated"] = mark_unevaluated()
    call_command(
        "seed_loadtest_users",
        "--out",
        str(OUT / "users.json"),
        "--coordinators-per-site",
        str(coordinators_per_site),
        "--reviewers",
        str(reviewers),
    )
    return seeded


def mark_unevaluated() -> int:
    """Mark for re-evaluation the participants in screening whose data was never evaluated and
    that nothing marks (the seeding leaves its registered-only participants so, where the app's
    registration would have evaluated them): the worker evaluates them before the measurement."""
    from django.db import transaction
    from django.db.models import F

    from participants.models import OutcomeStatus
    from screening.models import ScreeningState
    from screening.services import request_reevaluations

    ids = list(
        ScreeningState.objects.filter(
            outcome=OutcomeStatus.IN_SCREENING, reevaluation_requested_at__isnull=True
        )
        .exclude(evaluated_version=F("participant__data_version"))
        .values_list("participant_id", flat=True)
    )
    if ids:
        log(f"marking {len(ids)} participants whose data was never evaluated")
        with transaction.atomic():
            request_reevaluations(ids, reason="data never evaluated (before the load test)")
    return len(ids)


class Stack:
    """gunicorn, the Celery worker and beat, each in its own process group."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            DJANGO_DEBUG="false",
            DJANGO_SECURE_COOKIES="false",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
        )
        self.env = env
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        celery = [str(BIN / "celery"), "-A", "config"]
        commands = {
            # As the Dockerfile and docker-compose.yml run them.
            "web": [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "3",
                "--access-logfile",
                str(OUT / "access.log"),
                # The time the worker spent on each request (µs), without the wait for a free worker.
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(D)s',
            ],
            "worker": celery + ["worker", "--loglevel", "WARNING", "--concurrency", "2"],
            "beat": celery
            + ["beat", "--loglevel", "WARNING", "--schedule", str(OUT / "celerybeat-schedule")],
        }
        (OUT / "access.log").unlink(missing_ok=True)
        for name, command in commands.items():
            with (OUT / f"{name}.log").open("wb") as logfile:
                self.children[name] = subprocess.Popen(
                    command,
                    env=self.env,
                    cwd=ROOT,
                    stdout=logfile,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        log("started " + ", ".join(f"{n} (pid {c.pid})" for n, c in self.children.items()))

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, child in self.children.items():
                if child.poll() is not None:
                    raise SystemExit(f"{name} exited with {child.returncode}: see {OUT / (name + '.log')}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as response:
                    if json.load(response).get("status") == "ok":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(1)
        raise SystemExit("the stack did not become ready (healthz with a worker)")

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU of each child and its descendants so far."""
        import psutil

        out = {}
        for name, child in self.children.items():
            total = 0.0
            try:
                process = psutil.Process(child.pid)
                for p in [process, *process.children(recursive=True)]:
                    t = p.cpu_times()
                    total += t.user + t.system
            except psutil.Error:
                pass
            out[name] = total
        return out

    def stop(self) -> None:
        for child in reversed(self.children.values()):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        log("stopped gunicorn, the worker and beat")


def pending_count(participant_ids: list[int] | None = None) -> int:
    from participants.models import OutcomeStatus
    from screening.models import ScreeningState

    qs = ScreeningState.objects.filter(
        reevaluation_requested_at__isnull=False, outcome=OutcomeStatus.IN_SCREENING
    )
    if participant_ids is not None:
        qs = qs.filter(participant_id__in=participant_ids)
    return qs.count()


def wait_drained(timeout: float, participant_ids: list[int] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    left = pending_count(participant_ids)
    while left and time.monotonic() - started < timeout:
        time.sleep(2)
        left = pending_count(participant_ids)
    return left, time.monotonic() - started


class LoadSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(10):
            self.samples.append(os.getloadavg()[0])


def seconds_of(duration: str) -> int:
    """Locust's run-time syntax (3m, 90s, 1h30m) in seconds."""
    total, number = 0, ""
    for ch in duration:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    return total + int(number or 0)


def run_locust(url: str, duration: str, coordinators: int, reviewers: int, spawn_rate: float) -> int:
    """Users start at `spawn_rate` a second and log in; once all have started, locust resets its
    statistics (the ramp's, with most logins, are kept in ramp.json) and runs `duration` more."""
    env = dict(os.environ)
    env.update(
        LOADTEST_USERS=str(OUT / "users.json"),
        LOADTEST_SAVES=str(OUT / "saves.jsonl"),
        LOADTEST_RAMP=str(OUT / "ramp.json"),
        LOADTEST_FINAL=str(OUT / "final.json"),
        LOADTEST_COORDINATORS=str(coordinators),
        LOADTEST_REVIEWERS=str(reviewers),
    )
    users = coordinators + reviewers
    run_time = seconds_of(duration) + int(users / spawn_rate) + 1
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "loadtest" / "locustfile.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{run_time}s",
        "--reset-stats", "--host", url, "--csv", str(OUT / "locust"), "--only-summary",
        "--stop-timeout", "60", "--loglevel", "WARNING",
    ]  # fmt: skip
    log(
        f"locust: {coordinators} coordinators and {reviewers} reviewers, {duration} after a {users / spawn_rate:.0f} s ramp"
    )
    with (OUT / "locust.log").open("wb") as logfile:
        return subprocess.call(command, env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT)


def password_check_ms(rounds: int = 5) -> float:
    """Wall time of one check of a password with the deployed hasher (deliberately slow): part of
    every login and signature, measured at the machine's present load."""
    from django.contrib.auth.hashers import check_password, make_password

    hashed = make_password("measure")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        check_password("measure", hashed)
        times.append(1000 * (time.perf_counter() - started))
    return round(statistics.median(times), 1)


def locust_stats() -> list[dict[str, Any]]:
    """Locust's statistics as the locustfile wrote them when it quit (its CSV can miss the
    requests finished while the users stop)."""
    final = OUT / "final.json"
    if final.exists() and (data := json.loads(final.read_text())).get("requests"):
        return list(data["requests"])
    rows = []
    with (OUT / "locust_stats.csv").open() as f:
        for row in csv.DictReader(f):
            rows.append(
                {
                    "name": row["Name"],
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50": float(row["50%"] or 0),
                    "p95": float(row["95%"] or 0),
                    "max": float(row["Max Response Time"] or 0),
                }
            )
    return rows


def failures() -> list[str]:
    path = OUT / "locust_failures.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return [f"{r['Method']} {r['Name']}: {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(f)]


ACCESS_NAMES = [
    (re.compile(p), method, name)
    for p, method, name in (
        (r"^/login/$", "GET", "login page"),
        (r"^/login/$", "POST", "login"),
        (r"^/$", "GET", "home"),
        (r"^/participants/\?.*\bq=", "GET", "dashboard search"),
        (r"^/participants/\?.*\bstatus=", "GET", "dashboard filtered"),
        (r"^/participants/\?page=", "GET", "dashboard page"),
        (r"^/participants/$", "GET", "dashboard"),
        (r"^/participants/\d+/$", "GET", "participant page"),
        (r"^/participants/\d+/records/lab/new/", "GET", "record form"),
        (r"^/participants/\d+/records/lab/new/", "POST", "record save"),
        (r"^/participants/\d+/preview/lab/$", "POST", "live panel"),
        (r"^/screening/participants/\d+/evaluation-status/$", "GET", "evaluation status"),
        (r"^/eac/(\?.*)?$", "GET", "EAC queue"),
        (r"^/eac/escalations/\d+/$", "GET", "review page"),
        (r"^/eac/escalations/\d+/claim/$", "POST", "claim"),
        (r"^/eac/escalations/\d+/sign/$", "POST", "sign"),
    )
]
ACCESS_LINE = re.compile(
    r'^\[(?P<t>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) (?P<us>\d+)$'
)


def server_times(since: float) -> dict[str, dict[str, float]]:
    """From gunicorn's access log: per request name, p50 and p95 of the time a worker spent on the
    request (what locust measures less the wait for a free worker), for requests from `since` on."""
    times: dict[str, list[float]] = {}
    for line in (OUT / "access.log").read_text().splitlines():
        m = ACCESS_LINE.match(line)
        if not m:
            continue
        at = datetime.strptime(m["t"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        if at < since:
            continue
        name = next(
            (n for rx, method, n in ACCESS_NAMES if method == m["method"] and rx.match(m["path"])), None
        )
        if name:
            times.setdefault(name, []).append(int(m["us"]) / 1000)
    out = {}
    for name, values in sorted(times.items()):
        values.sort()
        out[name] = {
            "count": len(values),
            "p50": round(statistics.median(values), 1),
            "p95": round(values[int(0.95 * (len(values) - 1))], 1),
        }
    return out


def check_saves(before: dict[int, int], started: datetime) -> dict[str, Any]:
    """Every save's evaluation lag, and that nothing was lost."""
    from participants.models import LabResult, Participant
    from screening.models import Confirmation, Evaluation

    saves: dict[int, list[dict[str, Any]]] = {}
    lines = (OUT / "saves.jsonl").read_text().splitlines()
    attempted = len(lines)
    for line in lines:
        s = json.loads(line)
        if s["saved"]:
            saves.setdefault(s["participant"], []).append(s)
    ids = sorted(saves)
    covered: dict[int, list[tuple[int, float]]] = {pk: [] for pk in ids}
    for pk, version, at in Evaluation.objects.filter(
        participant_id__in=ids, created_at__gte=started
    ).values_list("participant_id", "data_version", "created_at"):
        covered[pk].append((version, at.timestamp()))
    for pk, version, at in Confirmation.objects.filter(
        evaluation__participant_id__in=ids, confirmed_at__gte=started
    ).values_list("evaluation__participant_id", "data_version", "confirmed_at"):
        covered[pk].append((version, at.timestamp()))
    now_versions = dict(Participant.objects.filter(pk__in=ids).values_list("pk", "data_version"))
    lags: list[float] = []
    never: list[str] = []
    lost: list[str] = []
    for pk in ids:
        ordered = sorted(saves[pk], key=lambda s: s["responded"])
        if now_versions[pk] != before[pk] + len(ordered):
            lost.append(
                f"participant {pk}: data version {before[pk]} → {now_versions[pk]} for {len(ordered)} saves"
            )
        for i, s in enumerate(ordered, start=1):
            times = [at for version, at in covered[pk] if version >= before[pk] + i]
            if not times:
                never.append(f"participant {pk}, save {i}")
                continue
            # An evaluation stored before the response (the save evaluates at once) has waited 0 s.
            lags.append(max(0.0, min(times) - s["responded"]))
    saved = sum(len(v) for v in saves.values())
    # What the coordinator's page saw: the status fragment's first HX-Refresh after the response.
    seen = sorted(
        s["evaluation_seen"] - s["responded"] for v in saves.values() for s in v if s["evaluation_seen"]
    )
    in_db = LabResult.objects.filter(
        entered_at__gte=started, entered_by__username__startswith="lt.coord."
    ).count()
    if in_db != saved:
        lost.append(f"{saved} saves answered as saved, {in_db} lab results entered by load-test users")
    lags.sort()
    return {
        "attempted": attempted,
        "saved": saved,
        "participants": len(ids),
        "lag_p50_s": round(statistics.median(lags), 3) if lags else None,
        "lag_p95_s": round(lags[int(0.95 * (len(lags) - 1))], 3) if lags else None,
        "lag_max_s": round(lags[-1], 3) if lags else None,
        "over_5s": sum(lag > EVALUATED_WITHIN_S for lag in lags),
        "page_saw_p95_s": round(seen[int(0.95 * (len(seen) - 1))], 3) if seen else None,
        "page_saw_max_s": round(seen[-1], 3) if seen else None,
        "page_never_saw": saved - len(seen),
        "before_response": sum(lag == 0.0 for lag in lags),
        "never_evaluated": never[:10],
        "never_count": len(never),
        "lost": lost[:10],
        "lost_count": len(lost),
    }


def check_signatures(started: datetime, signs_ok: int) -> dict[str, Any]:
    from adjudication.models import EscalationDecision, Signature

    signed = Signature.objects.filter(signed_at__gte=started, signer__username__startswith="lt.eac.").count()
    decisions = EscalationDecision.objects.filter(decided_at__gte=started).count()
    return {"signed_in_db": signed, "signed_by_locust": signs_ok, "decisions": decisions}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--coordinators", type=int, default=50)
    parser.add_argument("--reviewers", type=int, default=5)
    parser.add_argument("--duration", default="3m", help="measured time, after the ramp")
    parser.add_argument("--spawn-rate", type=float, default=1.0, help="users started per second")
    parser.add_argument("--settle", type=float, default=600, help="seconds to wait for a pending drain first")
    parser.add_argument(
        "--database-suffix", default="", help="work in DATABASE_URL's database name + this suffix (created)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.database_suffix:
        parts = urlsplit(os.environ["DATABASE_URL"])
        name = unquote(parts.path.lstrip("/")) + args.database_suffix
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + quote(name)))

    os.environ["DJANGO_DEBUG"] = "true"  # the set-up commands only; the servers run with it off
    import django

    django.setup()
    from django.db import connection

    from participants.models import Participant

    log(f"load average {loadavg()}")
    seeding = prepare(args.participants, args.sites, args.coordinators // args.sites, args.reviewers)
    connection.close()
    del os.environ["DJANGO_DEBUG"]
    stack = Stack(free_port())
    summary: dict[str, Any] = {"seeding": seeding, "participants": Participant.objects.count()}
    code = 1
    try:
        stack.start()
        stack.wait_ready()
        left, waited = wait_drained(args.settle)
        log(f"ready at {stack.url}; {left} re-evaluations pending after {waited:.0f} s (load {loadavg()})")
        summary["pending_at_start"] = left
        before = dict(Participant.objects.values_list("pk", "data_version"))
        started = datetime.now(UTC)
        cpu_before = stack.cpu_seconds()
        sampler = LoadSampler()
        sampler.start()
        summary["load_before"] = loadavg()
        summary["password_check_ms"] = password_check_ms()
        locust_code = run_locust(stack.url, args.duration, args.coordinators, args.reviewers, args.spawn_rate)
        summary["password_check_ms_after"] = password_check_ms()
        sampler.stopped.set()
        cpu = {k: round(v - cpu_before.get(k, 0.0), 1) for k, v in stack.cpu_seconds().items()}
        summary["load_after"] = loadavg()
        summary["load_during"] = {
            "min": min(sampler.samples, default=0),
            "max": max(sampler.samples, default=0),
            "mean": round(statistics.mean(sampler.samples), 2) if sampler.samples else 0,
        }
        saves_lines = (OUT / "saves.jsonl").read_text().splitlines() if (OUT / "saves.jsonl").exists() else []
        touched = sorted({json.loads(line)["participant"] for line in saves_lines})
        left, waited = wait_drained(60, touched)
        summary["pending_after"] = {"left": left, "waited_s": round(waited, 1)}
        stats = locust_stats()
        summary["locust_exit"] = locust_code
        summary["requests"] = stats
        summary["failures"] = failures()
        ramp = OUT / "ramp.json"
        summary["ramp"] = json.loads(ramp.read_text()) if ramp.exists() else {}
        # The ramp's figures were written when locust reset its statistics: the measured part starts then.
        summary["server"] = server_times(ramp.stat().st_mtime if ramp.exists() else started.timestamp())
        total = next((r for r in stats if r["name"] == "Aggregated"), None)
        summary["cpu_seconds"] = cpu
        # The CPU was counted over the whole run, the ramp's requests included.
        ramp_total = next((r for r in summary["ramp"].get("requests", []) if r["name"] == "Aggregated"), None)
        requests = (total["requests"] if total else 0) + (ramp_total["requests"] if ramp_total else 0)
        if requests:
            summary["web_cpu_ms_per_request"] = round(1000 * cpu.get("web", 0) / requests, 1)
        summary["saves"] = check_saves(before, started)
        # Signatures answered over the whole run, the ramp's included: the database counts them all.
        signs_ok = sum(
            r["requests"] - r["failures"]
            for r in [*stats, *summary["ramp"].get("requests", [])]
            if r["name"] == "sign"
        )
        summary["signatures"] = check_signatures(started, signs_ok)
        log("verify_evaluations over every participant")
        started_verify = time.monotonic()
        from screening.verification import summary as verification_summary
        from screening.verification import verify_evaluations

        report = verify_evaluations()
        summary["verify"] = verification_summary(report) | {
            "seconds": round(time.monotonic() - started_verify, 1),
            "problems": report.problems,
        }
        code = report_and_judge(summary)
    finally:
        stack.stop()
        (OUT / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return code


def report_and_judge(summary: dict[str, Any]) -> int:
    missed: list[str] = []
    print()
    print(
        f"Load test at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {summary['participants']} participants; "
        f"load average before {summary['load_before']}, during (1 min) {summary['load_during']}, "
        f"after {summary['load_after']}"
    )
    print(
        f"{'request':<24} {'count':>6} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'server p50':>11} {'server p95':>11}"
    )
    for r in summary["requests"]:
        limit = P95_TARGET_MS
        mark = ""
        if r["name"] != "Aggregated" and r["p95"] > limit:
            mark = f"  > {limit:.0f} ms"
            missed.append(f"p95 of {r['name']} {r['p95']:.0f} ms")
        server = summary["server"].get(r["name"], {})
        print(
            f"{r['name']:<24} {r['requests']:>6} {r['failures']:>5} {r['p50']:>8.0f} {r['p95']:>8.0f} "
            f"{r['max']:>8.0f} {server.get('p50', ''):>11} {server.get('p95', ''):>11}{mark}"
        )
    print(
        f"a password check (Argon2id, config/hashers.py) took {summary['password_check_ms']} ms before "
        f"the run and {summary['password_check_ms_after']} ms after it (part of every login and signature)"
    )
    for r in summary.get("ramp", {}).get("requests", []):
        if r["name"] in ("login", "login page"):
            print(
                f"during the ramp: {r['name']} ×{r['requests']}, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms"
            )
            if r["p95"] > P95_TARGET_MS:
                missed.append(f"p95 of {r['name']} during the ramp {r['p95']:.0f} ms")
        if r["failures"] and r["name"] != "Aggregated":
            missed.append(f"{r['failures']} failed requests of {r['name']} during the ramp")
    total = next((r for r in summary["requests"] if r["name"] == "Aggregated"), {"failures": -1})
    if total["failures"]:
        missed.append(f"{total['failures']} failed requests")
        for f in summary["failures"]:
            print(f"  failure: {f}")
    print(
        f"CPU seconds during the run: {summary['cpu_seconds']} "
        f"({summary.get('web_cpu_ms_per_request')} ms of gunicorn CPU per request)"
    )
    s = summary["saves"]
    print(
        f"saves: {s['saved']} of {s['attempted']} on {s['participants']} participants; evaluated "
        f"p50 {s['lag_p50_s']} s, p95 {s['lag_p95_s']} s, max {s['lag_max_s']} s after the response "
        f"({s['before_response']} before it); over 5 s: {s['over_5s']}; never: {s['never_count']}; "
        f"lost: {s['lost_count']}"
    )
    if s["over_5s"] or s["never_count"] or s["page_never_saw"]:
        missed.append(f"{s['over_5s']} saves evaluated after 5 s, {s['never_count']} never")
    if s["lost_count"]:
        missed.append("lost saves: " + "; ".join(s["lost"]))
    g = summary["signatures"]
    print(
        f"signatures: {g['signed_by_locust']} answered, {g['signed_in_db']} stored; {g['decisions']} decisions"
    )
    if g["signed_in_db"] != g["signed_by_locust"]:
        missed.append("signatures lost")
    if summary["pending_after"]["left"]:
        missed.append(f"{summary['pending_after']['left']} re-evaluations still pending after the run")
    v = summary["verify"]
    print(f"verify_evaluations: {v}")
    if not v["ok"]:
        missed.append("stored evaluations that do not match their data")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
