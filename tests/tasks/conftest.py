from __future__ import annotations

from collections.abc import Iterator

import pytest

from .keys import clear_reevaluation_keys


@pytest.fixture(autouse=True)
def _fresh_reevaluation_keys() -> Iterator[None]:
    """Participant IDs restart with each test database: forget the keys of earlier runs."""
    clear_reevaluation_keys()
    yield
    clear_reevaluation_keys()


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One worker for the module (tests may kill and restart it), gone before other tests run so
    that it evaluates nothing of theirs; the queue starts and ends empty."""
    from config.celery import app

    from .worker import Worker

    with django_db_blocker.unblock():
        app.control.purge()
        worker = Worker(tmp_path_factory.mktemp("celery"))
        worker.start()
        try:
            yield worker
        finally:
            worker.stop()
            app.control.purge()
