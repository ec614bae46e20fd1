"""The event log: append-only, idempotent by event id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import psycopg
from sqlalchemy import Connection, Insert, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from duly.store import tables
from duly.store.bulk import copy_rows
from duly.store.dialect import insert_ignoring_conflicts

__all__ = [
    "append_events",
    "count_events",
    "event_bodies",
    "iter_event_bodies",
    "last_seqs",
    "other_event_bodies",
    "sequenced_bodies",
]

_EVENTS = tables.EVENTS
#: Bound parameters per statement stay well under SQLite's limit (32766).
_CHUNK = 500
#: Built once (per dialect for the insert): every ingested request runs both.
_BODIES = (
    select(_EVENTS.c.ticket, _EVENTS.c.body)
    .where(_EVENTS.c.ticket.in_(bindparam("names", expanding=True)))
    .order_by(_EVENTS.c.seq)
)
_SEQUENCED = (
    select(_EVENTS.c.ticket, _EVENTS.c.seq, _EVENTS.c.body)
    .where(_EVENTS.c.ticket.in_(bindparam("names", expanding=True)))
    .order_by(_EVENTS.c.seq)
)
_LAST_SEQS = (
    select(_EVENTS.c.ticket, func.max(_EVENTS.c.seq))
    .where(_EVENTS.c.ticket.in_(bindparam("names", expanding=True)))
    .group_by(_EVENTS.c.ticket)
)
_OLDER_BODIES = (
    select(_EVENTS.c.ticket, _EVENTS.c.body)
    .where(
        _EVENTS.c.ticket.in_(bindparam("names", expanding=True)),
        _EVENTS.c.event_id.not_in(bindparam("skip", expanding=True)),
    )
    .order_by(_EVENTS.c.seq)
)
_APPENDS: dict[str, Insert] = {}


def _append(connection: Connection) -> Insert:
    statement = _APPENDS.get(connection.dialect.name)
    if statement is None:
        statement = insert_ignoring_conflicts(connection, _EVENTS, "event_id").returning(
            _EVENTS.c.event_id
        )
        _APPENDS[connection.dialect.name] = statement
    return statement


def append_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert the events whose id is not stored yet; the ids that were new.

    Each row has ``event_id``, ``ticket``, ``at_us``, ``type``, ``body`` and ``received_at_us``.
    """
    if connection.dialect.name == "sqlite":
        return _append_on_sqlite(connection, rows)
    if connection.dialect.name == "postgresql":
        return _append_on_postgresql(connection, rows)
    new: set[str] = set()
    for lo in range(0, len(rows), _CHUNK):
        chunk = rows[lo : lo + _CHUNK]
        new.update(connection.execute(_append(connection), list(chunk)).scalars())
    return new


#: The columns of an event row, in the order of the appends' parameters.
_COLUMNS = ("event_id", "ticket", "at_us", "type", "body", "received_at_us")
_SQLITE_APPEND = (
    f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    " ON CONFLICT (event_id) DO NOTHING"
)
_LAST_SEQ = select(func.max(_EVENTS.c.seq))
_SEQ_AFTER = select(_EVENTS.c.event_id).where(_EVENTS.c.seq > bindparam("before"))


def _append_on_sqlite(connection: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """SQLite's writer is alone (``Database.write``) and events are never deleted, so the rows
    this inserts are exactly those with a ``seq`` above the largest before it: one
    ``executemany`` and no id returned one by one (several times cheaper), and only when some
    ids were stored already a query for which were new."""
    unique = {row["event_id"]: row for row in rows}
    if not unique:
        return set()
    before = connection.execute(_LAST_SEQ).scalar_one() or 0
    inserted = connection.exec_driver_sql(
        _SQLITE_APPEND, [tuple(row[c] for c in _COLUMNS) for row in unique.values()]
    ).rowcount
    if inserted == len(unique):
        return set(unique)
    return set(connection.execute(_SEQ_AFTER, {"before": before}).scalars())


#: One statement for a whole group of rows: the rows go as one binary array per column and
#: are unnested on the server (an insert per row costs a round of parameter handling each).
_POSTGRESQL_APPEND = (
    f"INSERT INTO events ({', '.join(_COLUMNS)})"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[],"
    " %b::bigint[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)
_POSTGRESQL_STORED = "SELECT event_id FROM events WHERE event_id = ANY(%b::text[])"
_POSTGRESQL_COPY = f"COPY events ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ("text", "text", "int8", "text", "text", "int8")
_ROW = itemgetter(*_COLUMNS)


#: Rows from which the look-up and copy pay for their extra round trips (about half a
#: millisecond): below, the one statement is as fast or faster.
_COPY_FROM = 2048


def _append_on_postgresql(connection: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Many rows: the ids already stored are looked up first, and the rest are copied in
    (``COPY``, in binary), which takes the server about half the time of an
    ``INSERT ... ON CONFLICT`` of the same rows.

    Another transaction may store one of the ids between the look-up and the copy; the copy
    then fails on the unique index, is rolled back to its savepoint, and the rows go in by
    ``INSERT ... ON CONFLICT DO NOTHING``, which skips whatever is stored by then.
    """
    unique = {row["event_id"]: row for row in rows}
    if not unique:
        return set()
    if len(unique) < _COPY_FROM:
        return _insert_on_postgresql(connection, unique.values())
    stored = {r[0] for r in connection.exec_driver_sql(_POSTGRESQL_STORED, (list(unique),))}
    fresh = [row for key, row in unique.items() if key not in stored] if stored else unique.values()
    if not fresh:
        return set()
    try:
        copy_rows(connection, _POSTGRESQL_COPY, map(_ROW, fresh), _COPY_TYPES)
    except IntegrityError as exc:
        if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
            raise
        return _insert_on_postgresql(connection, fresh)
    return set(unique) - stored


def _insert_on_postgresql(connection: Connection, rows: Collection[dict[str, Any]]) -> set[str]:
    columns = tuple([row[c] for row in rows] for c in _COLUMNS)
    return {r[0] for r in connection.exec_driver_sql(_POSTGRESQL_APPEND, columns)}


def event_bodies(connection: Connection, tickets: Collection[str]) -> dict[str, list[str]]:
    """Every stored event body of each ticket, in arrival order."""
    bodies: dict[str, list[str]] = defaultdict(list)
    names = sorted(tickets)
    for lo in range(0, len(names), _CHUNK):
        for ticket, body in connection.execute(_BODIES, {"names": names[lo : lo + _CHUNK]}):
            bodies[ticket].append(body)
    return bodies


def sequenced_bodies(
    connection: Connection, tickets: Collection[str]
) -> dict[str, tuple[int, list[str]]]:
    """Each ticket's stored event bodies in arrival order, with the last one's sequence number.

    The number tells a deriver later whether the ticket got another event in the meantime.
    """
    found: dict[str, tuple[int, list[str]]] = {}
    names = sorted(tickets)
    for lo in range(0, len(names), _CHUNK):
        for ticket, seq, body in connection.execute(_SEQUENCED, {"names": names[lo : lo + _CHUNK]}):
            entry = found.get(ticket)
            if entry is None:
                found[ticket] = (int(seq), [body])
            else:
                entry[1].append(body)
                found[ticket] = (int(seq), entry[1])
    return found


def last_seqs(connection: Connection, tickets: Collection[str]) -> dict[str, int]:
    """The sequence number of each ticket's latest stored event (tickets with none are left out)."""
    found: dict[str, int] = {}
    names = sorted(tickets)
    for lo in range(0, len(names), _CHUNK):
        for ticket, seq in connection.execute(_LAST_SEQS, {"names": names[lo : lo + _CHUNK]}):
            found[ticket] = int(seq)
    return found


def other_event_bodies(
    connection: Connection, known: Mapping[str, Collection[str]]
) -> dict[str, list[str]]:
    """The stored event bodies of each ticket in ``known`` but those whose id it lists.

    For re-deriving after an append: the caller has the events it just stored in memory, so only
    the older ones come back (none at all for a ticket new with this append).
    """
    bodies: dict[str, list[str]] = defaultdict(list)
    names = sorted(known)
    lo = 0
    while lo < len(names):
        # As many tickets as keep the bound parameters (names and ids) under the limit.
        hi, size = lo, 0
        while hi < len(names) and (hi == lo or (hi - lo < _CHUNK and size < 20 * _CHUNK)):
            size += len(known[names[hi]])
            hi += 1
        skip = [i for name in names[lo:hi] for i in known[name]]
        found = connection.execute(_OLDER_BODIES, {"names": names[lo:hi], "skip": skip})
        for ticket, body in found:
            bodies[ticket].append(body)
        lo = hi
    return bodies


def iter_event_bodies(connection: Connection, batch: int = 10_000) -> Iterator[list[str]]:
    """All stored event bodies in arrival order, a batch at a time (for whole-history work)."""
    last = 0
    while True:
        statement = (
            select(_EVENTS.c.seq, _EVENTS.c.body)
            .where(_EVENTS.c.seq > last)
            .order_by(_EVENTS.c.seq)
            .limit(batch)
        )
        rows = connection.execute(statement).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [body for _, body in rows]


def count_events(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(_EVENTS)).scalar_one())
