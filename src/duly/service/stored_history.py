"""The whole stored event log as core events, for whole-history work (previews, re-evaluation)."""

from __future__ import annotations

import json

from sqlalchemy import Connection

from duly.core.events import Event
from duly.service.event_files import event_from_mapping
from duly.store import events as event_log

__all__ = ["stored_events"]


def stored_events(connection: Connection) -> list[Event]:
    return [
        event_from_mapping(json.loads(body))
        for batch in event_log.iter_event_bodies(connection)
        for body in batch
    ]
