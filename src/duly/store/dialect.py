"""Statements whose SQL differs between SQLite and PostgreSQL, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["insert_ignoring_conflicts"]


def insert_ignoring_conflicts(connection: Connection, table: Table, *unique: str) -> Insert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``: the idempotent insert both databases know.

    Rows that collide with an existing one on ``unique`` are skipped inside the database, so two
    processes inserting the same row at once cannot both succeed or fail.
    """
    module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Insert = module.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    return statement
