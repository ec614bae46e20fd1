"""Fixtures shared by the test folders."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from databases import BACKENDS, fresh_database
from duly.store.database import Database
from receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A real HTTP server on 127.0.0.1 recording requests; queue answers with ``reply_with``."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A real SMTP server on 127.0.0.1 keeping every message it accepts."""
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: SQLite, and PostgreSQL when DULY_TEST_POSTGRES_URL is set."""
    with fresh_database(request.param, tmp_path) as database:
        yield database
