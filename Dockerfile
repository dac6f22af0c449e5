# Production image: the web server (gunicorn), the Celery worker and beat share it.
# It holds the whole application (`COPY . .`); .dockerignore keeps a developer's files out, and
# tests/web/test_deployment_files.py builds this context and imports every installed app from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app
RUN useradd --create-home --uid 1000 app

COPY . .
# The engine's hot modules compiled by mypyc (docs/architecture.md); the compiler is removed again.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install mypy==1.18.2 setuptools==80.9.0 \
 && python tools/build_engine.py --force \
 && pip uninstall -y mypy \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
# Pango, HarfBuzz subsetting and fonts for WeasyPrint: the signed eligibility checklist and the
# printable audit trail as PDF.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN pip install .

# collectstatic needs settings but no database or secret of the deployment.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input

# LAB_IMPORT_DIR of docker-compose.yml: a new volume mounted here takes this owner.
RUN mkdir -p /var/lib/allo329/lab-import /var/lib/allo329/exports \
    && chown app:app /var/lib/allo329/lab-import /var/lib/allo329/exports

USER app
EXPOSE 8000
# Reached only through the TLS proxy of docker-compose.yml (docs/deployment.md).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
