# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv engine browser pdf-libraries lint typecheck bench bench-scale loadtest clean-data

# The engine's hot modules compiled by mypyc (screening/criteria/compiled.py lists them and
# loads them only while they match the sources).
ENGINE_SOURCES := $(wildcard screening/criteria/*.py) pyproject.toml
ENGINE_STAMP := screening/criteria/_compiled/stamp.json

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

$(ENGINE_STAMP): $(STAMP) $(ENGINE_SOURCES)
	@command -v gcc >/dev/null || { \
	  echo "Installing Debian's gcc for the compiled engine"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gcc libc6-dev; }
	$(PY) tools/build_engine.py
	@touch $(ENGINE_STAMP)

engine: $(ENGINE_STAMP)

run: $(STAMP) $(ENGINE_STAMP) pdf-libraries
	$(PY) -m config.devstack run

# Debian's Chromium and ChromeDriver for the browser tests, when missing.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "Installing Debian's chromium and chromium-driver"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

# Debian's Pango for WeasyPrint (the signed eligibility checklist and the printable audit trail), when missing.
pdf-libraries:
	@/sbin/ldconfig -p | grep -q libpangoft2-1.0.so.0 && /sbin/ldconfig -p | grep -q libharfbuzz-subset.so.0 || { \
	  echo "Installing Debian's Pango and HarfBuzz subsetting for WeasyPrint"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy screening/criteria

# Two test processes (pytest-xdist), each with its own test database and Redis database
# (config/pytest_env.py); a module's tests stay in one process (--dist loadscope).
PYTEST_WORKERS ?= 2

# The engine's tests run twice: on the Python source, then (with everything else) compiled.
test: $(STAMP) $(ENGINE_STAMP) browser pdf-libraries
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy screening/criteria
	$(VENV)/bin/lint-imports
	ALLO_ENGINE=python $(PY) -m pytest tests/engine -q -p no:cacheprovider
	ALLO_ENGINE=compiled $(PY) -m config.devstack exec -- $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

bench: $(STAMP) $(ENGINE_STAMP)
	$(PY) bench/engine_bench.py
	$(PY) bench/labimport_bench.py
	$(PY) -m config.devstack exec -- $(PY) bench/labstaging_bench.py
	$(PY) -m config.devstack exec -- $(PY) bench/labapi_bench.py
	$(PY) -m config.devstack exec -- $(PY) bench/reeval_bench.py
	$(PY) -m config.devstack exec -- $(PY) bench/worker_bench.py --participants 20000
	$(PY) -m config.devstack exec -- $(PY) bench/amendment_bench.py --participants 100000
	$(PY) -m config.devstack exec -- $(PY) bench/pages_bench.py --participants 10000 --reuse

# Pages and exports at 10,000 and 100,000 participants (seeding 100,000 takes minutes: not in
# `make bench`). The seeded databases are kept and reused; drop <name>_pages_<N> to reseed.
bench-scale: $(STAMP) $(ENGINE_STAMP)
	$(PY) -m config.devstack exec -- $(PY) bench/pages_bench.py --participants 10000 100000 --reuse

# The load test (bench/loadtest/run.py, docs/performance.md "Load test"): seeds 10,000 participants
# over 10 sites or reuses them, starts gunicorn, the Celery worker and beat, runs 50 coordinators and
# 5 EAC reviewers in locust for 3 minutes, checks every target and stops everything; exit status 1
# when a target is missed. Not part of `make test`. On the embedded stack it works in a database of
# its own (<name>_loadtest); with DATABASE_URL set, in that database. Options: LOADTEST_ARGS.
loadtest: $(STAMP) $(ENGINE_STAMP)
	$(PY) -m config.devstack exec -- $(PY) bench/loadtest/run.py $(if $(DATABASE_URL),,--database-suffix _loadtest) $(LOADTEST_ARGS)

clean-data:
	rm -rf .var
