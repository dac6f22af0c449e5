"""The load test's simulated users (locust): site coordinators and EAC reviewers.

Started by bench/loadtest/run.py (`make loadtest`), which creates the users with
`manage.py seed_loadtest_users --out FILE` and passes FILE in LOADTEST_USERS. Locust's statistics
are kept per request name (the names below), so each request type gets its own p95.

- A **coordinator** logs in, then works the site: the dashboard (status and cohort filters, a
  search by screening number, later pages), a participant's page, and lab results entered on the
  record form with the live eligibility panel (the form's htmx preview, sent as the coordinator
  types and changes a field), saved; the participant page that follows polls the evaluation-status
  fragment every 2 s while a re-evaluation is pending, as the page's notice does. Each coordinator
  works only its own participants (assigned by seed_loadtest_users), so each save is traced to the
  evaluation that covers it (run.py).
- An **EAC reviewer** logs in, opens the queue (sometimes filtered or a later page), opens an
  unclaimed item, reads it, claims it, reads again and signs (approve or reject, with a rationale,
  the password and the code of an authenticator app). A code signs once: a reviewer who signed
  within the current 30-second step waits for the next code, as a person would.

Think times are those of people at work: seconds between pages, longer while reading a case or
typing a value. Every save is written to LOADTEST_SAVES (JSON lines) for run.py's checks.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django_otp.oath import totp
from locust import HttpUser, between, events, task

USERS_FILE = Path(os.environ.get("LOADTEST_USERS", ".var/loadtest/users.json"))
SAVES_FILE = Path(os.environ.get("LOADTEST_SAVES", ".var/loadtest/saves.jsonl"))
RAMP_FILE = Path(os.environ.get("LOADTEST_RAMP", ".var/loadtest/ramp.json"))
FINAL_FILE = Path(os.environ.get("LOADTEST_FINAL", ".var/loadtest/final.json"))
# Seconds between polls of the evaluation-status fragment (the notice's hx-trigger "every 2s").
POLL_SECONDS = float(os.environ.get("LOADTEST_POLL_SECONDS", "2"))
# How long a coordinator's page keeps polling before the save counts as not evaluated in time.
POLL_LIMIT_SECONDS = 30.0
TOTP_STEP = 30
# Think times are multiplied by this (the smoke test of this file runs with 0).
THINK = float(os.environ.get("LOADTEST_THINK", "1"))

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission" value="([0-9a-f]{32})"')
UNIT_SELECT = re.compile(r'<select name="unit"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?')
CLAIMABLE = re.compile(r'action="/eac/escalations/(\d+)/claim/"')
DIGEST = re.compile(r'name="evidence_digest" value="([0-9a-f]*)"')
NOTICE = 'data-testid="reevaluation-notice"'

# Lab results a coordinator enters, with plausible values (the form's unit is the site's own).
LABS = {
    "anc": (1200, 6000, 0),
    "alc": (600, 3000, 0),
    "platelets": (120000, 400000, -3),
    "hemoglobin": (9, 15, 1),
}

_lock = threading.Lock()  # locust's users are greenlets; the lock only guards the file's lines
_users: dict[str, Any] | None = None
_next = {"coordinator": 0, "reviewer": 0}


PAGE_NAMES = (
    (re.compile(r"^/$"), "home"),
    (re.compile(r"^/participants/$"), "dashboard"),
    (re.compile(r"^/participants/\d+/$"), "participant page"),
    (re.compile(r"^/eac/$"), "EAC queue"),
    (re.compile(r"^/eac/escalations/\d+/$"), "review page"),
)


def page_name(url: str) -> str:
    path = urlsplit(url).path
    return next((name for pattern, name in PAGE_NAMES if pattern.match(path)), path)


def think(low: float, high: float) -> None:
    time.sleep(THINK * random.uniform(low, high))


def users() -> dict[str, Any]:
    global _users
    if _users is None:
        _users = json.loads(USERS_FILE.read_text())
    return _users


def take(kind: str) -> dict[str, Any]:
    """The next unused account of its kind (coordinators spread over the sites)."""
    accounts = users()["coordinators" if kind == "coordinator" else "reviewers"]
    index = _next[kind] % len(accounts)
    _next[kind] += 1
    return dict(accounts[index])


def record_save(line: dict[str, Any]) -> None:
    with _lock, SAVES_FILE.open("a") as f:
        f.write(json.dumps(line) + "\n")


def current_code(key_hex: str, at: float | None = None) -> tuple[str, int]:
    """The authenticator app's code now and its time step: TOTP (RFC 6238, SHA-1, 30 s, 6 digits),
    computed by django-otp's own function, as the server checks it."""
    now = time.time() if at is None else at
    step = int(now) // TOTP_STEP
    return f"{totp(bytes.fromhex(key_hex), step=TOTP_STEP, t0=0, digits=6, drift=0):06d}", step


class Worker(HttpUser):
    abstract = True
    account: dict[str, Any]

    def csrf_from(self, text: str) -> str:
        found = CSRF.search(text)
        return found.group(1) if found else self.client.cookies.get("csrftoken", "")

    def login(self) -> None:
        page = self.client.get("/login/", name="login page")
        with self.client.post(
            "/login/",
            {
                "username": self.account["username"],
                "password": users()["password"],
                "csrfmiddlewaretoken": self.csrf_from(page.text),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused (status {response.status_code})")
                return
        self.follow(response)

    def follow(self, response: Any) -> Any:
        """The page a POST redirected to, requested on its own (so each request type has its own
        figures), as the browser does; named by what it is."""
        while response.status_code in (301, 302, 303):
            url = response.headers["Location"]
            response = self.client.get(url, name=page_name(url), allow_redirects=False)
        return response

    def post(self, url: str, data: dict[str, Any], name: str, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + url}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(url, data, name=name, headers=headers, allow_redirects=False, **kwargs)


class Coordinator(Worker):
    fixed_count = int(os.environ.get("LOADTEST_COORDINATORS", "50"))
    wait_time = between(5 * THINK, 20 * THINK)

    def on_start(self) -> None:
        self.account = take("coordinator")
        self.participants: list[int] = self.account["participants"]
        self.site = self.account["site"]
        self.login()

    def mine(self) -> int:
        return random.choice(self.participants)

    @task(4)
    def dashboard(self) -> None:
        choice = random.random()
        if choice < 0.3:
            self.client.get("/participants/", name="dashboard")
        elif choice < 0.6:
            status = random.choice(
                ["ELIGIBLE", "INELIGIBLE", "INCOMPLETE", "PENDING_REVIEW", "NOT_EVALUATED"]
            )
            cohort = random.choice(["", "SLE", "IIM", "SSc"])
            self.client.get(f"/participants/?status={status}&cohort={cohort}", name="dashboard filtered")
        elif choice < 0.8:
            self.client.get(f"/participants/?page={random.randint(2, 20)}", name="dashboard page")
        else:
            number = f"{self.site}-{random.randint(1, 300):04d}"[: random.randint(6, 8)]
            self.client.get(f"/participants/?q={number}", name="dashboard search")

    @task(3)
    def participant_page(self) -> None:
        pk = self.mine()
        page = self.client.get(f"/participants/{pk}/", name="participant page")
        if NOTICE in page.text:
            self.poll_status(pk)

    @task(3)
    def enter_lab(self) -> None:
        """A lab result on the record form, with the live panel, saved; then the participant page."""
        pk = self.mine()
        test = random.choice(list(LABS))
        form = self.client.get(f"/participants/{pk}/records/lab/new/?test={test}", name="record form")
        if form.status_code != 200:
            return
        unit = self.unit_of(form.text)
        submission = SUBMISSION.search(form.text)
        low, high, digits = LABS[test]
        value = (
            round(random.uniform(low, high), digits)
            if digits > 0
            else int(round(random.uniform(low, high), digits))
        )
        data = {
            "csrfmiddlewaretoken": self.csrf_from(form.text),
            "submission": submission.group(1) if submission else "",
            "test": test,
            "value_number": str(value),
            "unit": unit,
            "collected": date.today().isoformat(),
        }
        preview_url = f"/participants/{pk}/preview/lab/"
        htmx = {"HX-Request": "true", "HX-Target": "preview-panel"}
        # The panel loads with the form, then follows the typing (input delay 700 ms, change 300 ms).
        self.post(preview_url, {**data, "value_number": ""}, "live panel", headers=htmx)
        self.wait_between(3, 8)
        self.post(preview_url, {**data, "value_number": str(value)[:-1] or "1"}, "live panel", headers=htmx)
        self.wait_between(1, 3)
        self.post(preview_url, data, "live panel", headers=htmx)
        self.wait_between(1, 4)
        started = time.time()
        with self.post(
            f"/participants/{pk}/records/lab/new/", data, "record save", catch_response=True
        ) as response:
            done = time.time()
            saved = response.status_code == 302 and response.headers.get("Location") == f"/participants/{pk}/"
            if not saved:
                response.failure(f"not saved (status {response.status_code})")
        if saved:
            self.follow(response)
        seen = self.poll_status(pk, first_wait=0.0) if saved else None
        record_save(
            {
                "participant": pk,
                "test": test,
                "started": started,
                "responded": done,
                "saved": saved,
                "evaluation_seen": seen,
                "user": self.account["username"],
            }
        )

    def unit_of(self, html: str) -> str:
        select = UNIT_SELECT.search(html)
        if not select:
            return ""
        options = [(v, bool(s)) for v, s in OPTION.findall(select.group(1)) if v]
        chosen = [v for v, s in options if s]
        return chosen[0] if chosen else (options[0][0] if options else "")

    def poll_status(self, pk: int, first_wait: float = POLL_SECONDS) -> float | None:
        """The re-evaluation notice's polling: the evaluation-status fragment until it answers
        HX-Refresh (the evaluation is stored), then the page again. After a save the page asks at
        once (the save evaluates before it answers, so the first answer is usually HX-Refresh).
        Returns when the stored evaluation was seen, None if not within POLL_LIMIT_SECONDS."""
        deadline = time.time() + POLL_LIMIT_SECONDS
        wait = first_wait
        while time.time() < deadline:
            time.sleep(wait)
            wait = POLL_SECONDS
            response = self.client.get(
                f"/screening/participants/{pk}/evaluation-status/",
                name="evaluation status",
                headers={"HX-Request": "true"},
            )
            if response.headers.get("HX-Refresh") == "true":
                seen = time.time()
                self.client.get(f"/participants/{pk}/", name="participant page")
                return seen
        return None

    def wait_between(self, low: float, high: float) -> None:
        think(low, high)


class Reviewer(Worker):
    fixed_count = int(os.environ.get("LOADTEST_REVIEWERS", "5"))
    wait_time = between(5 * THINK, 15 * THINK)

    def on_start(self) -> None:
        self.account = take("reviewer")
        self.last_step = 0
        self.login()

    @task
    def review_one(self) -> None:
        """Queue, open an unclaimed item, read, claim, read, sign."""
        url = "/eac/" if random.random() < 0.7 else f"/eac/?page={random.randint(1, 3)}"
        queue = self.client.get(url, name="EAC queue")
        claimable = CLAIMABLE.findall(queue.text)
        if not claimable:
            return
        pk = int(random.choice(claimable[:20]))
        self.client.get(f"/eac/escalations/{pk}/", name="review page")
        think(5, 15)
        claimed = self.follow(
            self.post(
                f"/eac/escalations/{pk}/claim/",
                {"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
                "claim",
            )
        )
        if 'data-testid="claimed-by-you"' not in claimed.text:
            return  # another reviewer took it first: back to the queue
        digest = DIGEST.search(claimed.text)
        think(10, 25)  # reading the case and writing the rationale
        code = self.fresh_code()
        with self.post(
            f"/eac/escalations/{pk}/sign/",
            {
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
                "evidence_digest": digest.group(1) if digest else "",
                "action": random.choice(["approve", "approve", "reject"]),
                "rationale": "Reviewed the source documents; consistent with the criterion.",
                "password": users()["password"],
                "code": code,
            },
            "sign",
            catch_response=True,
        ) as response:
            signed = response.status_code == 302 and response.headers.get("Location") == "/eac/"
            if not signed:
                response.failure(f"not signed (status {response.status_code})")
        if signed:
            self.follow(response)

    def fresh_code(self) -> str:
        """A code of a step not used yet: wait for the next one if this step already signed."""
        code, step = current_code(self.account["totp_key"])
        if step <= self.last_step:
            time.sleep((self.last_step + 1) * TOTP_STEP - time.time() + 0.2)
            code, step = current_code(self.account["totp_key"])
        self.last_step = step
        return code


def stats_rows(environment: Any) -> list[dict[str, Any]]:
    """Locust's figures per request name, and the total ("Aggregated")."""
    entries = [*environment.stats.entries.values(), environment.stats.total]
    return [
        {
            "name": e.name if e is not environment.stats.total else "Aggregated",
            "method": e.method or "",
            "requests": e.num_requests,
            "failures": e.num_failures,
            "p50": e.get_response_time_percentile(0.5),
            "p95": e.get_response_time_percentile(0.95),
            "max": e.max_response_time,
        }
        for e in entries
    ]


@events.spawning_complete.add_listener
def _keep_ramp_figures(user_count: int, **kwargs: Any) -> None:
    """Every user has started (and most have logged in): locust then resets its statistics
    (--reset-stats), so that the figures are those of the whole population at work; the ramp's,
    the logins among them, are kept here first."""
    environment = _environment.get("current")
    if environment is not None and environment.stats is not None:
        RAMP_FILE.write_text(json.dumps({"users": user_count, "requests": stats_rows(environment)}))


@events.quitting.add_listener
def _keep_final_figures(environment: Any, **kwargs: Any) -> None:
    if environment.stats is not None:
        FINAL_FILE.write_text(json.dumps({"requests": stats_rows(environment)}))


_environment: dict[str, Any] = {}


@events.init.add_listener
def _remember_environment(environment: Any, **kwargs: Any) -> None:
    _environment["current"] = environment


@events.test_start.add_listener
def _fresh_saves_file(**kwargs: Any) -> None:
    SAVES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SAVES_FILE.write_text("")
    RAMP_FILE.write_text("{}")
    FINAL_FILE.unlink(missing_ok=True)
