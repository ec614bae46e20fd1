"""Writing many rows at once: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere.

Deriving a chunk of tickets writes thousands of clock, crossing and ticket rows; through
SQLAlchemy's ``executemany`` PostgreSQL costs some 30 microseconds a row on this side alone
(the statement is rebuilt with a parameter per value for each page of rows), where ``COPY``
streams them for a few. A copy costs a few round trips more, so a handful of rows (one
ticket's event, derived in its request) still goes by ``INSERT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Insert, Table
from sqlalchemy.exc import DBAPIError

__all__ = ["copy_rows", "insert_rows"]

#: Rows from which a copy is quicker than an ``INSERT`` (measured on the derived tables).
COPY_FROM: Final = 32
#: Rows per ``executemany``, so that bound parameters stay under SQLite's limit.
_PAGE: Final = 500
_INSERTS: dict[str, Insert] = {}


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings with the same keys) into ``table``, in this transaction."""
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        columns = list(rows[0])
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        copy_rows(connection, statement, ([row[c] for c in columns] for row in rows))
        return
    insert = _INSERTS.get(table.name)
    if insert is None:  # built once per table: building one costs more than a few rows
        insert = _INSERTS[table.name] = table.insert()
    for lo in range(0, len(rows), _PAGE):
        connection.execute(insert, list(rows[lo : lo + _PAGE]))


def copy_rows(
    connection: Connection,
    statement: str,
    rows: Iterable[Sequence[Any]],
    types: Sequence[str] | None = None,
) -> None:
    """Run the ``COPY ... FROM STDIN`` ``statement`` with ``rows`` (binary when ``types`` are
    given) on PostgreSQL, inside a savepoint.

    A failure rolls back to the savepoint, so the transaction can go on (with a slower way in,
    say), and is raised as SQLAlchemy raises any other statement's (``IntegrityError`` for a
    unique key, ``DataError`` for a value too long...).
    """
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    # The savepoint is SQLAlchemy's: psycopg's own ``transaction()`` would, as the first
    # statement of a transaction, begin and commit one of its own, out of reach of a rollback.
    savepoint = connection.begin_nested()
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    except BaseException as exc:
        savepoint.rollback()
        if isinstance(exc, psycopg.Error):
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
        raise
    savepoint.commit()
