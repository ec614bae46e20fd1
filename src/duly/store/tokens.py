"""API tokens: only their SHA-256 is stored."""

from __future__ import annotations

from sqlalchemy import Connection, select

from duly.store import tables
from duly.store.tables import TokenRow

__all__ = ["add_token", "token_by_hash"]

_TOKENS = tables.TOKENS


def add_token(connection: Connection, name: str, role: str, sha256: str, created_at_us: int) -> int:
    result = connection.execute(
        _TOKENS.insert().values(
            name=name, role=role, sha256=sha256, created_at_us=created_at_us, revoked=False
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def token_by_hash(connection: Connection, sha256: str) -> TokenRow | None:
    """The live token with this hash, if any."""
    statement = select(_TOKENS).where(_TOKENS.c.sha256 == sha256, _TOKENS.c.revoked.is_(False))
    row = connection.execute(statement).first()
    return None if row is None else TokenRow(**row._mapping)
