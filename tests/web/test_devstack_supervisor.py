"""`make run` starts a child that exits again (a killed worker) instead of stopping the stack."""

from __future__ import annotations

import os
import signal
import sys
import time

from config.devstack import Supervisor, _terminate

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
FAILING = [sys.executable, "-c", "raise SystemExit(3)"]


def _wait_exited(supervisor: Supervisor, name: str) -> None:
    deadline = time.monotonic() + 10
    while supervisor.children[name].poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_killed_worker_is_started_again_and_the_others_keep_running() -> None:
    supervisor = Supervisor({"worker": SLEEPER, "web": SLEEPER}, dict(os.environ))
    try:
        supervisor.start_all()
        first_worker, web = supervisor.children["worker"], supervisor.children["web"]
        os.kill(first_worker.pid, signal.SIGKILL)
        _wait_exited(supervisor, "worker")
        assert supervisor.restart_exited() is True
        assert supervisor.children["worker"] is not first_worker
        assert supervisor.children["worker"].poll() is None
        assert supervisor.children["web"] is web and web.poll() is None
    finally:
        _terminate(supervisor.children)


def test_a_child_that_keeps_failing_stops_the_stack() -> None:
    supervisor = Supervisor({"worker": FAILING}, dict(os.environ))
    try:
        supervisor.start_all()
        results = []
        for _ in range(Supervisor.RESTART_LIMIT + 1):
            _wait_exited(supervisor, "worker")
            results.append(supervisor.restart_exited())
        assert results == [True] * Supervisor.RESTART_LIMIT + [False]
    finally:
        _terminate(supervisor.children)
