"""Taking events in: validate all, store the new ones, re-derive their tickets, atomically."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from duly.core.events import Event
from duly.service.clock_rows import to_us
from duly.service.configs import ConfigCache
from duly.service.derive import rederive
from duly.service.errors import InvalidError
from duly.service.event_files import event_from_mapping, event_to_mapping
from duly.store import events as event_log
from duly.store.database import Database

__all__ = ["MAX_BATCH", "IngestResult", "ingest", "validate_events"]

#: The most events one request may carry: enough for a backfill page, small enough to stay one
#: short transaction.
MAX_BATCH: Final = 10_000


@dataclass(frozen=True)
class IngestResult:
    """How many events were new and how many repeated an id already stored (or in the batch)."""

    new: int
    duplicates: int
    tickets: int


def validate_events(items: Sequence[Any]) -> list[Event]:
    """Every item as an event; the first bad one is refused with its index and field."""
    if len(items) > MAX_BATCH:
        raise InvalidError(f"at most {MAX_BATCH} events per request, not {len(items)}", "events")
    events: list[Event] = []
    single = len(items) == 1
    for index, item in enumerate(items):
        prefix = "" if single else f"[{index}]"
        try:
            events.append(event_from_mapping(item))
        except ValueError as exc:
            text = str(exc)
            name, _, reason = text.partition(": ")
            field = name if reason and " " not in name else "event"
            raise InvalidError(f"event{prefix}: {text}", f"{prefix}.{field}".lstrip(".")) from exc
    return events


def ingest(db: Database, configs: ConfigCache, items: Sequence[Any], now: datetime) -> IngestResult:
    """Store the events whose id is new and bring their tickets' clocks up to date.

    All or nothing: one bad event refuses the whole request before anything is written, and a
    failure while storing rolls everything back.
    """
    events = validate_events(items)
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.id, event)
    received = to_us(now)
    rows = [
        {
            "event_id": e.id,
            "ticket": e.ticket,
            "at_us": to_us(e.at),
            "type": e.type,
            "body": json.dumps(event_to_mapping(e), ensure_ascii=False, sort_keys=True),
            "received_at_us": received,
        }
        for e in unique.values()
    ]
    with db.write() as connection:
        new = event_log.append_events(connection, rows)
        tickets = {unique[i].ticket for i in new}
        rederive(connection, tickets, configs.current(connection), now)
    return IngestResult(new=len(new), duplicates=len(events) - len(new), tickets=len(tickets))
