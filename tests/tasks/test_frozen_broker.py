"""A frozen broker never holds a save: with a Redis of our own stopped by SIGSTOP (accepting
connections, answering nothing), each save commits and returns within about 2 s, leaving the mark
for the sweep. The shared Redis is never touched: the test starts and freezes its own."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import connection

from config.devstack import free_port
from participants.models import LabResult, Participant

from ..conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SAVES = 3
# A save waits at most this long on the broker (docs/reevaluation.md); a little slack for a busy machine.
LIMIT_SECONDS = 2.2

SCRIPT = """
import json, sys, time
from datetime import date
from decimal import Decimal
import django
django.setup()
from participants.models import Participant, User
from participants.services import record_lab
user = User.objects.get(pk=int(sys.argv[1]))
participant = Participant.objects.get(pk=int(sys.argv[2]))
durations = []
for n in range(int(sys.argv[3])):
    started = time.monotonic()
    record_lab(user, participant, test="anc", value=Decimal(900 + n), unit="/uL", collected=date(2025, 6, 3))
    durations.append(time.monotonic() - started)
print(json.dumps(durations))
"""


@pytest.fixture
def frozen_redis_url() -> Iterator[str]:
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        os.kill(server.pid, signal.SIGSTOP)
        yield url
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


def test_saves_return_within_two_seconds_while_the_broker_is_frozen(
    frozen_redis_url: str, coordinator_a, participant_a
) -> None:
    environment = dict(os.environ)
    database = connection.settings_dict
    environment.update(
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        REDIS_URL=frozen_redis_url,
        CELERY_BROKER_URL=frozen_redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_SECRET_KEY="frozen-broker-test",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    environment.pop("EMBEDDED_REDIS_PORT", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(coordinator_a.pk), str(participant_a.pk), str(SAVES)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    durations = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(durations) == SAVES
    assert max(durations) < LIMIT_SECONDS, durations
    print("save durations with a frozen broker:", durations)
    assert time.monotonic() - started < 60
    # Every save committed, and the participant stays marked for the sweep.
    assert LabResult.objects.filter(participant=participant_a).count() == SAVES
    participant = Participant.objects.get(pk=participant_a.pk)
    assert participant.screening_state.reevaluation_requested_at is not None
