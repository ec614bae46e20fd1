"""The derive queue: tickets whose newest events their stored clocks do not reflect yet.

Ingesting appends a row per ticket it gave a new event; derivers lease rows, derive the
tickets and delete the rows. Rows are only ever inserted and deleted by their own key, so an
ingest never waits on a deriver's lock, and two derivers never take the same row (PostgreSQL
``FOR UPDATE SKIP LOCKED``; SQLite has a single writer).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, Connection, bindparam, delete, func, select, update

from duly.store import tables

__all__ = ["Claim", "backlog", "claim", "enqueue", "finish", "last_id", "queued", "release"]

_QUEUE = tables.DERIVE_QUEUE
_CHUNK = 500
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_INSERT = _QUEUE.insert()
_FINISH = delete(_QUEUE).where(_QUEUE.c.id.in_(_IDS))
_RELEASE = update(_QUEUE).where(_QUEUE.c.id.in_(_IDS)).values(claimed_until_us=0)


_POSTGRESQL_ENQUEUE = (
    "INSERT INTO derive_queue (ticket, queued_at_us, claimed_until_us)"
    " SELECT t, %b::bigint, 0 FROM unnest(%b::text[]) AS t"
)


@dataclass(frozen=True)
class Claim:
    """Rows a deriver has leased, and the distinct tickets they name."""

    ids: tuple[int, ...]
    tickets: tuple[str, ...]


def enqueue(connection: Connection, tickets: Collection[str], now_us: int) -> None:
    """Queue the tickets for deriving, in the transaction that stored their new events."""
    if not tickets:
        return
    if connection.dialect.name == "postgresql":
        # One statement (the names as one binary array) rather than a row of parameters each.
        connection.exec_driver_sql(_POSTGRESQL_ENQUEUE, (now_us, sorted(tickets)))
        return
    rows = [{"ticket": t, "queued_at_us": now_us, "claimed_until_us": 0} for t in sorted(tickets)]
    for lo in range(0, len(rows), _CHUNK):
        connection.execute(_INSERT, rows[lo : lo + _CHUNK])


def claim(
    connection: Connection,
    now_us: int,
    lease_us: int,
    limit: int,
    tickets: Collection[str] | None = None,
    through: int | None = None,
) -> Claim:
    """Lease up to ``limit`` unleased rows, oldest first (only of ``tickets``, and only up to
    row ``through``, when given).

    The lease ends at ``now_us + lease_us``: a deriver that dies leaves its rows to the next.
    """
    statement = (
        select(_QUEUE.c.id, _QUEUE.c.ticket)
        .where(_QUEUE.c.claimed_until_us <= now_us)
        .order_by(_QUEUE.c.id)
        .limit(limit)
    )
    if tickets is not None:
        statement = statement.where(_QUEUE.c.ticket.in_(sorted(tickets)))
    if through is not None:
        statement = statement.where(_QUEUE.c.id <= through)
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = connection.execute(statement).all()
    if not rows:
        return Claim((), ())
    ids = tuple(int(row[0]) for row in rows)
    for lo in range(0, len(ids), _CHUNK):
        connection.execute(
            update(_QUEUE)
            .where(_QUEUE.c.id.in_(ids[lo : lo + _CHUNK]))
            .values(claimed_until_us=now_us + lease_us)
        )
    return Claim(ids, tuple(sorted({str(row[1]) for row in rows})))


def queued(connection: Connection) -> Claim:
    """Every row, leased or not (for re-deriving everything in one transaction)."""
    rows = connection.execute(select(_QUEUE.c.id, _QUEUE.c.ticket)).all()
    return Claim(tuple(int(r[0]) for r in rows), tuple(sorted({str(r[1]) for r in rows})))


def finish(connection: Connection, ids: Sequence[int]) -> None:
    """The rows' tickets are derived (or a newer row covers them): remove the rows."""
    for lo in range(0, len(ids), _CHUNK):
        connection.execute(_FINISH, {"ids": list(ids[lo : lo + _CHUNK])})


def release(connection: Connection, ids: Sequence[int]) -> None:
    """Give the rows back unleased, for whichever deriver comes next."""
    for lo in range(0, len(ids), _CHUNK):
        connection.execute(_RELEASE, {"ids": list(ids[lo : lo + _CHUNK])})


def backlog(
    connection: Connection, tickets: Collection[str] | None = None, through: int | None = None
) -> int:
    """Rows waiting or being worked on (only of ``tickets``, up to row ``through``, if given)."""
    statement = select(func.count()).select_from(_QUEUE)
    if tickets is not None:
        statement = statement.where(_QUEUE.c.ticket.in_(sorted(tickets)))
    if through is not None:
        statement = statement.where(_QUEUE.c.id <= through)
    return int(connection.execute(statement).scalar_one())


def last_id(connection: Connection) -> int | None:
    """The newest row's id (None when the queue is empty)."""
    found = connection.execute(select(func.max(_QUEUE.c.id))).scalar_one()
    return None if found is None else int(found)
