"""docker-compose.yml, the Dockerfile and the proxy cannot run here (no Docker engine): check their
content, and build the image's context to import the application from it."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
APP_VARIABLES = {
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_DEBUG",
    "DJANGO_TRUSTED_PROXIES",
}
APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_compose_services_with_healthchecks() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"proxy", "postgres", "redis", "migrate", "web", "worker", "beat"}
    for name, service in services.items():
        if name == "migrate":  # a one-shot job: the others wait for it to complete
            assert service["restart"] == "no"
            continue
        assert "healthcheck" in service and service["healthcheck"]["test"], name


def test_only_the_tls_proxy_is_published() -> None:
    services = COMPOSE["services"]
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"proxy"}
    assert services["proxy"]["image"].startswith("caddy:")
    assert any(str(port).endswith(":443") for port in services["proxy"]["ports"])
    assert services["web"]["expose"] == ["8000"]
    caddyfile = (REPO_ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "tls internal" in caddyfile  # a local certificate for a trial run
    assert "respond /healthz 404" in caddyfile  # /healthz is not public
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]


def test_compose_images_and_commands() -> None:
    services = COMPOSE["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
    assert "gunicorn config.wsgi:application" in " ".join(services["web"]["command"])
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert "grant_runtime_role allo329_app" in " ".join(services["migrate"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_app_services_read_the_same_variables_as_settings() -> None:
    settings_source = (REPO_ROOT / "config" / "settings.py").read_text()
    read_by_settings = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_source))
    services = COMPOSE["services"]
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert APP_VARIABLES <= set(environment), name
        assert set(environment) <= read_by_settings, f"{name} sets variables the settings never read"
        assert (
            environment["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in environment["DATABASE_URL"]
        )
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["DJANGO_TRUSTED_PROXIES"] == "1"  # gunicorn is reached through Caddy only
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "allo329"


def test_the_application_runs_as_the_runtime_role_and_migrates_as_the_owner() -> None:
    services = COMPOSE["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://allo329_app:"), name
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith("postgres://allo329_owner:")
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    init = (REPO_ROOT / "deploy" / "postgres-init" / "10-roles.sh").read_text()
    assert "CREATE ROLE allo329_owner" in init and "CREATE ROLE allo329_app" in init
    assert "NOSUPERUSER" in init and "OWNER TO allo329_owner" in init
    assert os.access(REPO_ROOT / "deploy" / "postgres-init" / "10-roles.sh", os.X_OK)


def test_dockerfile_builds_the_application_image() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "\nCOPY . .\n" in dockerfile  # the whole application; .dockerignore keeps the rest out
    assert "collectstatic" in dockerfile
    assert "USER app" in dockerfile
    assert "gunicorn" in dockerfile


# --- The image's context -------------------------------------------------------------------------


def _ignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: a pattern matches the path or one of its parent directories; `**/` any depth."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def build_context(destination: Path) -> None:
    """Copy what `docker build .` would send: the repository minus .dockerignore."""
    patterns = _ignore_patterns()
    for directory, subdirectories, files in os.walk(REPO_ROOT):
        here = Path(directory).relative_to(REPO_ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        subdirectories[:] = [d for d in subdirectories if not _ignored(prefix + d, patterns)]
        for name in files:
            if not _ignored(prefix + name, patterns):
                target = destination / prefix / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, target)


@pytest.mark.slow
def test_every_installed_app_imports_from_the_image_context(tmp_path: Path) -> None:
    context = tmp_path / "app"
    build_context(context)
    assert not (context / ".venv").exists() and not (context / ".git").exists()
    assert not list(context.glob("screening/criteria/_compiled*"))
    include = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
        "find"
    ]
    for pattern in include["include"]:
        assert (context / pattern.removesuffix("*") / "__init__.py").exists(), pattern
    for needed in ("manage.py", "templates/base.html", "static/js/app.js", "deploy/Caddyfile"):
        assert (context / needed).exists(), needed
    code = (
        "import importlib, json, django; django.setup();"
        "from django.apps import apps; from django.conf import settings;"
        "mods = [importlib.import_module(a.name) for a in apps.get_app_configs()];"
        "urls = importlib.import_module(settings.ROOT_URLCONF);"
        "print(json.dumps({m.__name__: m.__file__ for m in [*mods, urls]}))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    # The image compiles its own engine; the context holds none, so the Python source runs.
    environment.pop("ALLO_ENGINE", None)
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_SECRET_KEY="image-context-check")
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(context)!r}); {code}"],
        cwd=context,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    own = ["config", "exports", "participants", "screening", "adjudication", "api", "audit"]
    for name in own:
        if name in modules:
            assert modules[name].startswith(str(context)), (name, modules[name])
    from django.conf import settings

    local_apps = [a for a in settings.INSTALLED_APPS if a.split(".")[0] in own]
    assert set(local_apps) <= set(modules)
    assert modules["config.urls"].startswith(str(context))


def test_web_and_worker_share_the_lab_import_folder() -> None:
    """A large lab file written by web is staged by a worker from the same folder."""
    services = COMPOSE["services"]
    folder = services["web"]["environment"]["LAB_IMPORT_DIR"]
    assert services["worker"]["environment"]["LAB_IMPORT_DIR"] == folder
    for name in ("web", "worker"):
        assert f"labimport:{folder}" in services[name]["volumes"], name
    assert "labimport" in COMPOSE["volumes"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"chown app:app {folder}" in dockerfile


def test_web_and_worker_share_the_export_folder() -> None:
    """An XLSX written by a worker is downloaded through web from the same folder."""
    services = COMPOSE["services"]
    folder = services["web"]["environment"]["EXPORT_DIR"]
    assert services["worker"]["environment"]["EXPORT_DIR"] == folder
    for name in ("web", "worker"):
        assert f"exports:{folder}" in services[name]["volumes"], name
    assert "exports" in COMPOSE["volumes"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert folder in dockerfile.split("chown app:app", 1)[1].splitlines()[0]
