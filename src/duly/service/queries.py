"""Reading what the store holds: a ticket, the queue, alerts and reports, all as of ``now``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from duly.core.clock_table import ClockTable
from duly.core.reports import compliance, sla_log
from duly.service.clock_rows import REPORT_COLUMNS, from_us, live_clock, live_table, to_us
from duly.service.configs import ConfigCache
from duly.service.deriver import settle
from duly.service.errors import InvalidError, NotFoundError
from duly.store import alerts as stored_alerts
from duly.store import clocks as stored
from duly.store import events as event_log
from duly.store.clocks import ClockFilter
from duly.store.database import Database

__all__ = [
    "clock_queue",
    "clock_table",
    "compliance_report",
    "decode_cursor",
    "list_alerts",
    "log_report",
    "ticket_events",
    "ticket_view",
]


def _iso(us: int | None) -> str | None:
    at = from_us(us)
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def ticket_view(db: Database, configs: ConfigCache, name: str, now: datetime) -> dict[str, Any]:
    """A ticket's state and every clock, as of ``now``."""
    settle(db, configs, now, tickets=[name])
    with db.read() as connection:
        row = stored.ticket(connection, name)
        if row is None:
            raise NotFoundError(f"ticket: no ticket {name!r}", "ticket")
        clocks = stored.clocks_of(connection, name)
        config = configs.current(connection).config
    return {
        "ticket": row.ticket,
        "created_at": _iso(row.created_at_us),
        "updated_at": _iso(row.updated_at_us),
        "status": row.status,
        "priority": row.priority,
        "group": row.group_name,
        "assignee": row.assignee,
        "organization": row.organization,
        "channel": row.channel,
        "deleted": row.deleted,
        "events": row.events,
        "fields": json.loads(row.state),
        "config_version": row.config_version,
        "clocks": [live_clock(c, config, now) for c in clocks],
    }


def ticket_events(db: Database, name: str) -> list[dict[str, Any]]:
    """The ticket's stored events as they were sent, in replay order (time, then id)."""
    with db.read() as connection:
        bodies = event_log.event_bodies(connection, [name]).get(name, [])
    events = [json.loads(body) for body in bodies]
    return sorted(events, key=lambda e: (datetime.fromisoformat(e["at"]), e["id"]))


def encode_cursor(due_us: int, row_id: int) -> str:
    return f"{due_us}.{row_id}"


def decode_cursor(text: str | None) -> tuple[int, int] | None:
    """The position a page ended at; a cursor not made by this API is refused."""
    if not text:
        return None
    due, _, row_id = text.partition(".")
    try:
        return int(due), int(row_id)
    except ValueError:
        raise InvalidError("cursor: not a cursor this API returned", "cursor") from None


def clock_queue(
    db: Database,
    configs: ConfigCache,
    where: ClockFilter,
    now: datetime,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Clocks soonest breach first, a page at a time, with the cursor of the next page."""
    if not 1 <= limit <= 1000:
        raise InvalidError("limit: must be from 1 to 1000", "limit")
    after = decode_cursor(cursor)
    settle(db, configs, now)
    with db.read() as connection:
        rows = stored.queue(connection, where, limit + 1, after)
        config = configs.current(connection).config
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].due_us, page[-1].id) if len(rows) > limit else None
    return {"clocks": [live_clock(r, config, now) for r in page], "next_cursor": next_cursor}


def clock_table(
    db: Database,
    configs: ConfigCache,
    now: datetime,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    agreements: Sequence[str] = (),
    metrics: Sequence[str] = (),
) -> ClockTable:
    """Every stored clock as of ``now`` (running ones brought up to date), as a report table.

    ``start_from``/``start_to`` keep clocks that started in ``[from, to)``.
    """
    where = ClockFilter(agreements=tuple(agreements), metrics=tuple(metrics))
    settle(db, configs, now)
    with db.read() as connection:
        rows = stored.clock_columns(
            connection,
            REPORT_COLUMNS,
            where,
            None if start_from is None else to_us(start_from),
            None if start_to is None else to_us(start_to),
        )
        config = configs.current(connection).config
    return live_table(rows, config, now)


def compliance_report(
    db: Database,
    configs: ConfigCache,
    now: datetime,
    by: Sequence[str],
    tz: tzinfo,
    **filters: Any,
) -> list[dict[str, Any]]:
    """The compliance report over the stored clocks: the figures ``duly report`` gives."""
    table = clock_table(db, configs, now, **filters)
    try:
        return compliance(table, by, tz)
    except ValueError as exc:
        raise InvalidError(f"by: {exc}", "by") from exc


def log_report(
    db: Database, configs: ConfigCache, now: datetime, **filters: Any
) -> list[dict[str, Any]]:
    """One row per clock, the columns of ``duly report log``."""
    return list(sla_log(clock_table(db, configs, now, **filters)))


def list_alerts(
    db: Database,
    where: stored_alerts.AlertFilter,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Alerts newest first, each with its deliveries' states."""
    if not 1 <= limit <= 1000:
        raise InvalidError("limit: must be from 1 to 1000", "limit")
    try:
        before = int(cursor) if cursor else None
    except ValueError:
        raise InvalidError("cursor: not a cursor this API returned", "cursor") from None
    with db.read() as connection:
        rows = stored_alerts.alerts(connection, where, limit + 1, before)
        page = rows[:limit]
        deliveries = stored_alerts.deliveries_of(connection, [a.id for a in page])
    by_alert: dict[int, list[dict[str, Any]]] = {}
    for d in deliveries:
        by_alert.setdefault(d.alert_id, []).append(
            {
                "channel": d.channel,
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": _iso(d.next_attempt_us) if d.state == "pending" else None,
                "delivered_at": _iso(d.delivered_at_us),
                "last_error": d.last_error,
            }
        )
    alerts = [
        {
            "id": a.id,
            "ticket": a.ticket,
            "kind": a.kind,
            "threshold": a.threshold,
            "level": a.level,
            "due_at": _iso(a.due_at_us),
            "fired_at": _iso(a.fired_at_us),
            "clock": json.loads(a.clock),
            "deliveries": by_alert.get(a.id, []),
        }
        for a in page
    ]
    return {"alerts": alerts, "next_cursor": str(page[-1].id) if len(rows) > limit else None}
