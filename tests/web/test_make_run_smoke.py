"""`make run`'s stack, embedded servers included: starts, serves the login page, logs in, stops."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from participants.demo_password import DEMO_PASSWORD

from ..conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY")}
    env["DEVSTACK_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "config.devstack", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            return process, lines
    process.kill()
    pytest.fail("make run's stack did not start:\n" + "".join(lines[-40:]))


def _stop(process: subprocess.Popen[str], lines: list[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("make run did not stop on Ctrl-C")
    lines.append(rest)
    assert process.returncode == 0, "".join(lines[-40:])


def _log_in(base: str, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    data = urllib.parse.urlencode(
        {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(base + "login/", data=data, headers={"Referer": base + "login/"})
    return opener.open(request, timeout=10).read().decode()


def test_make_run_starts_serves_and_stops_then_reuses_its_data() -> None:
    data_dir = REPO_ROOT / ".var" / "smoke-test"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.parent.mkdir(exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    try:
        process, lines = _start(data_dir, port)
        output = "".join(lines)
        assert f"running at {base}" in output
        assert "coord.s01" in output and DEMO_PASSWORD in output
        created = re.search(r"9 users and (\d+) participants created", output)
        assert created and int(created.group(1)) >= 5, output[-2000:]
        landing = _log_in(base, "coord.s01")
        assert "Participants at S01" in landing
        assert "S01-0001" in landing
        _stop(process, lines)

        # A second run finds the same database: nothing is created again.
        process, lines = _start(data_dir, port)
        assert "0 users and 0 participants created" in "".join(lines)
        assert "S01-0001" in _log_in(base, "coord.s01")
        # `make test` or a shell through the stack while `make run` is up leaves run's Redis alone.
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env["DEVSTACK_DIR"] = str(data_dir)
        exec_run = subprocess.run(
            [sys.executable, "-m", "config.devstack", "exec", "--", sys.executable, "-c", "pass"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert exec_run.returncode == 0, exec_run.stderr[-2000:]
        health = urllib.request.urlopen(base + "healthz", timeout=10).read().decode()
        assert '"redis": {"ok": true' in health, health
        assert not list(data_dir.glob("redis-exec-*")), "the exec's own Redis files are removed"
        _stop(process, lines)
    finally:
        subprocess.run(["pkill", "-f", str(data_dir)], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    leftover = subprocess.run(["pgrep", "-f", str(data_dir)], capture_output=True, text=True)
    assert leftover.stdout == "", "a server of the stack outlived it"
