"""Ticket events: the facts from the outside world that every clock is derived from.

Events carry their own id and time and may arrive late, twice or out of order; the engine sorts
and deduplicates them before it replays a ticket, so the result never depends on arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "ACTORS",
    "EVENT_TYPES",
    "STATUSES",
    "Event",
    "in_replay_order",
]

EVENT_TYPES: Final = (
    "ticket.created",
    "ticket.updated",
    "comment.added",
    "ticket.rated",
    "ticket.deleted",
)
ACTORS: Final = ("agent", "customer", "system")
#: duly's own statuses; every source's statuses are mapped onto these by the config.
STATUSES: Final = ("new", "open", "pending", "on_hold", "solved", "closed")
#: Ticket fields the condition language knows, besides ``custom.NAME``.
TICKET_FIELDS: Final = (
    "priority",
    "status",
    "group",
    "assignee",
    "organization",
    "requester",
    "channel",
    "tags",
)
# Events at the same instant replay in this order: a ticket exists before it changes, and a
# comment made at the moment of a status change is seen after the change.
_TYPE_RANK: Final = {t: i for i, t in enumerate(EVENT_TYPES)}
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Event:
    """One fact about a ticket. ``at`` is an aware datetime; ``fields`` only what changed."""

    id: str
    ticket: str
    at: datetime
    type: str
    actor: str | None = None
    public: bool | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    score: int | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"event {self.id}: 'at' has no UTC offset")
        if self.at.tzinfo is not UTC:
            # Aware datetimes in one zone compare by wall clock; in UTC they compare by instant.
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.type not in _TYPE_RANK:
            raise ValueError(f"event {self.id}: unknown type {self.type!r}")
        if self.actor is not None and self.actor not in ACTORS:
            raise ValueError(f"event {self.id}: unknown actor {self.actor!r}")
        if not isinstance(self.fields, MappingProxyType):
            object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @property
    def order_key(self) -> tuple[datetime, int, str]:
        """Replay order: time, then created < updated < comment < rated < deleted, then id."""
        return (self.at, _TYPE_RANK[self.type], self.id)


def in_replay_order(events: Iterable[Event]) -> list[Event]:
    """Deduplicate by id (the first copy wins) and sort into replay order."""
    seen: dict[str, Event] = {}
    for event in events:
        seen.setdefault(event.id, event)
    return sorted(seen.values(), key=_order_key)


def _order_key(event: Event) -> tuple[datetime, int, str]:
    # ``Event.order_key`` without the property's call: every evaluation sorts its events.
    return (event.at, _TYPE_RANK[event.type], event.id)
