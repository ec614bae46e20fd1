"""A ticket's history replayed: the state it was in after each of its events.

Clocks are measured against this history rather than against raw events, so that out-of-order
and repeated events, status names from any help desk and fields that change one at a time all
reduce to one ordered list of states before any SLA rule looks at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from duly.core.events import Event, in_replay_order

__all__ = ["Step", "TicketHistory", "replay"]

DONE_STATUSES: Final = frozenset({"solved", "closed"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
# Steps are built field by field: calling a frozen dataclass costs three times as much, and a
# ticket replays one step per event every time it is evaluated.
_new: Final = object.__new__
_set: Final = object.__setattr__


@dataclass(frozen=True, slots=True)
class Step:
    """The ticket as it stood from ``at`` until the next step: ``state`` after ``event``.

    ``state`` holds the ticket fields with ``status`` mapped onto duly's statuses (the source's
    own name is kept as ``source_status``) and the event's ``event.type``, ``event.actor`` and
    ``event.public`` for conditions of custom metrics.
    """

    at: datetime
    event: Event
    state: Mapping[str, Any]
    #: duly's status after the event (read on every step by every clock: kept, not looked up).
    status: str | None = None

    @property
    def is_public_agent_comment(self) -> bool:
        e = self.event
        return e.type == "comment.added" and e.actor == "agent" and e.public is not False

    @property
    def is_public_customer_comment(self) -> bool:
        e = self.event
        return e.type == "comment.added" and e.actor == "customer" and e.public is not False


@dataclass(frozen=True)
class TicketHistory:
    """Every step of one ticket up to ``now``, in replay order."""

    ticket: str
    created_at: datetime
    created_by: str | None
    steps: tuple[Step, ...]
    #: The steps' times, in order (for bisecting).
    times: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    #: The same as epoch microseconds: clocks are cut and measured on integers.
    times_us: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        times = tuple(step.at for step in self.steps)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "times_us", tuple([(t - _EPOCH) // _ONE_US for t in times]))

    @property
    def state(self) -> Mapping[str, Any]:
        """The ticket's current state."""
        return self.steps[-1].state


def replay(
    events: Iterable[Event], now: datetime, statuses: Mapping[str, str] | None = None
) -> TicketHistory | None:
    """Order, deduplicate and apply a ticket's events up to ``now``.

    Returns None for a ticket that has no events yet or was deleted: a deleted ticket carries no
    clocks. Events later than ``now`` have not happened yet and are ignored. A ticket whose
    creation event is missing starts at its first event.
    """
    ordered = [e for e in in_replay_order(events) if e.at <= now]
    if not ordered:
        return None
    created: Event | None = None
    for event in ordered:
        if event.type == "ticket.deleted":
            return None
        if created is None and event.type == "ticket.created":
            created = event
    if created is None:
        created = ordered[0]
    created_at = created.at
    mapping = statuses or {}
    fields: dict[str, Any] = {}
    steps: list[Step] = []
    for event in ordered:
        at = event.at
        if at < created_at:
            continue  # nothing can happen to a ticket before it exists
        changed = event.fields
        if not steps and "status" not in changed:
            fields["status"] = "new"
        for key, value in changed.items():
            if key == "status" and isinstance(value, str):
                fields["source_status"] = value
                fields["status"] = mapping.get(value, value)
            else:
                fields[key] = value
        state = dict(fields)
        state["event.type"] = event.type
        state["event.actor"] = event.actor
        state["event.public"] = event.public
        status = state.get("status")
        step = _new(Step)
        _set(step, "at", at)
        _set(step, "event", event)
        _set(step, "state", MappingProxyType(state))
        _set(step, "status", status if isinstance(status, str) else None)
        steps.append(step)
    return TicketHistory(
        ticket=created.ticket,
        created_at=created.at,
        created_by=created.actor,
        steps=tuple(steps),
    )
