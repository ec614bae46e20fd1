from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import BACKENDS, fresh_database

from duly.store.database import Database


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: SQLite, and PostgreSQL too when configured."""
    with fresh_database(request.param, tmp_path) as database:
        yield database
