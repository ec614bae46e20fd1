"""Fixtures of the store tests (``db``, a migrated database, is shared from tests/conftest.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from databases import BACKENDS, fresh_url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database no migration has touched yet: SQLite, and PostgreSQL when set."""
    with fresh_url(request.param, tmp_path) as url:
        yield url
