"""Counts an operator watches (clocks by state, alert deliveries by state) and a health check.

Read at scrape time from the store, so every API process reports the same figures whatever
process did the work.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError

from duly.store import alerts as stored_alerts
from duly.store import clocks as stored_clocks
from duly.store import configs as stored_configs
from duly.store import derive_queue
from duly.store.database import Database

__all__ = ["CLOCK_STATES", "DELIVERY_STATES", "clock_counts", "delivery_counts", "health"]

#: States reported even when no clock is in them, so a dashboard's series never disappear.
CLOCK_STATES: Final = ("active", "paused", "met", "breached", "cancelled")
DELIVERY_STATES: Final = ("pending", "delivered", "dead")


def clock_counts(db: Database) -> dict[str, int]:
    """Stored clocks per state (a running clock past due counts as breached once re-derived)."""
    with db.read() as connection:
        counts = stored_clocks.clock_counts(connection)
    return {state: counts.get(state, 0) for state in (*CLOCK_STATES, *sorted(counts))}


def delivery_counts(db: Database) -> dict[str, int]:
    """Alert deliveries per state: ``dead`` ones failed for good and wait for a retry."""
    with db.read() as connection:
        counts = stored_alerts.delivery_counts(connection)
    return {state: counts.get(state, 0) for state in (*DELIVERY_STATES, *sorted(counts))}


def health(db: Database) -> dict[str, Any]:
    """Whether the database answers a real query (the config table's newest version).

    Also how many tickets wait to be derived: a backlog that keeps growing means the derivers
    cannot keep up with ingestion.
    """
    try:
        with db.read() as connection:
            version = stored_configs.latest_version(connection)
            queued = derive_queue.backlog(connection)
    except SQLAlchemyError as exc:
        return {"ok": False, "database": f"unavailable: {type(exc).__name__}"}
    return {"ok": True, "database": "ok", "config_version": version, "derive_backlog": queued}
