"""Changing the SLA config: new versions, what-if previews and re-evaluation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from duly.config.errors import ConfigError
from duly.core.agreements import SlaConfig
from duly.core.batch import EventColumns, evaluate_batch
from duly.core.reports import compare
from duly.service.clock_rows import to_us
from duly.service.configs import ConfigCache, LoadedConfig, parse_config, sha256_of
from duly.service.derive import rederive
from duly.service.errors import ConflictError, InvalidError, NotFoundError
from duly.service.stored_history import stored_events
from duly.store import clocks as stored_clocks
from duly.store import configs as stored
from duly.store import derive_queue
from duly.store.database import Database
from duly.store.tables import ConfigVersionRow

__all__ = [
    "ConfigAccepted",
    "config_text",
    "list_versions",
    "preview_config",
    "put_config",
    "reevaluate",
]


@dataclass(frozen=True)
class ConfigAccepted:
    version: int
    tickets: int
    clocks: int


def _parse_or_refuse(text: str, version: int) -> SlaConfig:
    try:
        return parse_config(text, version)
    except ConfigError as exc:
        first = exc.problems[0]
        raise InvalidError(str(exc), first.field) from exc


def _with_queued(connection: Connection, tickets: Collection[str]) -> list[str]:
    """``tickets`` and those queued for deriving, whose rows this transaction then removes.

    A queued ticket may have no stored state yet (its first events are not derived): it is
    derived here under the new version with the rest, rather than later by a deriver.
    """
    waiting = derive_queue.queued(connection)
    derive_queue.finish(connection, waiting.ids)
    return sorted(set(tickets) | set(waiting.tickets))


def put_config(
    db: Database,
    configs: ConfigCache,
    text: str,
    sent_by: str,
    now: datetime,
    *,
    reevaluate_all: bool = False,
) -> ConfigAccepted:
    """Validate ``text`` exactly as ``duly check`` does and make it the next version.

    Rejected whole on any problem. Accepted, it moves every ticket with a running clock to the
    new version in the same transaction (all tickets with ``reevaluate_all``).
    """
    if not text.strip():
        raise InvalidError("config: the body is empty; send the SLA-as-code YAML", "config")
    _parse_or_refuse(text, 0)
    try:
        with db.write() as connection:
            version = stored.add_config_version(
                connection, text, sha256_of(text), to_us(now), sent_by
            )
            loaded = LoadedConfig(version, text, parse_config(text, version))
            tickets = (
                stored_clocks.all_tickets(connection)
                if reevaluate_all
                else stored_clocks.open_tickets(connection)
            )
            tickets = _with_queued(connection, tickets)
            written = rederive(connection, tickets, loaded, now, keep_finished=not reevaluate_all)
    except IntegrityError as exc:
        # Another config was stored under the same number a moment ago; nothing of this one is.
        raise ConflictError(
            "config: another version was stored at the same moment; send it again", "config"
        ) from exc
    configs.current_after_write(loaded)
    return ConfigAccepted(version=version, tickets=len(tickets), clocks=written)


def reevaluate(db: Database, configs: ConfigCache, now: datetime) -> ConfigAccepted:
    """Re-derive every ticket's clocks under the config in force (after a calendar fix, say)."""
    with db.write() as connection:
        loaded = configs.current(connection)
        tickets = _with_queued(connection, stored_clocks.all_tickets(connection))
        written = rederive(connection, tickets, loaded, now, keep_finished=False)
    return ConfigAccepted(version=loaded.version, tickets=len(tickets), clocks=written)


def config_text(db: Database, version: int | None = None) -> ConfigVersionRow:
    with db.read() as connection:
        number = stored.latest_version(connection) if version is None else version
        row = stored.config_version(connection, number)
    if row is None:
        what = "no config has been sent yet" if version is None else f"no version {version}"
        raise NotFoundError(f"config: {what}", "version")
    return row


def list_versions(db: Database) -> list[dict[str, Any]]:
    with db.read() as connection:
        rows = stored.config_versions(connection)
    return [
        {
            "version": r.version,
            "sha256": r.sha256,
            "created_at": datetime.fromtimestamp(r.created_at_us / 1e6, UTC).isoformat(),
            "created_by": r.created_by,
        }
        for r in rows
    ]


def preview_config(
    db: Database, configs: ConfigCache, draft: str, now: datetime, by: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Replay the stored history under the config in force and under ``draft``; nothing changes.

    Returns met % per group before and after, and every clock whose outcome would change.
    """
    proposed = _parse_or_refuse(draft, 0)
    with db.read() as connection:
        current = configs.current(connection).config
        events = stored_events(connection)
    columns = EventColumns.from_events(events)
    before = evaluate_batch(columns, current, now, attribution=False)
    after = evaluate_batch(columns, proposed, now, attribution=False)
    try:
        summary, changes = compare(before, after, by)
    except ValueError as exc:  # an unknown group key
        raise InvalidError(f"by: {exc}", "by") from exc
    return {"summary": summary, "changes": changes}
