"""Migrations: ``Database.upgrade`` builds the schema the models describe, once."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from duly.store.database import Database
from duly.store.tables import CONFIG_VERSIONS, Base

TABLES = {
    "alerts",
    "channels",
    "clocks",
    "config_versions",
    "crossings",
    "deliveries",
    "derive_queue",
    "events",
    "tickets",
    "tokens",
}


def table_names(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def schema(db: Database) -> dict[str, list[tuple[str, str, bool]]]:
    """Each table's columns as (name, type, nullable): what a second upgrade must not change."""
    inspector = sa.inspect(db.engine)
    return {
        t: [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(t)]
        for t in sorted(inspector.get_table_names())
    }


def head_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_models_name_the_tables_the_migration_creates():
    assert set(Base.metadata.tables) == TABLES


def test_upgrade_on_an_empty_database_creates_every_table(empty_url):
    db = Database(empty_url)
    try:
        assert table_names(db) == set()
        db.upgrade()
        assert table_names(db) == TABLES | {"alembic_version"}
        assert head_revision(db) == "0002"
    finally:
        db.dispose()


def test_upgrading_twice_changes_neither_schema_nor_rows(empty_url):
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.write() as connection:
            connection.execute(
                CONFIG_VERSIONS.insert().values(
                    version=1, text="x", sha256="0" * 64, created_at_us=1, created_by="alice"
                )
            )
        before = schema(db)

        db.upgrade()

        assert schema(db) == before
        assert head_revision(db) == "0002"
        with db.read() as connection:
            rows = connection.execute(sa.select(CONFIG_VERSIONS.c.version, CONFIG_VERSIONS.c.text))
            assert rows.all() == [(1, "x")]
    finally:
        db.dispose()


def test_the_migration_head_matches_the_models(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
