"""Re-deriving tickets from their stored events: state, clocks and the thresholds ahead.

This is the one place where stored events become stored clocks, so ingestion, a new config
version and ``duly reevaluate`` all give the clocks the core would give for the same events.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import Connection

from duly.core.alerts import alert_schedule, resumes_at
from duly.core.clocks import Clock, evaluate_history
from duly.core.events import Event
from duly.core.tickets import TicketHistory, replay
from duly.service.clock_rows import clock_key, clock_to_row, to_us
from duly.service.configs import LoadedConfig
from duly.service.event_files import event_from_mapping
from duly.store import clocks as stored
from duly.store import events as event_log
from duly.store.alerts import RESUME
from duly.store.clocks import ClockKey

__all__ = ["Derivation", "derive", "parse_bodies", "rederive", "store_derivation", "ticket_row"]

_FIELDS: Final = ("status", "priority", "assignee", "organization", "channel")


@dataclass
class Derivation:
    """What the core gives for some tickets, ready to store: their rows, clocks and crossings.

    Computing it needs no transaction, so a deriver can compute while ingestion goes on and
    hold the write lock only to store it.
    """

    tickets: tuple[str, ...]
    version: int
    ticket_rows: list[dict[str, Any]] = field(default_factory=list)
    #: Each clock's key in the store, its row, and the crossings it will make.
    clocks: list[tuple[ClockKey, dict[str, Any], list[dict[str, Any]]]] = field(
        default_factory=list
    )

    def without(self, tickets: Collection[str]) -> Derivation:
        """The same, less ``tickets`` (whose result must not be stored after all)."""
        drop = set(tickets)
        return Derivation(
            tuple(t for t in self.tickets if t not in drop),
            self.version,
            [r for r in self.ticket_rows if r["ticket"] not in drop],
            [c for c in self.clocks if c[0][0] not in drop],
        )


def derive(
    events: Mapping[str, Sequence[Event]], loaded: LoadedConfig, now: datetime
) -> Derivation:
    """The tickets' state, clocks and crossings from their events, as of ``now``.

    Each ticket is evaluated as of ``now`` or its latest event, whichever is later, so that an
    event stamped a little ahead of this machine's clock is not ignored.
    """
    derivation = Derivation(tuple(sorted(events)), loaded.version)
    config = loaded.config
    for name in derivation.tickets:
        ticket_events = events[name]
        if not ticket_events:
            continue
        at = max(now, max(e.at for e in ticket_events))
        # One replay serves both the clocks (``evaluate_ticket`` is replay + this) and the row.
        history = replay(ticket_events, at, config.statuses)
        clocks = [] if history is None else evaluate_history(history, config, at)
        # The clocks are as of ``at``: a running one is brought forward from there, not ``now``.
        evaluated_us = to_us(at)
        derivation.ticket_rows.append(ticket_row(name, ticket_events, loaded, at, history))
        for clock in clocks:
            row = clock_to_row(clock, loaded.version, evaluated_us)
            key = (name, clock.agreement, clock.metric, clock.cycle, row["start_us"])
            derivation.clocks.append((key, row, list(_crossings(clock, loaded))))
    return derivation


def store_derivation(
    connection: Connection, derivation: Derivation, *, keep_finished: bool = True
) -> int:
    """Replace the tickets' stored state, clocks and pending crossings; clocks written.

    With ``keep_finished``, a clock that finished under an older config version keeps its stored
    outcome: a new config changes what is still running, not what was already decided.
    The caller holds the tickets (``store.clocks.lock_tickets``).
    """
    tickets = derivation.tickets
    if not tickets:
        return 0
    keep = (
        stored.finished_clock_keys(connection, tickets, derivation.version)
        if keep_finished
        else set()
    )
    clock_rows: list[dict[str, Any]] = []
    crossing_rows: list[dict[str, Any]] = []
    for key, row, crossings in derivation.clocks:
        if key in keep:
            continue
        clock_rows.append(row)
        crossing_rows.extend(crossings)
    stored.delete_derived(connection, tickets, keep)
    stored.upsert_tickets(connection, derivation.ticket_rows)
    stored.insert_clocks(connection, clock_rows)
    stored.insert_crossings(connection, crossing_rows)
    return len(clock_rows)


def parse_bodies(bodies: Iterable[str]) -> list[Event]:
    """Stored event bodies (JSON text) back into events."""
    return [event_from_mapping(orjson.loads(body)) for body in bodies]


def rederive(
    connection: Connection,
    tickets: Collection[str],
    loaded: LoadedConfig,
    now: datetime,
    *,
    keep_finished: bool = True,
    fresh: Mapping[str, Sequence[Event]] | None = None,
) -> int:
    """Derive the tickets again in this (write) transaction; how many clocks were written.

    ``fresh`` are events of these tickets the caller has just stored and still holds: they are
    not read back and parsed again, only the tickets' other stored events are.
    """
    if not tickets:
        return 0
    stored.lock_tickets(connection, tickets)
    if fresh is None:
        fresh = {}
        bodies = event_log.event_bodies(connection, tickets)
    else:
        known = {name: [e.id for e in fresh.get(name, ())] for name in tickets}
        bodies = event_log.other_event_bodies(connection, known)
    events: dict[str, list[Event]] = {}
    for name in tickets:
        events[name] = parse_bodies(bodies.get(name, []))
        events[name].extend(fresh.get(name, ()))
    return store_derivation(connection, derive(events, loaded, now), keep_finished=keep_finished)


def _crossings(clock: Clock, loaded: LoadedConfig) -> Iterable[dict[str, Any]]:
    identity = json.dumps(
        {
            "ticket": clock.ticket,
            "agreement": clock.agreement,
            "policy": clock.policy,
            "metric": clock.metric,
            "cycle": clock.cycle,
            "priority": clock.priority,
            "start": clock.start.isoformat(),
            "due": clock.due.isoformat(),
            "target_s": clock.target_s,
            "group": clock.group,
            "assignee": clock.assignee,
            "config_version": loaded.version,
        }
    )
    key = clock_key(clock)
    resume = resumes_at(clock, loaded.config)
    if resume is not None:
        # Not an alert: the moment the ticket must be re-derived, because the clock runs again.
        yield {
            "alert_key": f"{key}|resume:{to_us(resume)}",
            "ticket": clock.ticket,
            "at_us": to_us(resume),
            "kind": RESUME,
            "threshold": f"resume:{to_us(resume)}",
            "level": 0,
            "notify": "[]",
            "clock": identity,
        }
    for crossing in alert_schedule(clock, loaded.config):
        yield {
            "alert_key": f"{key}|{crossing.key}",
            "ticket": clock.ticket,
            "at_us": to_us(crossing.at),
            "kind": crossing.kind,
            "threshold": crossing.key,
            "level": crossing.level,
            "notify": json.dumps(list(crossing.notify)),
            "clock": identity,
        }


def ticket_row(
    name: str,
    events: Sequence[Event],
    loaded: LoadedConfig,
    at: datetime,
    history: TicketHistory | None = None,
) -> dict[str, Any]:
    """The ticket as it stands after its events (a deleted ticket is kept, marked deleted).

    ``history`` is the events' replay as of ``at`` when the caller has it already.
    """
    if history is None:
        history = replay(events, at, loaded.config.statuses)
    deleted = any(e.type == "ticket.deleted" for e in events)
    state: dict[str, Any] = {}
    if history is not None:
        state = {k: v for k, v in history.state.items() if not k.startswith("event.")}
    first = min(e.at for e in events)
    return {
        "ticket": name,
        "created_at_us": to_us(history.created_at if history is not None else first),
        "updated_at_us": to_us(max(e.at for e in events)),
        **{key: _text(state.get(key)) for key in _FIELDS},
        "group_name": _text(state.get("group")),
        "state": json.dumps(state, default=str, sort_keys=True),
        "events": len({e.id for e in events}),
        "deleted": deleted,
        "config_version": loaded.version,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
