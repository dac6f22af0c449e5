# Production image: the web server (gunicorn), the Celery worker and beat share it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app
RUN useradd --create-home --uid 1000 app

COPY pyproject.toml README.md ./
COPY config ./config
COPY exports ./exports
COPY participants ./participants
COPY screening ./screening
COPY adjudication ./adjudication
COPY audit ./audit
COPY api ./api
COPY labimport ./labimport
COPY tools/build_engine.py ./tools/
# The engine's hot modules compiled by mypyc (docs/architecture.md); the compiler is removed again.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install mypy==1.18.2 setuptools==80.9.0 \
 && python tools/build_engine.py --force \
 && pip uninstall -y mypy \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
RUN pip install .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings but no database or secret of the deployment.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
