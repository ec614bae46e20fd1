"""The alert outbox: alerts fired from due crossings, and their deliveries to channels.

Firing and claiming lock the rows they take with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several monitors share the work without waiting on each other or taking the same row; SQLite
has one writer at a time and needs no row locks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, delete, func, select, update

from duly.store import tables
from duly.store.dialect import insert_ignoring_conflicts
from duly.store.tables import AlertRow, ChannelRow, DeliveryRow

__all__ = [
    "RESUME",
    "AlertFilter",
    "Claimed",
    "alert_exists",
    "alerts",
    "channel",
    "channels",
    "claim_deliveries",
    "delete_channel",
    "deliveries_of",
    "delivery_counts",
    "fire_due_crossings",
    "next_crossing_at",
    "put_channel",
    "record_attempt",
    "retry_alert",
    "take_due_resumptions",
]

_CROSSINGS = tables.CROSSINGS
_ALERTS = tables.ALERTS
_DELIVERIES = tables.DELIVERIES
_CHANNELS = tables.CHANNELS


#: The kind of crossing that is no alert: a paused clock's cap runs out and its ticket must be
#: re-derived (the clock runs again, with a due and alerts of its own).
RESUME: Final = "resume"


def take_due_resumptions(connection: Connection, now_us: int, limit: int = 500) -> list[str]:
    """Remove the resumptions due by ``now_us`` and return their tickets, to be re-derived in
    the same transaction (a failure puts them back)."""
    statement = (
        select(_CROSSINGS.c.id, _CROSSINGS.c.ticket)
        .where(_CROSSINGS.c.kind == RESUME, _CROSSINGS.c.at_us <= now_us)
        .order_by(_CROSSINGS.c.at_us)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = connection.execute(statement).all()
    if due:
        connection.execute(delete(_CROSSINGS).where(_CROSSINGS.c.id.in_([i for i, _ in due])))
    return sorted({ticket for _, ticket in due})


def fire_due_crossings(connection: Connection, now_us: int, limit: int = 500) -> list[int]:
    """Turn crossings due by ``now_us`` into alerts and pending deliveries; the new alert ids.

    The crossing rows are deleted in the same transaction: a crossing becomes an alert exactly
    once, and the unique ``alert_key`` keeps a crossing re-derived later from firing again.
    """
    statement = (
        select(_CROSSINGS)
        .where(_CROSSINGS.c.at_us <= now_us, _CROSSINGS.c.kind != RESUME)
        .order_by(_CROSSINGS.c.at_us)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = [dict(row._mapping) for row in connection.execute(statement)]
    fired: list[int] = []
    for crossing in due:
        insert = insert_ignoring_conflicts(connection, _ALERTS, "alert_key").returning(_ALERTS.c.id)
        alert_id = connection.execute(
            insert,
            {
                "alert_key": crossing["alert_key"],
                "ticket": crossing["ticket"],
                "kind": crossing["kind"],
                "threshold": crossing["threshold"],
                "level": crossing["level"],
                "due_at_us": crossing["at_us"],
                "fired_at_us": now_us,
                "clock": crossing["clock"],
            },
        ).scalar()
        if alert_id is None:
            continue  # fired already, by another monitor or before a restart
        fired.append(int(alert_id))
        notify = json.loads(crossing["notify"])
        if notify:
            connection.execute(
                _DELIVERIES.insert(),
                [
                    {
                        "alert_id": alert_id,
                        "channel": name,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_us": now_us,
                    }
                    for name in notify
                ],
            )
    if due:
        connection.execute(delete(_CROSSINGS).where(_CROSSINGS.c.id.in_([c["id"] for c in due])))
    return fired


def next_crossing_at(connection: Connection) -> int | None:
    """When the next pending crossing is due (µs), so the monitor can sleep until then."""
    value = connection.execute(select(func.min(_CROSSINGS.c.at_us))).scalar()
    return None if value is None else int(value)


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds a lease on, with what it needs to send it."""

    delivery_id: int
    attempts: int
    channel: str
    alert: AlertRow


def claim_deliveries(
    connection: Connection, owner: str, now_us: int, lease_us: int, limit: int = 50
) -> list[Claimed]:
    """Lease pending deliveries that are due; a lease that ran out (its worker died) is free."""
    d = _DELIVERIES.c
    statement = (
        select(d.id)
        .where(
            d.state == "pending",
            d.next_attempt_us <= now_us,
            (d.lease_until_us.is_(None)) | (d.lease_until_us < now_us),
        )
        .order_by(d.next_attempt_us, d.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(connection.execute(statement).scalars())
    if not ids:
        return []
    connection.execute(
        update(_DELIVERIES)
        .where(d.id.in_(ids))
        .values(lease_owner=owner, lease_until_us=now_us + lease_us)
    )
    rows = connection.execute(
        select(_DELIVERIES, _ALERTS)
        .join(_ALERTS, _ALERTS.c.id == d.alert_id)
        .where(d.id.in_(ids))
        .order_by(d.next_attempt_us, d.id)
    )
    claimed: list[Claimed] = []
    alert_columns = [c.name for c in _ALERTS.columns]
    for row in rows:
        values = row._mapping
        alert = AlertRow(**{name: values[_ALERTS.c[name]] for name in alert_columns})
        claimed.append(
            Claimed(int(values[d.id]), int(values[d.attempts]), str(values[d.channel]), alert)
        )
    return claimed


def record_attempt(
    connection: Connection,
    delivery_id: int,
    owner: str,
    *,
    now_us: int,
    delivered: bool,
    error: str | None = None,
    retry_at_us: int | None = None,
) -> bool:
    """Record how an attempt went; False if the lease was lost meanwhile (nothing written).

    A failed attempt with no ``retry_at_us`` dead-letters the delivery.
    """
    d = _DELIVERIES.c
    if delivered:
        values: dict[str, Any] = {"state": "delivered", "delivered_at_us": now_us}
    elif retry_at_us is None:
        values = {"state": "dead"}
    else:
        values = {"state": "pending", "next_attempt_us": retry_at_us}
    values.update(attempts=d.attempts + 1, last_error=error, lease_owner=None, lease_until_us=None)
    statement = (
        update(_DELIVERIES)
        .where(d.id == delivery_id, d.lease_owner == owner, d.state == "pending")
        .values(**values)
    )
    return int(connection.execute(statement).rowcount) == 1


def alert_exists(connection: Connection, alert_id: int) -> bool:
    statement = select(_ALERTS.c.id).where(_ALERTS.c.id == alert_id)
    return connection.execute(statement).first() is not None


def retry_alert(connection: Connection, alert_id: int, now_us: int) -> int:
    """Send an alert's dead-lettered deliveries again; how many were re-queued."""
    d = _DELIVERIES.c
    statement = (
        update(_DELIVERIES)
        .where(d.alert_id == alert_id, d.state == "dead")
        .values(state="pending", next_attempt_us=now_us, attempts=0, last_error=None)
    )
    return int(connection.execute(statement).rowcount)


@dataclass(frozen=True)
class AlertFilter:
    tickets: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    delivery_states: tuple[str, ...] = ()


def alerts(
    connection: Connection, where: AlertFilter, limit: int, before_id: int | None = None
) -> list[AlertRow]:
    """Alerts newest first, from before the cursor ``before_id``."""
    a = _ALERTS.c
    statement = select(_ALERTS)
    if where.tickets:
        statement = statement.where(a.ticket.in_(where.tickets))
    if where.kinds:
        statement = statement.where(a.kind.in_(where.kinds))
    if where.delivery_states:
        having = select(_DELIVERIES.c.alert_id).where(
            _DELIVERIES.c.state.in_(where.delivery_states)
        )
        statement = statement.where(a.id.in_(having))
    if before_id is not None:
        statement = statement.where(a.id < before_id)
    statement = statement.order_by(a.id.desc()).limit(limit)
    return [AlertRow(**row._mapping) for row in connection.execute(statement)]


def deliveries_of(connection: Connection, alert_ids: Sequence[int]) -> list[DeliveryRow]:
    if not alert_ids:
        return []
    statement = (
        select(_DELIVERIES)
        .where(_DELIVERIES.c.alert_id.in_(list(alert_ids)))
        .order_by(_DELIVERIES.c.id)
    )
    return [DeliveryRow(**row._mapping) for row in connection.execute(statement)]


def delivery_counts(connection: Connection) -> dict[str, int]:
    statement = select(_DELIVERIES.c.state, func.count()).group_by(_DELIVERIES.c.state)
    return {state: int(n) for state, n in connection.execute(statement)}


def put_channel(connection: Connection, name: str, kind: str, settings: str, now_us: int) -> None:
    connection.execute(delete(_CHANNELS).where(_CHANNELS.c.name == name))
    connection.execute(
        _CHANNELS.insert().values(name=name, kind=kind, settings=settings, updated_at_us=now_us)
    )


def delete_channel(connection: Connection, name: str) -> bool:
    result = connection.execute(delete(_CHANNELS).where(_CHANNELS.c.name == name))
    return int(result.rowcount) == 1


def channel(connection: Connection, name: str) -> ChannelRow | None:
    row = connection.execute(select(_CHANNELS).where(_CHANNELS.c.name == name)).first()
    return None if row is None else ChannelRow(**row._mapping)


def channels(connection: Connection) -> list[ChannelRow]:
    rows = connection.execute(select(_CHANNELS).order_by(_CHANNELS.c.name))
    return [ChannelRow(**row._mapping) for row in rows]
