"""The database's sessions: what every connection is set up with."""

import fcntl
import os

import pytest

from duly.store.database import Database


def test_postgresql_plans_each_statement_with_its_own_values(db: Database) -> None:
    """A generic plan made while the tables were small scans them whole once they are not."""
    if db.is_sqlite:
        pytest.skip("a PostgreSQL setting")
    with db.read() as connection:
        assert connection.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
    # Every connection of the pool, not only the first.
    with db.read() as one, db.read() as two:
        for connection in (one, two):
            mode = connection.exec_driver_sql("SHOW plan_cache_mode").scalar()
            assert mode == "force_custom_plan"


def test_sqlite_writers_of_every_process_queue_on_a_lock_file(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("a SQLite arrangement")
    with db.write():
        pass
    assert db.url.database is not None
    lock = f"{db.url.database}.writer-lock"
    descriptor = os.open(lock, os.O_RDWR)
    try:
        # Held by this writer: another process's writer would wait here.
        with db.write(), pytest.raises(BlockingIOError):
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again once it ends
    finally:
        os.close(descriptor)
