"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check their content."""

from __future__ import annotations

import re
import tomllib

import yaml

from ..conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
APP_VARIABLES = {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG"}


def test_compose_has_the_five_services_with_healthchecks() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name


def test_compose_images_and_commands() -> None:
    services = COMPOSE["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == ".", name
    assert "gunicorn config.wsgi:application" in " ".join(services["web"]["command"])
    assert "migrate" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_compose_app_services_read_the_same_variables_as_settings() -> None:
    settings_source = (REPO_ROOT / "config" / "settings.py").read_text()
    read_by_settings = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_source))
    services = COMPOSE["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert APP_VARIABLES <= set(environment), name
        assert set(environment) <= read_by_settings, f"{name} sets variables the settings never read"
        assert (
            environment["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in environment["DATABASE_URL"]
        )
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "allo329"


def test_dockerfile_builds_the_application_image() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    # Every package pip installs from the image's copy (pyproject's list), and the pages' files.
    include = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
        "find"
    ]
    packages = [pattern.removesuffix("*") for pattern in include["include"]]
    assert {"config", "exports", "participants", "screening", "adjudication", "audit", "api"} <= set(packages)
    for directory in (*packages, "templates", "static"):
        assert f"COPY {directory} " in dockerfile, directory
    assert "collectstatic" in dockerfile
    assert "USER app" in dockerfile
    assert "gunicorn" in dockerfile
