"""API tokens and roles: who may read, post events, or change the config and channels."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from duly.service.clock_rows import to_us
from duly.service.errors import InvalidError
from duly.store import tokens as stored
from duly.store.database import Database

__all__ = ["ROLES", "Identity", "authenticate", "create_token", "may"]

Role = Literal["viewer", "agent", "admin"]
ROLES: Final[tuple[Role, ...]] = ("viewer", "agent", "admin")
_RANK: Final[dict[str, int]] = {role: i for i, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Identity:
    token_id: int
    name: str
    role: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, role: str, name: str, now: datetime) -> str:
    """A new random token for ``role``; only its hash is stored, so it is shown once."""
    if role not in _RANK:
        raise InvalidError(f"role: must be one of {', '.join(ROLES)}, not {role!r}", "role")
    token = "duly_" + secrets.token_urlsafe(32)
    with db.write() as connection:
        stored.add_token(connection, name or role, role, _digest(token), to_us(now))
    return token


def authenticate(db: Database, token: str) -> Identity | None:
    with db.read() as connection:
        row = stored.token_by_hash(connection, _digest(token))
    return None if row is None else Identity(row.id, row.name, row.role)


def may(identity: Identity, needed: str) -> bool:
    """Roles are ordered: an admin may do what an agent may, an agent what a viewer may."""
    return _RANK.get(identity.role, -1) >= _RANK[needed]
