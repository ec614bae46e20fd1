"""Tickets' current state, their clocks and the thresholds those clocks will cross.

All three are derived from the events by the core and replaced together, per ticket, in the
transaction that stored the event that changed them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)

from duly.store import tables
from duly.store.bulk import insert_rows
from duly.store.tables import ClockRow, TicketRow

__all__ = [
    "ClockFilter",
    "all_clocks",
    "all_tickets",
    "clock_columns",
    "clock_counts",
    "clocks_of",
    "delete_derived",
    "finished_clock_keys",
    "insert_clocks",
    "insert_crossings",
    "lock_tickets",
    "mark_breached",
    "open_tickets",
    "queue",
    "ticket",
    "upsert_tickets",
]

_TICKETS = tables.TICKETS
_CLOCKS = tables.CLOCKS
_CROSSINGS = tables.CROSSINGS
_ALERTS = tables.ALERTS
_CHUNK = 500

#: What identifies a clock within the store (see ``ClockRow``).
ClockKey = tuple[str, str, str, int, int]


def _key_columns() -> tuple[Any, ...]:
    c = _CLOCKS.c
    return (c.ticket, c.agreement, c.metric, c.cycle, c.start_us)


# The statements re-deriving runs on every write, built once: building and keying a statement
# costs more than running it on a few rows, and these run several times per ingested request.
_NAMES: BindParameter[list[str]] = bindparam("names", expanding=True)
_FINISHED = select(*_key_columns()).where(
    _CLOCKS.c.ticket.in_(_NAMES),
    _CLOCKS.c.stop_us.is_not(None),
    _CLOCKS.c.config_version < bindparam("before"),
)
_DELETE_CLOCKS = delete(_CLOCKS).where(_CLOCKS.c.ticket.in_(_NAMES))
_DELETE_CROSSINGS = delete(_CROSSINGS).where(_CROSSINGS.c.ticket.in_(_NAMES))
_DELETE_TICKETS = delete(_TICKETS).where(_TICKETS.c.ticket.in_(_NAMES))
_FIRED = select(_ALERTS.c.alert_key).where(
    _ALERTS.c.alert_key.in_(bindparam("keys", expanding=True))
)


def lock_tickets(connection: Connection, tickets: Collection[str]) -> None:
    """Hold the tickets until the transaction ends, so two processes never re-derive one at once.

    Re-deriving deletes and re-inserts a ticket's rows: two PostgreSQL transactions doing it for
    the same ticket would each miss the other's new event, or collide on the ticket's key.
    Transaction-scoped advisory locks, taken in one order, serialise them without deadlock;
    SQLite has a single writer already.
    """
    if connection.dialect.name != "postgresql" or not tickets:
        return
    keys = sorted({_lock_key(name) for name in tickets})
    connection.exec_driver_sql(
        "SELECT pg_advisory_xact_lock(k)"
        " FROM (SELECT unnest(%(keys)s::bigint[]) AS k ORDER BY 1) AS s",
        {"keys": keys},
    )


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(f"duly.ticket:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def finished_clock_keys(
    connection: Connection, tickets: Collection[str], before_version: int
) -> set[ClockKey]:
    """Keys of finished clocks computed under a config older than ``before_version``."""
    keys: set[ClockKey] = set()
    names = sorted(tickets)
    for lo in range(0, len(names), _CHUNK):
        found = connection.execute(
            _FINISHED, {"names": names[lo : lo + _CHUNK], "before": before_version}
        )
        keys.update((t, a, m, int(c), int(s)) for t, a, m, c, s in found)
    return keys


def delete_derived(connection: Connection, tickets: Collection[str], keep: set[ClockKey]) -> None:
    """Remove the tickets' clocks (but those in ``keep``) and their pending crossings."""
    names = sorted(tickets)
    for lo in range(0, len(names), _CHUNK):
        chunk = names[lo : lo + _CHUNK]
        in_chunk = set(chunk)
        mine = [k for k in keep if k[0] in in_chunk]
        if mine:
            statement = _DELETE_CLOCKS.where(tuple_(*_key_columns()).not_in(mine))
            connection.execute(statement, {"names": chunk})
        else:
            connection.execute(_DELETE_CLOCKS, {"names": chunk})
        connection.execute(_DELETE_CROSSINGS, {"names": chunk})


def insert_clocks(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(connection, _CLOCKS, rows)


def insert_crossings(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert pending crossings, skipping any that already fired as an alert."""
    wanted = list(rows)
    if not wanted:
        return
    fired: set[str] = set()
    keys = [r["alert_key"] for r in wanted]
    for lo in range(0, len(keys), _CHUNK):
        fired.update(connection.execute(_FIRED, {"keys": keys[lo : lo + _CHUNK]}).scalars())
    insert_rows(connection, _CROSSINGS, [r for r in wanted if r["alert_key"] not in fired])


def upsert_tickets(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace the tickets' rows (delete then insert: simple, and the same on both databases)."""
    names = [r["ticket"] for r in rows]
    for lo in range(0, len(names), _CHUNK):
        connection.execute(_DELETE_TICKETS, {"names": names[lo : lo + _CHUNK]})
    insert_rows(connection, _TICKETS, rows)


def ticket(connection: Connection, name: str) -> TicketRow | None:
    row = connection.execute(select(_TICKETS).where(_TICKETS.c.ticket == name)).first()
    return None if row is None else TicketRow(**row._mapping)


def clocks_of(connection: Connection, name: str) -> list[ClockRow]:
    statement = (
        select(_CLOCKS)
        .where(_CLOCKS.c.ticket == name)
        .order_by(_CLOCKS.c.agreement, _CLOCKS.c.metric, _CLOCKS.c.cycle, _CLOCKS.c.start_us)
    )
    return [ClockRow(**row._mapping) for row in connection.execute(statement)]


def open_tickets(connection: Connection) -> list[str]:
    """Tickets with a clock still running: what a new config version re-derives."""
    statement = select(_CLOCKS.c.ticket).where(_CLOCKS.c.stop_us.is_(None)).distinct()
    return sorted(connection.execute(statement).scalars())


def all_tickets(connection: Connection) -> list[str]:
    return sorted(connection.execute(select(_TICKETS.c.ticket)).scalars())


def mark_breached(connection: Connection, now_us: int) -> int:
    """Running clocks whose due has passed become ``breached`` (as the core would say now)."""
    statement = (
        update(_CLOCKS)
        .where(
            _CLOCKS.c.state == "active",
            _CLOCKS.c.stop_us.is_(None),
            _CLOCKS.c.due_us <= now_us,
        )
        .values(state="breached", breached_at_us=_CLOCKS.c.due_us)
    )
    return int(connection.execute(statement).rowcount)


@dataclass(frozen=True)
class ClockFilter:
    """What the queue shows: each field, when set, must match one of its values."""

    states: tuple[str, ...] = ()
    agreements: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    tickets: tuple[str, ...] = ()
    running_only: bool = False


def _filtered(statement: Select[Any], where: ClockFilter) -> Select[Any]:
    c = _CLOCKS.c
    pairs = (
        (c.state, where.states),
        (c.agreement, where.agreements),
        (c.policy, where.policies),
        (c.metric, where.metrics),
        (c.priority, where.priorities),
        (c.group_name, where.groups),
        (c.assignee, where.assignees),
        (c.ticket, where.tickets),
    )
    for column, values in pairs:
        if values:
            statement = statement.where(column.in_(values))
    if where.running_only:
        statement = statement.where(c.stop_us.is_(None))
    return statement


def queue(
    connection: Connection,
    where: ClockFilter,
    limit: int,
    after: tuple[int, int] | None = None,
) -> list[ClockRow]:
    """Clocks soonest due first (ties by id), from after the cursor ``(due_us, id)``."""
    c = _CLOCKS.c
    statement = _filtered(select(_CLOCKS), where)
    if after is not None:
        due_us, row_id = after
        statement = statement.where(or_(c.due_us > due_us, and_(c.due_us == due_us, c.id > row_id)))
    statement = statement.order_by(c.due_us, c.id).limit(limit)
    return [ClockRow(**row._mapping) for row in connection.execute(statement)]


def clock_counts(connection: Connection) -> dict[str, int]:
    """How many clocks are in each state (for the metrics endpoint)."""
    statement = select(_CLOCKS.c.state, func.count()).group_by(_CLOCKS.c.state)
    return {state: int(n) for state, n in connection.execute(statement)}


def clock_columns(
    connection: Connection,
    columns: Sequence[str],
    where: ClockFilter,
    start_from_us: int | None = None,
    start_to_us: int | None = None,
) -> Sequence[Any]:
    """Plain result rows of ``columns`` (readable by name), for reports over many clocks;
    ``start_from_us``/``start_to_us`` keep clocks that started in ``[from, to)``."""
    statement = _filtered(select(*(_CLOCKS.c[name] for name in columns)), where)
    if start_from_us is not None:
        statement = statement.where(_CLOCKS.c.start_us >= start_from_us)
    if start_to_us is not None:
        statement = statement.where(_CLOCKS.c.start_us < start_to_us)
    return connection.execute(statement.order_by(_CLOCKS.c.id)).all()


def all_clocks(connection: Connection, where: ClockFilter) -> list[ClockRow]:
    statement = _filtered(select(_CLOCKS), where).order_by(_CLOCKS.c.id)
    return [ClockRow(**row._mapping) for row in connection.execute(statement)]
