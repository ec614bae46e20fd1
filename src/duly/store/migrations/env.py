"""Alembic's entry point: runs migrations on the connection duly hands it."""

from __future__ import annotations

from alembic import context

from duly.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
