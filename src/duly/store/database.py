"""The database duly talks to: engine, migrations and transactions.

SQLite is the embedded default (one file, WAL so readers never wait for the writer); any
SQLAlchemy URL works, PostgreSQL being the one to scale out on. Writers on SQLite are serialised
before they reach the database, because SQLite allows one writer at a time and its own lock
wait sleeps in steps of up to 100 ms, where a blocked lock wakes as soon as it is free: threads
take a Python lock, and processes (``duly serve`` runs several) an ``flock`` on a file beside
the database.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_URL", "Database", "PerDatabase", "database_url"]

DEFAULT_URL: Final = "sqlite:///./duly.db"
T = TypeVar("T")
_MIGRATIONS: Final = Path(__file__).with_name("migrations")


def database_url() -> str:
    """The URL in ``DULY_DATABASE_URL``, or the SQLite file ``./duly.db``."""
    return os.environ.get("DULY_DATABASE_URL") or DEFAULT_URL


class Database:
    """One engine and the way to open transactions on it."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        elif self.url.get_backend_name() == "postgresql":
            event.listen(self.engine, "connect", _postgresql_session)
        self._writer = threading.Lock() if self.is_sqlite else None
        self._lock_path = _lock_file(self.url.database) if self.is_sqlite else None

    def upgrade(self) -> None:
        """Apply every migration not yet applied (the same as ``duly db upgrade``)."""
        with self.engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(_MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes: committed on success, rolled back whole on any error."""
        with (
            self._writer or nullcontext(),
            _file_lock(self._lock_path),
            self.engine.connect() as connection,
        ):
            connection.execution_options(duly_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


class PerDatabase(Generic[T]):
    """One ``T`` per ``Database`` (so per engine and process), made on first use.

    For what a process keeps beside a database (the ingest writer, the deriver's wake-up, the
    token cache): kept weakly, so it goes with the ``Database`` (tests make many).
    """

    def __init__(self, make: Callable[[Database], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._made: weakref.WeakKeyDictionary[Database, T] = weakref.WeakKeyDictionary()

    def __call__(self, db: Database) -> T:
        with self._lock:
            found = self._made.get(db)
            if found is None:
                found = self._made[db] = self._make(db)
            return found


def _lock_file(database: str | None) -> Path | None:
    """The lock file beside a SQLite file (none for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.writer-lock")


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """Hold ``path`` exclusively (other processes' writers wait here); nothing for None."""
    if path is None:
        yield
        return
    if sys.platform == "win32":  # no flock: SQLite's own busy wait serialises processes
        yield
        return
    import fcntl

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions itself unless told not to; BEGIN is issued explicitly instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _postgresql_session(dbapi_connection: Any, _record: Any) -> None:
    # psycopg prepares a statement on the server after a few runs, and PostgreSQL may then keep
    # one generic plan for it. For ``ticket IN (...500 names...)`` that plan, made while the
    # tables were small, is a sequential scan, and it stays one as they grow: re-deriving got
    # slower with every batch (3 s, then 18 s, then 35 s for 10,000 tickets). Planning each run
    # with its own values keeps the index scans, for a fraction of a millisecond.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode TO force_custom_plan")
    dbapi_connection.commit()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so it never fails half-way on a lock upgrade.
    write = connection.get_execution_options().get("duly_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
