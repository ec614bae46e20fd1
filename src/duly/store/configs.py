"""Versions of the SLA-as-code text: every accepted config is kept, numbered, with its sender."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from duly.store import tables
from duly.store.tables import ConfigVersionRow

__all__ = ["add_config_version", "config_version", "config_versions", "latest_version"]

_CONFIGS = tables.CONFIG_VERSIONS


def latest_version(connection: Connection) -> int:
    """The number of the config in force (0 before any config was sent)."""
    value = connection.execute(select(func.max(_CONFIGS.c.version))).scalar_one()
    return int(value or 0)


def add_config_version(
    connection: Connection, text: str, sha256: str, created_at_us: int, created_by: str
) -> int:
    """Store ``text`` as the next version and return its number.

    Two writers racing for the same number collide on the primary key and one transaction fails
    whole, rather than both getting the same version.
    """
    version = latest_version(connection) + 1
    connection.execute(
        _CONFIGS.insert().values(
            version=version,
            text=text,
            sha256=sha256,
            created_at_us=created_at_us,
            created_by=created_by,
        )
    )
    return version


def config_version(connection: Connection, version: int) -> ConfigVersionRow | None:
    row = connection.execute(select(_CONFIGS).where(_CONFIGS.c.version == version)).first()
    return None if row is None else ConfigVersionRow(**row._mapping)


def config_versions(connection: Connection) -> list[ConfigVersionRow]:
    """Every version, newest first (text included)."""
    rows = connection.execute(select(_CONFIGS).order_by(_CONFIGS.c.version.desc()))
    return [ConfigVersionRow(**row._mapping) for row in rows]
