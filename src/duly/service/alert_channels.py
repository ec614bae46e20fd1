"""Alert channels as the server keeps them, and alerts as messages for those channels."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from duly.service.channels import (
    Channel,
    ChannelError,
    Message,
    channel_from_mapping,
    channel_to_mapping,
)
from duly.service.clock_rows import from_us, to_us
from duly.service.errors import InvalidError, NotFoundError
from duly.store import alerts as stored
from duly.store.database import Database
from duly.store.tables import AlertRow

__all__ = [
    "alert_message",
    "delete_channel",
    "get_channel",
    "list_channels",
    "load_channel",
    "put_channel",
    "retry_alert",
]


def put_channel(db: Database, name: str, data: Any, now: datetime) -> dict[str, Any]:
    """Create or replace the channel ``name``; refused whole with the field at fault."""
    if not isinstance(data, dict):
        raise InvalidError("channel: the body must be a JSON object", "channel")
    try:
        channel = channel_from_mapping(name, data)
    except ChannelError as exc:
        raise InvalidError(f"{exc.field}: {exc.reason}", exc.field) from exc
    settings = channel_to_mapping(channel, reveal_secrets=True)
    with db.write() as connection:
        stored.put_channel(
            connection, name, str(settings["kind"]), json.dumps(settings), to_us(now)
        )
    # The secret is shown once, to whoever created the channel, like a token.
    return settings


def load_channel(connection: Connection, name: str) -> Channel | None:
    row = stored.channel(connection, name)
    if row is None:
        return None
    data = json.loads(row.settings)
    return channel_from_mapping(name, data)


def get_channel(db: Database, name: str) -> dict[str, Any]:
    with db.read() as connection:
        channel = load_channel(connection, name)
    if channel is None:
        raise NotFoundError(f"channel: no channel {name!r}", "name")
    return channel_to_mapping(channel, reveal_secrets=False)


def list_channels(db: Database) -> list[dict[str, Any]]:
    """Every channel by name, secrets masked (the name is the key, so it leads each entry)."""
    with db.read() as connection:
        rows = stored.channels(connection)
    return [
        {"name": r.name}
        | channel_to_mapping(channel_from_mapping(r.name, json.loads(r.settings)), False)
        for r in rows
    ]


def delete_channel(db: Database, name: str) -> None:
    with db.write() as connection:
        if not stored.delete_channel(connection, name):
            raise NotFoundError(f"channel: no channel {name!r}", "name")


def retry_alert(db: Database, alert_id: int, now: datetime) -> int:
    """Queue an alert's dead-lettered deliveries again; how many."""
    with db.write() as connection:
        if not stored.alert_exists(connection, alert_id):
            raise NotFoundError(f"alert: no alert {alert_id}", "id")
        return stored.retry_alert(connection, alert_id, to_us(now))


_VERBS = {"warning": "is close to its target", "breach": "breached", "escalation": "is escalated"}


def alert_message(alert: AlertRow) -> Message:
    """What an alert says, the same on every channel (the webhook sends ``payload`` as data)."""
    clock = json.loads(alert.clock)
    fired = from_us(alert.fired_at_us)
    due = from_us(alert.due_at_us)
    assert fired is not None
    assert due is not None
    what = f"{clock['metric']} on ticket {alert.ticket} ({clock['agreement']}/{clock['policy']})"
    level = f" (level {alert.level})" if alert.kind == "escalation" else ""
    subject = f"[duly] {alert.kind}{level}: {what}"
    text = (
        f"The {clock['metric']} clock of ticket {alert.ticket} {_VERBS.get(alert.kind, '')}"
        f"{level}.\nAgreement {clock['agreement']}, policy {clock['policy']}, priority "
        f"{clock.get('priority')}.\nDue {clock['due']}; threshold {alert.threshold} reached at "
        f"{due.isoformat()}.\nHeld by group {clock.get('group')}, assignee {clock.get('assignee')}."
    )
    payload = {
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "threshold": alert.threshold,
            "level": alert.level,
            "due_at": due.isoformat(),
            "fired_at": fired.isoformat(),
        },
        "ticket": alert.ticket,
        "clock": clock,
    }
    return Message(
        id=f"alert_{alert.id}",
        kind=alert.kind,  # type: ignore[arg-type]
        created_at=fired,
        payload=payload,
        subject=subject,
        text=text,
    )
