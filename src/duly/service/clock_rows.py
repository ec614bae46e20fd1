"""Clocks between the core's ``Clock`` and the store's rows, and as the API shows them.

A stored clock was computed when its ticket last changed; a running one keeps running after
that. ``live_clock`` brings a running clock's figures up to ``now`` with its calendar, so a
queue read a minute later shows a minute less remaining without re-deriving any ticket.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from duly.core.agreements import SlaConfig
from duly.core.clock_table import NAT, Categorical, ClockTable
from duly.core.clocks import Attribution, Clock, Pause
from duly.store.tables import ClockRow

__all__ = ["clock_key", "clock_to_row", "from_us", "live_clock", "row_to_clock", "to_us"]

_US: Final = 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch, exact (no float on the way)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def from_us(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value // _US, UTC).replace(microsecond=value % _US)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def clock_key(clock: Clock) -> str:
    """The identity alerts are deduplicated on: ticket, agreement, metric, cycle and start."""
    return f"{clock.ticket}|{clock.agreement}|{clock.metric}|{clock.cycle}|{to_us(clock.start)}"


def clock_to_row(clock: Clock, version: int, evaluated_at_us: int) -> dict[str, Any]:
    pauses = [
        {"start": _iso(p.start), "end": _iso(p.end), "cause": p.cause, "business_s": p.business_s}
        for p in clock.pauses
    ]
    held = [
        {"group": a.group, "assignee": a.assignee, "business_s": a.business_s}
        for a in clock.attribution
    ]
    return {
        "ticket": clock.ticket,
        "agreement": clock.agreement,
        "agreement_kind": clock.agreement_kind,
        "policy": clock.policy,
        "metric": clock.metric,
        "cycle": clock.cycle,
        "priority": clock.priority,
        "calendar": clock.calendar,
        "target_s": clock.target_s,
        "start_us": to_us(clock.start),
        "due_us": to_us(clock.due),
        "stop_us": None if clock.stop is None else to_us(clock.stop),
        "state": clock.state,
        "breached_at_us": None if clock.breached_at is None else to_us(clock.breached_at),
        "business_elapsed_s": clock.business_elapsed_s,
        "calendar_elapsed_s": clock.calendar_elapsed_s,
        "paused_s": clock.paused_s,
        "remaining_s": clock.remaining_s,
        "group_name": clock.group,
        "assignee": clock.assignee,
        "organization": clock.organization,
        "channel": clock.channel,
        "pauses": json.dumps(pauses),
        "attribution": json.dumps(held),
        "config_version": version,
        "evaluated_at_us": evaluated_at_us,
    }


def row_to_clock(row: ClockRow) -> Clock:
    """The stored clock as a core ``Clock``, as it was when evaluated (``live_clock`` and
    ``live_table`` bring running ones up to a later instant)."""
    start, due = from_us(row.start_us), from_us(row.due_us)
    assert start is not None
    assert due is not None
    return Clock(
        ticket=row.ticket,
        agreement=row.agreement,
        policy=row.policy,
        metric=row.metric,
        cycle=row.cycle,
        priority=row.priority,
        calendar=row.calendar,
        target_s=row.target_s,
        start=start,
        due=due,
        stop=from_us(row.stop_us),
        state=row.state,
        breached_at=from_us(row.breached_at_us),
        business_elapsed_s=row.business_elapsed_s,
        calendar_elapsed_s=row.calendar_elapsed_s,
        paused_s=row.paused_s,
        remaining_s=row.remaining_s,
        group=row.group_name,
        assignee=row.assignee,
        organization=row.organization,
        channel=row.channel,
        pauses=tuple(
            Pause(
                _parse(p["start"]) or start,
                _parse(p["end"]),
                p["cause"],
                p["business_s"],
            )
            for p in json.loads(row.pauses)
        ),
        attribution=tuple(
            Attribution(a["group"], a["assignee"], a["business_s"])
            for a in json.loads(row.attribution)
        ),
        agreement_kind=row.agreement_kind,
        config_version=str(row.config_version),
    )


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class _StoredClock(Protocol):
    """What the live figures are worked out from: a ``ClockRow`` or a plain result row."""

    state: str
    business_elapsed_s: float
    remaining_s: float
    paused_s: float
    breached_at_us: int | None
    evaluated_at_us: int
    stop_us: int | None
    calendar: str
    target_s: float
    due_us: int
    calendar_elapsed_s: float


class _Live(NamedTuple):
    state: str
    business_s: float
    remaining_s: float
    breached_at_us: int | None
    calendar_s: float
    due_us: int
    paused_s: float


def _live(row: _StoredClock, config: SlaConfig, now: datetime) -> _Live:
    """The clock's figures as of ``now``, as the core would give them for the same events.

    A finished clock is as stored. An active one has run on since it was evaluated: its business
    time grows by what its calendar counts between then and now, and it is breached once ``now``
    reaches its due. A paused one has waited on: the business time since then is paused time,
    and pushes its due out by as much.
    """
    state = row.state
    business, remaining, paused = row.business_elapsed_s, row.remaining_s, row.paused_s
    breached_at, due = row.breached_at_us, row.due_us
    evaluated = from_us(row.evaluated_at_us)
    running = row.stop_us is None and evaluated is not None and now > evaluated
    if running and state in ("active", "breached", "paused"):
        assert evaluated is not None
        try:
            calendar = config.calendar(row.calendar)
        except KeyError:  # a clock of an older config whose calendar is gone
            calendar = None
        if calendar is not None:
            counted = calendar.between(evaluated, now)
            if state == "paused":
                paused += counted
                moved = calendar.add(from_us(due) or now, counted)
                due = to_us(moved)
            else:
                business += counted
                remaining = row.target_s - business
    if row.stop_us is None and state == "active" and to_us(now) >= due:
        state, breached_at = "breached", due
    calendar_elapsed = row.calendar_elapsed_s
    if running:
        assert evaluated is not None
        calendar_elapsed += (now - evaluated).total_seconds()
    return _Live(
        state,
        round(business, 6),
        round(remaining, 6),
        breached_at,
        round(calendar_elapsed, 6),
        due,
        round(paused, 6),
    )


def live_table(rows: Sequence[Any], config: SlaConfig, now: datetime) -> ClockTable:
    """Stored clocks (result rows with ``REPORT_COLUMNS``) as of ``now``, as a report table.

    Built column by column from plain rows: a report over every stored clock must not pay for
    an ORM object and a ``Clock`` per row. Attribution is not loaded (no report here uses it).
    """
    n = len(rows)
    lives = [_live(r, config, now) for r in rows]
    text = {
        name: Categorical.from_values([getattr(r, column) for r in rows])
        for name, column in _TEXT_COLUMNS.items()
    }
    text["state"] = Categorical.from_values([live.state for live in lives])

    def instants(values: Iterable[int | None]) -> npt.NDArray[np.int64]:
        return np.fromiter((NAT if v is None else v for v in values), dtype=np.int64, count=n)

    def numbers(values: Iterable[float]) -> npt.NDArray[np.float64]:
        return np.fromiter(values, dtype=np.float64, count=n)

    empty = Categorical(np.zeros(0, dtype=np.int32), ())
    return ClockTable(
        text=text,
        instants={
            "start": instants(r.start_us for r in rows),
            "due": instants(live.due_us for live in lives),
            "stop": instants(r.stop_us for r in rows),
            "breached_at": instants(live.breached_at_us for live in lives),
        },
        numbers={
            "target_s": numbers(r.target_s for r in rows),
            "business_elapsed_s": numbers(live.business_s for live in lives),
            "calendar_elapsed_s": numbers(live.calendar_s for live in lives),
            "paused_s": numbers(live.paused_s for live in lives),
            "remaining_s": numbers(live.remaining_s for live in lives),
        },
        cycle=np.fromiter((r.cycle for r in rows), dtype=np.int32, count=n),
        held_row=np.zeros(0, dtype=np.int64),
        held_group=empty,
        held_assignee=empty,
        held_s=np.zeros(0, dtype=np.float64),
    )


#: Table columns and the stored columns they come from (the rest are live or numeric).
_TEXT_COLUMNS: Final = {
    "ticket": "ticket",
    "agreement": "agreement",
    "policy": "policy",
    "metric": "metric",
    "priority": "priority",
    "group": "group_name",
    "assignee": "assignee",
    "organization": "organization",
    "channel": "channel",
    "calendar": "calendar",
}
#: The stored columns ``live_table`` reads.
REPORT_COLUMNS: Final = (
    *_TEXT_COLUMNS.values(),
    "state",
    "start_us",
    "due_us",
    "stop_us",
    "breached_at_us",
    "target_s",
    "business_elapsed_s",
    "calendar_elapsed_s",
    "paused_s",
    "remaining_s",
    "cycle",
    "evaluated_at_us",
)


def live_clock(row: ClockRow, config: SlaConfig, now: datetime) -> dict[str, Any]:
    """The clock as of ``now``, as the API and dashboard show it.

    A finished or paused clock is as stored. An active one has run on since it was evaluated:
    its business time grows by what its calendar counts between then and now, and it is breached
    once ``now`` reaches its due.
    """
    live = _live(row, config, now)
    return {
        "id": row.id,
        "ticket": row.ticket,
        "agreement": row.agreement,
        "agreement_kind": row.agreement_kind,
        "policy": row.policy,
        "metric": row.metric,
        "cycle": row.cycle,
        "priority": row.priority,
        "calendar": row.calendar,
        "target_s": row.target_s,
        "start": _iso(from_us(row.start_us)),
        "due": _iso(from_us(live.due_us)),
        "stop": _iso(from_us(row.stop_us)),
        "state": live.state,
        "breached_at": _iso(from_us(live.breached_at_us)),
        "business_elapsed_s": live.business_s,
        "calendar_elapsed_s": live.calendar_s,
        "paused_s": live.paused_s,
        "remaining_s": live.remaining_s,
        "group": row.group_name,
        "assignee": row.assignee,
        "organization": row.organization,
        "channel": row.channel,
        "pauses": json.loads(row.pauses),
        "attribution": json.loads(row.attribution),
        "config_version": row.config_version,
    }
