"""The batch path: every ticket of a history at once, in columns, with the per-ticket rules.

``evaluate_batch(events, config, now)`` gives exactly the clocks ``evaluate_ticket`` gives
ticket by ticket (the tests hold both paths to that), but works on arrays: events are sorted and
deduplicated with ``lexsort``, ticket state is forward-filled per field, conditions are decided
once per distinct field value and gathered, metric cycles come from segmented scans, and clocks
are measured by expanding each clock into the ticket steps it spans, so business time, pauses,
due times and attribution are a handful of vectorized calendar calls per target.

One rare shape is handed to the per-ticket code for the tickets that have it, because its rules
are sequential by nature: a cycle whose target changes in a way other than ``retarget``
(restart, stricter, or losing its target). Those clocks are the per-ticket path's by
construction. Custom metrics' cycles are found one round per cycle, for all tickets at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from duly.core.agreements import (
    BUILTIN_METRICS,
    CUMULATIVE_METRICS,
    DEFAULT_PAUSE_ON,
    Agreement,
    CustomMetric,
    SlaConfig,
    Target,
)
from duly.core.calendar import Calendar
from duly.core.clock_table import NAT, Categorical, ClockTable, concat_tables
from duly.core.clocks import Clock, evaluate_history
from duly.core.columns import EventColumns, FieldColumn
from duly.core.conditions import All, AnyOf, Condition, Not, Rule
from duly.core.events import ACTORS, EVENT_TYPES, Event
from duly.core.tickets import DONE_STATUSES, replay

__all__ = ["EventColumns", "FieldColumn", "evaluate_batch"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_PAIRS_PER_CHUNK: Final = 1 << 21
_US: Final = 1_000_000
_CREATED: Final = EVENT_TYPES.index("ticket.created")
_COMMENT: Final = EVENT_TYPES.index("comment.added")
_DELETED: Final = EVENT_TYPES.index("ticket.deleted")
_AGENT: Final = ACTORS.index("agent")
_CUSTOMER: Final = ACTORS.index("customer")

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# ------------------------------------------------------------------------------------ steps


@dataclass
class _Steps:
    """Sorted, deduplicated, forward-filled events: the states every clock is measured on."""

    rows: IntArray  # index into the EventColumns, in replay order
    ticket: npt.NDArray[np.int32]  # ticket code per step
    first: IntArray  # index of the ticket's first step, per step
    at: IntArray  # microseconds
    type: npt.NDArray[np.int8]
    actor: npt.NDArray[np.int8]
    public: npt.NDArray[np.int8]
    state: Mapping[str, tuple[npt.NDArray[np.int32], tuple[Any, ...]]]  # codes (-1 absent), labels
    starts: IntArray  # first step of each ticket present
    ends: IntArray  # one past the last step of each ticket
    _runs: tuple[IntArray, IntArray] | None = None
    _step_end: IntArray | None = None
    #: Pause cause per step, by what decides it (see ``_step_causes``).
    causes: dict[tuple[Any, ...], npt.NDArray[np.int32]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def runs(self) -> tuple[IntArray, IntArray]:
        """Per step, the first and last step of its ticket at the same instant (computed once)."""
        if self._runs is None:
            self._runs = _equal_time_runs(self)
        return self._runs

    def step_end(self) -> IntArray:
        """Per step, one past the last step of its ticket (computed once)."""
        if self._step_end is None:
            self._step_end = np.repeat(self.ends, self.ends - self.starts)
        return self._step_end


class _State(Mapping[str, tuple[npt.NDArray[np.int32], tuple[Any, ...]]]):
    """Each field's value at every step (codes, -1 absent; labels), filled forward when first
    read: a field that no condition, pause or report reads (tags, say) is never filled."""

    def __init__(
        self, fields: Mapping[str, FieldColumn], rows: IntArray, first: IntArray, config: SlaConfig
    ) -> None:
        self._fields = fields
        self._rows = rows
        self._first = first
        self._config = config
        self._filled: dict[str, tuple[npt.NDArray[np.int32], tuple[Any, ...]]] = {}

    def __getitem__(self, name: str) -> tuple[npt.NDArray[np.int32], tuple[Any, ...]]:
        filled = self._filled.get(name)
        if filled is None:
            if name == "status":
                column = self._fields.get("status")
                raw = None if column is None else _forward_fill(column, self._rows, self._first)
                filled = _statuses(raw, len(self._rows), self._first, self._config)
            else:
                filled = _forward_fill(self._fields[name], self._rows, self._first)
            self._filled[name] = filled
        return filled

    def __contains__(self, name: object) -> bool:
        return name == "status" or name in self._fields

    def __iter__(self) -> Iterator[str]:
        yield from self._fields
        if "status" not in self._fields:
            yield "status"

    def __len__(self) -> int:
        return len(self._fields) + ("status" not in self._fields)


def _steps(events: EventColumns, config: SlaConfig, now_us: int) -> _Steps:
    n = len(events.at_us)
    keep = np.zeros(n, dtype=bool)
    if events.deduplicated:
        keep[:] = True
    else:
        _, first_copy = np.unique(events.event_id, return_index=True)
        keep[first_copy] = True
    keep &= events.at_us <= now_us
    ticket = events.ticket.codes
    deleted = np.unique(ticket[keep & (events.type == _DELETED)])
    keep &= ~np.isin(ticket, deleted)
    rows = _break_ties(_replay_order(np.flatnonzero(keep), events), events)
    t, at, typ = ticket[rows], events.at_us[rows], events.type[rows]
    # Drop what comes before each ticket's creation (the first created event, else the first).
    bounds = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    ends = np.r_[bounds[1:], len(rows)]
    created_pos = np.where(typ == _CREATED, np.arange(len(rows)), len(rows))
    first_created = np.minimum.reduceat(created_pos, bounds) if len(rows) else created_pos
    first_created = np.where(first_created < ends, first_created, bounds)
    created_at = np.repeat(at[first_created], ends - bounds)
    keep_rows = at >= created_at
    rows = rows[keep_rows]
    t = ticket[rows]
    bounds = np.flatnonzero(np.r_[True, t[1:] != t[:-1]]) if len(rows) else np.zeros(0, np.int64)
    ends = np.r_[bounds[1:], len(rows)] if len(rows) else bounds
    first = np.repeat(bounds, ends - bounds)
    state = _State(events.fields, rows, first, config)
    return _Steps(
        rows=rows,
        ticket=t,
        first=first,
        at=events.at_us[rows],
        type=events.type[rows],
        actor=events.actor[rows],
        public=events.public[rows],
        state=state,
        starts=bounds.astype(np.int64),
        ends=ends.astype(np.int64),
    )


def _replay_order(rows: IntArray, events: EventColumns) -> IntArray:
    """``rows`` ordered by ticket, time and event type, ties kept in their order (a stable
    lexsort by the three).

    Exports list most of a ticket's events in time order already: a stable sort by ticket alone
    (a radix sort, when a chunk's tickets span fewer than 65,536 codes) then leaves most tickets
    in order, and only the tickets it leaves out of order are sorted by time and type.
    """
    t, at, typ = events.ticket.codes[rows], events.at_us[rows], events.type[rows]
    if len(rows) < 2:
        return rows
    t_low, at_low = int(t.min()), int(at.min())
    fits = int(at.max()) - at_low < 1 << 59 and int(typ.min()) >= 0 and int(typ.max()) < 8
    if not fits:
        return rows[np.lexsort((typ, at, t))]
    span = int(t.max()) - t_low
    local = (t - t_low).astype(np.uint16 if span < 1 << 16 else np.int64)
    by_ticket = np.argsort(local, kind="stable")
    key = ((at - at_low) * 8 + typ)[by_ticket]  # orders like (at, type)
    local = local[by_ticket]
    disorder = (key[1:] < key[:-1]) & (local[1:] == local[:-1])
    if disorder.any():
        unsorted = np.zeros(span + 1, dtype=bool)
        unsorted[local[1:][disorder]] = True
        where = np.flatnonzero(unsorted[local])
        # Those tickets' rows sit in ticket order at ``where``: sorted, they go back there.
        by_ticket[where] = by_ticket[where][np.lexsort((key[where], local[where]))]
    return rows[by_ticket]


def _break_ties(rows: IntArray, events: EventColumns) -> IntArray:
    """Order events of one ticket at one instant and of one type by id, as replay does."""
    if len(rows) < 2:
        return rows
    t, at, typ = events.ticket.codes[rows], events.at_us[rows], events.type[rows]
    same = (t[1:] == t[:-1]) & (at[1:] == at[:-1]) & (typ[1:] == typ[:-1])
    if not same.any():
        return rows
    rows = rows.copy()
    i = 0
    tied = np.flatnonzero(same)
    while i < len(tied):
        a = int(tied[i])
        b = a + 1
        while i < len(tied) and int(tied[i]) == b - 1:
            b += 1
            i += 1
        group = rows[a:b].tolist()
        rows[a:b] = sorted(group, key=lambda r: events.id_text[r])
    return rows


def _forward_fill(
    column: FieldColumn, rows: IntArray, first: IntArray
) -> tuple[npt.NDArray[np.int32], tuple[Any, ...]]:
    present = column.present[rows]
    position = np.where(present, np.arange(len(rows)), first - 1)
    last = np.maximum.accumulate(position) if len(rows) else position
    has = last >= first
    codes = np.where(has, column.codes[rows][np.clip(last, 0, None)], -1).astype(np.int32)
    return codes, column.labels


def _statuses(
    column: tuple[npt.NDArray[np.int32], tuple[Any, ...]] | None,
    n: int,
    first: IntArray,
    config: SlaConfig,
) -> tuple[npt.NDArray[np.int32], tuple[Any, ...]]:
    """Map statuses onto duly's; a ticket whose status was never set is ``new``."""
    if column is None:
        return np.zeros(n, dtype=np.int32), ("new",)
    codes, labels = column
    mapped = [config.statuses.get(v, v) if isinstance(v, str) else v for v in labels]
    merged: dict[Any, int] = {"new": 0}
    table = np.array([merged.setdefault(v, len(merged)) for v in mapped] or [0], dtype=np.int32)
    out = np.where(codes >= 0, table[np.clip(codes, 0, None)], 0).astype(np.int32)
    return out, tuple(merged)


# ------------------------------------------------------------------------------- conditions


def _event_field(steps: _Steps, name: str) -> tuple[npt.NDArray[np.int32], tuple[Any, ...]]:
    if name == "event.type":
        return steps.type.astype(np.int32), EVENT_TYPES
    if name == "event.actor":
        return steps.actor.astype(np.int32), ACTORS
    return steps.public.astype(np.int32), (False, True)


def _truth(
    condition: Condition, steps: _Steps, ranks: Mapping[str, Mapping[str, int]] | None
) -> BoolArray:
    """Whether ``condition`` holds at each step, deciding each rule once per distinct value."""
    if isinstance(condition, Rule):
        if condition.field.startswith("event."):
            codes, labels = _event_field(steps, condition.field)
        elif condition.field in steps.state:
            codes, labels = steps.state[condition.field]
        else:
            codes, labels = np.full(len(steps), -1, np.int32), ()
        table = np.array(
            [condition.matches({condition.field: v}, ranks) for v in labels]
            + [condition.matches({}, ranks)],
            dtype=bool,
        )
        return table[np.where(codes >= 0, codes, len(labels))]
    if isinstance(condition, All):
        result = np.ones(len(steps), dtype=bool)
        for item in condition.items:
            result &= _truth(item, steps, ranks)
        return result
    if isinstance(condition, AnyOf):
        result = np.zeros(len(steps), dtype=bool)
        for item in condition.items:
            result |= _truth(item, steps, ranks)
        return result
    if isinstance(condition, Not):
        return ~_truth(condition.item, steps, ranks)
    raise TypeError(f"unknown condition {condition!r}")


# ---------------------------------------------------------------------------------- cycles


@dataclass
class _Cycles:
    """Cycles of one metric: start step, stop step (-1 while running), number within ticket."""

    start: IntArray
    stop: IntArray
    number: npt.NDArray[np.int32]
    cumulative: bool


def _next_index(mask: BoolArray, steps: _Steps) -> IntArray:
    """Per step, the first step after it (same ticket) where ``mask`` holds, or -1."""
    n = len(steps)
    end_of_ticket = steps.step_end()
    candidate = np.where(mask, np.arange(n), np.iinfo(np.int64).max)
    # Reverse cumulative minimum, restarted at each ticket's end.
    reversed_min = np.minimum.accumulate(candidate[::-1])[::-1]
    nxt = np.r_[reversed_min[1:], np.iinfo(np.int64).max] if n else reversed_min
    return np.where(nxt < end_of_ticket, nxt, -1)


def _custom_cycles(
    metric: CustomMetric, steps: _Steps, ranks: Mapping[str, Mapping[str, int]] | None
) -> _Cycles:
    """Cycles of a custom metric: each starts when its start condition *becomes* true and
    stops at the next step where its stop condition holds; with ``repeat``, the next cycle
    starts at the next such edge after the stop. One round per cycle, all tickets at once."""
    n = len(steps)
    begins = _truth(metric.start, steps, ranks)
    ends = _truth(metric.stop, steps, ranks)
    before = np.r_[False, begins[:-1]] if n else begins
    before[steps.starts] = False
    edge = begins & ~before
    next_edge = _next_index(edge, steps)
    next_stop = _next_index(ends, steps)
    big = np.iinfo(np.int64).max
    first = (
        np.minimum.reduceat(np.where(edge, np.arange(n), big), steps.starts) if n else steps.starts
    )
    current = np.where(first < steps.ends, first, -1)
    found_start, found_stop, found_number = [], [], []
    number = 1
    while True:
        live = current[current >= 0]
        if len(live) == 0:
            break
        stop = next_stop[live]
        found_start.append(live)
        found_stop.append(stop)
        found_number.append(np.full(len(live), number, dtype=np.int32))
        if not metric.repeat:
            break
        current = np.where(stop >= 0, next_edge[np.clip(stop, 0, None)], -1)
        number += 1
    if not found_start:
        empty = np.zeros(0, dtype=np.int64)
        return _Cycles(empty, empty, np.zeros(0, dtype=np.int32), False)
    start = np.concatenate(found_start)
    order = np.argsort(start, kind="stable")
    return _Cycles(
        start[order].astype(np.int64),
        np.concatenate(found_stop)[order].astype(np.int64),
        np.concatenate(found_number)[order],
        False,
    )


def _label_code(labels: tuple[Any, ...], label: str) -> int:
    return labels.index(label) if label in labels else -2


def _numbered(start: IntArray, steps: _Steps) -> npt.NDArray[np.int32]:
    if len(start) == 0:
        return np.zeros(0, dtype=np.int32)
    ticket = steps.ticket[start]
    fresh = np.r_[True, ticket[1:] != ticket[:-1]]
    group_start = np.maximum.accumulate(np.where(fresh, np.arange(len(start)), 0))
    return (np.arange(len(start)) - group_start + 1).astype(np.int32)


def _cycles(
    metric: str, steps: _Steps, done: BoolArray, created_by: npt.NDArray[np.int8]
) -> _Cycles:
    n = len(steps)
    public = steps.public != 0
    comment = steps.type == _COMMENT
    agent_comment = comment & (steps.actor == _AGENT) & public
    customer_comment = comment & (steps.actor == _CUSTOMER) & public
    starts = steps.starts
    if metric in CUMULATIVE_METRICS:
        prev_done = np.r_[False, done[:-1]] & (np.arange(n) != steps.first)
        run_start = done & ~prev_done
        # Final at closed: the ticket's state is read at its first closed step, if any.
        status_codes, status_labels = steps.state["status"]
        closed = status_codes == _label_code(status_labels, "closed")
        first_closed = (
            np.minimum.reduceat(np.where(closed, np.arange(n), n), starts) if n else starts
        )
        last = np.where(first_closed < steps.ends, first_closed, steps.ends - 1)
        latest = np.maximum.accumulate(np.where(run_start, np.arange(n), steps.first - 1))
        stop = np.where(done[last], latest[last], -1) if n else starts
        return _Cycles(starts.copy(), stop.astype(np.int64), np.ones(len(starts), np.int32), True)
    if metric == "first_reply":
        at_creation = steps.at == steps.at[steps.first]
        outbound_rows = agent_comment & at_creation
        outbound = (
            np.maximum.reduceat(outbound_rows.astype(np.int8), starts).astype(bool)
            if n
            else np.zeros(0, bool)
        )
        outbound &= created_by == _AGENT
        answer = np.where(agent_comment | done, np.arange(n), np.iinfo(np.int64).max)
        first_answer = np.minimum.reduceat(answer, starts) if n else starts
        stop = np.where(first_answer < steps.ends, first_answer, -1)
        keep = ~outbound
        return _Cycles(
            starts[keep], stop[keep].astype(np.int64), np.ones(int(keep.sum()), np.int32), False
        )
    if metric == "next_reply":
        answer = agent_comment | done
        ask = customer_comment & ~answer
        mark = answer | ask
        # The last marked step before each step, within the ticket (-1 if none).
        position = np.where(mark, np.arange(n), steps.first - 1)
        shifted = np.r_[-1, np.maximum.accumulate(position)[:-1]] if n else position
        before = np.where(shifted >= steps.first, shifted, -1)
        initial = np.repeat(created_by != _AGENT, steps.ends - steps.starts)
        waiting = np.where(before >= 0, ask[np.clip(before, 0, None)], initial)
        begin = np.flatnonzero(ask & ~waiting)
        stop = _next_index(answer, steps)[begin]
        return _Cycles(begin.astype(np.int64), stop, _numbered(begin, steps), False)
    # periodic_update, pausable_update
    begin = np.flatnonzero(agent_comment & ~done)
    stop = _next_index(agent_comment | done, steps)[begin]
    return _Cycles(begin.astype(np.int64), stop, _numbered(begin, steps), False)


# ---------------------------------------------------------------------------------- clocks


def evaluate_batch(
    events: EventColumns,
    config: SlaConfig,
    now: datetime,
    tickets_per_chunk: int = 50_000,
    attribution: bool = True,
) -> ClockTable:
    """Every clock of every ticket in ``events`` as of ``now``, as a table.

    Tickets are independent, so a long history is evaluated ``tickets_per_chunk`` tickets at a
    time: the working arrays then stay the size of a chunk, not of the history. Without
    ``attribution`` the table has no rows saying who held the tickets, which saves reports that
    do not show them a grouping of every running piece.
    """
    if now.tzinfo is None:
        raise ValueError("now is a naive datetime; give it a time zone")
    tickets = len(events.ticket.labels)
    if tickets <= tickets_per_chunk:
        return _concat(_evaluate(events, config, now, attribution))
    # Drop repeated ids first (the first copy wins, whichever ticket it names), then split.
    if events.deduplicated:
        first_copy = np.arange(len(events.event_id))
    else:
        _, first_copy = np.unique(events.event_id, return_index=True)
        first_copy.sort()
    # Only the chunk of each event matters here (each chunk sorts its own events): a stable sort
    # on the small chunk numbers is a radix sort, much cheaper than sorting by ticket.
    chunk_of = events.ticket.codes[first_copy] // tickets_per_chunk
    small = np.int16 if tickets // tickets_per_chunk < 1 << 15 else np.int64
    perm = np.argsort(chunk_of.astype(small), kind="stable")
    order = first_copy[perm]
    bounds = np.searchsorted(chunk_of[perm], np.arange(-(-tickets // tickets_per_chunk)))
    ends = np.r_[bounds[1:], len(order)]
    # Chunks are independent and NumPy releases the GIL in its loops: two threads keep both
    # cores of a small machine busy.
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        tables = [
            table
            for chunk in pool.map(
                lambda span: _evaluate(
                    events.take(order[span[0] : span[1]]), config, now, attribution
                ),
                zip(bounds, ends, strict=True),
            )
            for table in chunk
        ]
    return _concat(tables)


def _concat(tables: list[ClockTable]) -> ClockTable:
    """One table from all the pieces, copied once: concatenating per chunk, then the chunks,
    moved every column of millions of clocks two more times."""
    return concat_tables(tables) if tables else ClockTable.from_clocks([])


def _evaluate(
    events: EventColumns, config: SlaConfig, now: datetime, attribution: bool = True
) -> list[ClockTable]:
    """The clocks of ``events`` as pieces of a table, for the caller to concatenate."""
    now_us = (now - _EPOCH) // timedelta(microseconds=1)
    steps = _steps(events, config, now_us)
    ranks = config.ranks
    status_codes, status_labels = steps.state["status"]
    done = np.isin(status_codes, [i for i, s in enumerate(status_labels) if s in DONE_STATUSES])
    created_by = steps.actor[steps.starts] if len(steps) else np.zeros(0, np.int8)
    created_on = _utc_dates(steps.at[steps.starts]) if len(steps) else np.zeros(0, "datetime64[D]")
    parts: list[_Measured] = []
    sequential: set[int] = set()  # ticket codes handed to the per-ticket path
    cycle_cache: dict[str, _Cycles] = {}
    for agreement in config.agreements:
        policy = _policy_per_step(agreement, steps, ranks, created_on)
        settings = _Settings.of(agreement, policy, steps)
        for metric in _metrics(agreement):
            if metric not in cycle_cache:
                custom = config.custom_metrics.get(metric)
                if custom is not None and metric not in BUILTIN_METRICS:
                    cycle_cache[metric] = _custom_cycles(custom, steps, ranks)
                elif metric in BUILTIN_METRICS:
                    cycle_cache[metric] = _cycles(metric, steps, done, created_by)
                else:
                    continue  # a metric nobody defined: no clocks, as on the per-ticket path
            measured, left = _measure_metric(
                agreement, metric, cycle_cache[metric], policy, settings, steps, config, now_us
            )
            parts.extend(measured)
            sequential.update(left)
    handed = sorted(sequential)
    tables = _assemble(parts, steps, events, attribution, handed)
    if handed:
        tables.append(_sequential_table(events, handed, config, now, attribution))
    return tables


def _utc_dates(at_us: IntArray) -> npt.NDArray[np.datetime64]:
    return (at_us // (86_400 * _US)).astype("datetime64[D]")


def _metrics(agreement: Agreement) -> list[str]:
    seen: dict[str, None] = {}
    for policy in agreement.policies:
        for target in policy.targets:
            seen.setdefault(target.metric, None)
    return list(seen)


def _policy_per_step(
    agreement: Agreement,
    steps: _Steps,
    ranks: Mapping[str, Mapping[str, int]] | None,
    created_on: npt.NDArray[np.datetime64],
) -> npt.NDArray[np.int32]:
    """Index of the agreement's policy in force at each step (-1: none)."""
    n = len(steps)
    result = np.full(n, -1, dtype=np.int32)
    if agreement.status == "draft" or n == 0:
        return result
    in_force = np.ones(len(steps.starts), dtype=bool)
    if agreement.effective_from is not None:
        in_force &= created_on >= np.datetime64(agreement.effective_from)
    if agreement.effective_to is not None:
        in_force &= created_on <= np.datetime64(agreement.effective_to)
    eligible = np.repeat(in_force, steps.ends - steps.starts)
    if agreement.scope is not None:
        eligible &= _truth(agreement.scope, steps, ranks)
    undecided = eligible.copy()
    for index, policy in enumerate(agreement.policies):
        hit = undecided if policy.when is None else undecided & _truth(policy.when, steps, ranks)
        result[hit] = index
        undecided &= ~hit
    return result


@dataclass
class _Measured:
    """Measured clocks of one (agreement, metric, target): columns, one row per clock."""

    agreement: str
    agreement_kind: str
    metric: str
    target: Target
    policy: npt.NDArray[np.int32]  # policy index per clock
    policies: tuple[str, ...]
    ticket: npt.NDArray[np.int32]
    cycle: npt.NDArray[np.int32]
    seconds: npt.NDArray[np.float64]
    start: IntArray
    due: IntArray
    stop: IntArray
    state: npt.NDArray[np.int8]
    running_s: npt.NDArray[np.float64]
    paused_s: npt.NDArray[np.float64]
    calendar_s: npt.NDArray[np.float64]
    holder_step: IntArray  # the step whose state the clock reports (group, priority, ...)
    held_clock: IntArray  # attribution rows: clock row, step, business seconds
    held_step: IntArray
    held_s: IntArray  # microseconds


_STATE_NAMES: Final = ("active", "paused", "met", "breached", "cancelled")


def _target_table(
    agreement: Agreement, metric: str, priority_labels: tuple[Any, ...]
) -> tuple[list[Target], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """For each (policy, priority code + absent): which target applies and its seconds."""
    targets: list[Target] = []
    n_p = len(priority_labels) + 1
    which = np.full((len(agreement.policies), n_p), -1, dtype=np.int32)
    seconds = np.zeros((len(agreement.policies), n_p), dtype=np.float64)
    for p, policy in enumerate(agreement.policies):
        target = next((t for t in policy.targets if t.metric == metric), None)
        if target is None:
            continue
        for code in range(n_p):
            label = priority_labels[code] if code < len(priority_labels) else None
            duration = target.duration_for(label if isinstance(label, str) else None)
            if duration is None:
                continue
            if target not in targets:
                targets.append(target)
            which[p, code] = targets.index(target)
            seconds[p, code] = duration
    return targets, which, seconds


def _equal_time_runs(steps: _Steps) -> tuple[IntArray, IntArray]:
    """Per step, the first and last step of the same ticket at the same instant."""
    n = len(steps)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    same = np.r_[False, (steps.ticket[1:] == steps.ticket[:-1]) & (steps.at[1:] == steps.at[:-1])]
    index = np.arange(n)
    run_first = np.maximum.accumulate(np.where(same, 0, index))
    same_next = np.r_[same[1:], False]
    run_last = np.minimum.accumulate(np.where(same_next, n, index)[::-1])[::-1]
    return run_first, run_last


@dataclass(frozen=True)
class _Settings:
    """Per step, which (policy, priority) cell of an agreement's targets is in force."""

    priority_labels: tuple[Any, ...]
    #: flat index policy * (priorities + 1) + priority; the cell past the last where no policy
    #: applies (it has no target).
    combo: IntArray
    #: running count of the steps where ``combo`` differs from the step before (0 first).
    change_prefix: IntArray

    @classmethod
    def of(cls, agreement: Agreement, policy: npt.NDArray[np.int32], steps: _Steps) -> _Settings:
        n = len(steps)
        codes, labels = steps.state.get("priority", (np.full(n, -1, np.int32), ()))
        n_p = len(labels) + 1
        p_code = np.where(codes >= 0, codes, len(labels))
        no_policy = len(agreement.policies) * n_p
        combo = np.where(policy >= 0, policy.astype(np.int64) * n_p + p_code, no_policy)
        changed = np.r_[False, combo[1:] != combo[:-1]] if n else np.zeros(0, bool)
        prefix = np.r_[0, np.cumsum(changed, dtype=np.int64)]
        return cls(labels, combo, prefix)


def _measure_metric(
    agreement: Agreement,
    metric: str,
    cycles: _Cycles,
    policy: npt.NDArray[np.int32],
    settings: _Settings,
    steps: _Steps,
    config: SlaConfig,
    now_us: int,
) -> tuple[list[_Measured], set[int]]:
    """Clocks of one metric under one agreement; returns the tickets left to the per-ticket path."""
    if len(cycles.start) == 0:
        return [], set()
    targets, which, seconds = _target_table(agreement, metric, settings.priority_labels)
    if not targets:
        return [], set()
    combo = settings.combo
    target_of = np.r_[which.ravel(), -1].astype(np.int64)  # by combo
    seconds_of = np.r_[seconds.ravel(), 0.0]

    run_first, run_last = steps.runs()
    ticket_end = steps.step_end()[cycles.start]
    first = run_last[cycles.start]  # the last step at or before the start
    end_at = np.where(cycles.stop >= 0, steps.at[np.clip(cycles.stop, 0, None)], now_us)
    candidate = np.where(cycles.stop >= 0, cycles.stop, ticket_end - 1)
    last = np.where(steps.at[candidate] >= end_at, run_first[candidate] - 1, candidate)
    last = np.maximum(last, first)  # the last step that starts before the end

    # A change of policy or priority (even one that keeps the target) counts as a change: the
    # cycle is then either retarget-only (measured here) or left to the per-ticket path.
    prefix = settings.change_prefix
    constant = prefix[np.maximum(last + 1, first + 1)] == prefix[first + 1]
    # Steps with a target, and steps whose target is not retarget-only (or absent), per cycle:
    # a cycle whose settings never change has its first step's throughout; the others (few)
    # are counted over their steps.
    span = last - first + 1
    target_first = target_of[combo[first]]
    with_target = np.where(target_first >= 0, span, 0)
    bad_count = np.zeros(len(span), dtype=np.int64)
    varying = np.flatnonzero(~constant)
    if len(varying):
        lengths = span[varying]
        owner = np.repeat(np.arange(len(varying)), lengths)
        target = target_of[combo[np.repeat(first[varying], lengths) + _ramp(lengths)]]
        not_retarget = np.array([t.on_change != "retarget" for t in targets] + [True], bool)
        with_target[varying] = np.bincount(owner, target >= 0, len(varying)).astype(np.int64)
        bad_count[varying] = np.bincount(owner, not_retarget[target], len(varying)).astype(np.int64)

    never = with_target == 0  # no target while the cycle ran: no clock
    always = with_target == span
    simple = always & (bad_count == 0)
    handed = {int(t) for t in steps.ticket[cycles.start[~simple & ~never]]}
    chosen = np.flatnonzero(simple)
    results = []
    final_target = target_of[combo[last[chosen]]]
    for t_index, target in enumerate(targets):
        for rows in _chunks(chosen[final_target == t_index], last - first + 1):
            results.append(
                _measure_group(
                    agreement,
                    metric,
                    target,
                    cycles,
                    rows,
                    first[rows],
                    last[rows],
                    end_at[rows],
                    policy,
                    seconds_of[combo[last[rows]]],
                    steps,
                    config,
                    now_us,
                    run_first,
                )
            )
    return results, handed


def _chunks(rows: IntArray, lengths: IntArray) -> list[IntArray]:
    """Split clocks so that each chunk expands to at most ``_PAIRS_PER_CHUNK`` pieces.

    Memory then stays flat however long the history: a cumulative clock spans every step of its
    ticket, and ten million steps expanded at once would need gigabytes of temporaries.
    """
    if len(rows) == 0:
        return []
    total = np.cumsum(lengths[rows])
    bounds = np.searchsorted(total, np.arange(_PAIRS_PER_CHUNK, int(total[-1]), _PAIRS_PER_CHUNK))
    return [part for part in np.split(rows, bounds) if len(part)]


def _ramp(lengths: IntArray) -> IntArray:
    """0..len-1 for each length, concatenated."""
    total = int(lengths.sum())
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    ramp: IntArray = np.arange(total, dtype=np.int64) - np.repeat(offsets, lengths).astype(np.int64)
    return ramp


_RUNNING: Final = 0
_SOLVED_CAUSE: Final = 1
_OTHER_TEAM_CAUSE: Final = 2


def _step_causes(
    agreement: Agreement,
    metric: str,
    target: Target,
    cumulative: bool,
    steps: _Steps,
    config: SlaConfig,
) -> npt.NDArray[np.int32]:
    """Pause cause per step, computed once per chunk for all clocks that pause alike."""
    custom = config.custom_metrics.get(metric)
    has_custom_pause = custom is not None and custom.pause is not None
    team = agreement.team if agreement.kind in ("ola", "uc") else None
    statuses = target.pauses(DEFAULT_PAUSE_ON.get(metric, frozenset()))
    key = (frozenset(statuses), metric if has_custom_pause else None, team, cumulative)
    cause = steps.causes.get(key)
    if cause is None:
        custom_pause = (
            _truth(custom.pause, steps, config.ranks)
            if custom is not None and custom.pause is not None
            else None
        )
        cause, _ = _causes(agreement, metric, target, cumulative, steps, custom_pause)
        steps.causes[key] = cause
    return cause


def _causes(
    agreement: Agreement,
    metric: str,
    target: Target,
    cumulative: bool,
    steps: _Steps,
    custom_pause: BoolArray | None = None,
) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Pause cause per step (0 = running), in the per-ticket path's order of precedence."""
    names = ["", "solved", "other_team"]
    statuses = target.pauses(DEFAULT_PAUSE_ON.get(metric, frozenset()))
    codes, labels = steps.state["status"]
    status_cause = np.zeros(len(labels) + 1, dtype=np.int32)
    for i, label in enumerate(labels):
        if label in statuses:
            names.append(label)
            status_cause[i] = len(names) - 1
    cause = status_cause[np.where(codes >= 0, codes, len(labels))]
    if custom_pause is not None:
        names.append("custom")
        cause = np.where((cause == _RUNNING) & custom_pause, len(names) - 1, cause)
    team = agreement.team if agreement.kind in ("ola", "uc") else None
    if team is not None:
        group_codes, group_labels = steps.state.get(
            "group", (np.full(len(steps), -1, np.int32), ())
        )
        is_team = np.array([g == team for g in group_labels] + [False], dtype=bool)
        held = is_team[np.where(group_codes >= 0, group_codes, len(group_labels))]
        cause = np.where(~held, _OTHER_TEAM_CAUSE, cause)
    if cumulative:
        done = np.array([s in DONE_STATUSES for s in labels] + [False], dtype=bool)
        cause = np.where(done[np.where(codes >= 0, codes, len(labels))], _SOLVED_CAUSE, cause)
    return cause.astype(np.int32), names


def _measure_group(
    agreement: Agreement,
    metric: str,
    target: Target,
    cycles: _Cycles,
    rows: IntArray,
    first: IntArray,
    last: IntArray,
    end_at: IntArray,
    policy: npt.NDArray[np.int32],
    seconds: npt.NDArray[np.float64],
    steps: _Steps,
    config: SlaConfig,
    now_us: int,
    run_first: IntArray,
) -> _Measured:
    """Measure clocks that share one target: expand each over its steps, reduce back."""
    calendar = config.calendar(target.calendar)
    start_at = steps.at[cycles.start[rows]]
    stop_step = cycles.stop[rows]
    count = len(rows)
    lengths = last - first + 1
    clock_of = np.repeat(np.arange(count), lengths)
    step = np.repeat(first, lengths) + _ramp(lengths)
    a = np.maximum(steps.at[step], start_at[clock_of])
    is_last = step == last[clock_of]
    next_at = steps.at[np.minimum(step + 1, len(steps) - 1)]
    b = np.where(is_last, end_at[clock_of], next_at)
    nonempty = a < b
    clock_of, step, a, b = clock_of[nonempty], step[nonempty], a[nonempty], b[nonempty]
    # A running clock also reads the step made at ``now`` itself (an empty piece), as the
    # per-ticket path does, so a ticket that went pending this instant reads as paused.
    ticket_last = steps.step_end()[first] - 1
    trailing = np.flatnonzero(
        (stop_step < 0) & (steps.at[ticket_last] == end_at) & (ticket_last > last)
    )
    if len(trailing):
        clock_of = np.r_[clock_of, trailing]
        step = np.r_[step, ticket_last[trailing]]
        a = np.r_[a, end_at[trailing]]
        b = np.r_[b, end_at[trailing]]
        order = np.argsort(clock_of, kind="stable")
        clock_of, step, a, b = clock_of[order], step[order], a[order], b[order]

    cause = _step_causes(agreement, metric, target, cycles.cumulative, steps, config)[step]
    running = cause == _RUNNING
    run_a, run_b = a.copy(), np.where(running, b, a)
    paused_piece = ~running
    cappable = np.zeros(len(a), dtype=bool)
    if target.max_pause is not None:
        cappable = (cause != _RUNNING) & (cause != _SOLVED_CAUSE) & (cause != _OTHER_TEAM_CAUSE)
        fresh = np.r_[True, clock_of[1:] != clock_of[:-1]] if len(a) else np.zeros(0, bool)
        changed = np.r_[True, cause[1:] != cause[:-1]] if len(a) else np.zeros(0, bool)
        run_begins = cappable & (fresh | changed)  # each status's pause has its own cap
        index = np.arange(len(a))
        begin_index = np.maximum.accumulate(np.where(run_begins | ~cappable, index, 0))
        expires = a[begin_index] + round(target.max_pause * _US)
        split_at = np.clip(expires, a, b)
        run_a = np.where(cappable, split_at, run_a)
        run_b = np.where(cappable, b, run_b)
        paused_piece &= ~cappable | (expires >= b)
    # A piece runs or pauses whole, so its business time is counted once and goes to one side;
    # only a capped pause is split in two (running after its cap).
    whole = np.flatnonzero(~cappable)
    span_us = _business_us(calendar, a[whole], b[whole])
    run_us = np.zeros(len(a), dtype=np.int64)
    pause_us = np.zeros(len(a), dtype=np.int64)
    run_us[whole] = np.where(running[whole], span_us, 0)
    pause_us[whole] = np.where(running[whole], 0, span_us)
    split = np.flatnonzero(cappable)
    if len(split):
        run_us[split] = _business_us(calendar, run_a[split], b[split])
        pause_us[split] = _business_us(calendar, a[split], run_a[split])

    pairs = np.bincount(clock_of, minlength=count)
    offsets = np.cumsum(pairs) - pairs  # clock_of is sorted: each clock's first piece
    has_pairs = pairs > 0
    running_total = np.bincount(clock_of, weights=run_us, minlength=count).astype(np.int64)
    paused_total = np.bincount(clock_of, weights=pause_us, minlength=count).astype(np.int64)
    target_us = np.round(seconds * _US).astype(np.int64)

    # Due: the first running piece that takes running time past the target.
    exclusive = np.cumsum(run_us) - run_us
    before = (
        exclusive - exclusive[np.minimum(offsets, len(a) - 1)][clock_of] if len(a) else exclusive
    )
    crossing = np.flatnonzero(run_us > target_us[clock_of] - before)
    found = np.full(count, len(a), dtype=np.int64)
    crossed, first_crossing = np.unique(clock_of[crossing], return_index=True)
    found[crossed] = crossing[first_crossing]
    has_crossing = found < len(a)
    pick = np.clip(found, 0, max(len(a) - 1, 0))
    due = np.empty(count, dtype=np.int64)
    if has_crossing.any():
        remaining = target_us[has_crossing] - before[pick[has_crossing]]
        due[has_crossing] = _add_us(calendar, run_a[pick[has_crossing]], remaining)
    rest = ~has_crossing
    if rest.any():
        due[rest] = _add_us(calendar, end_at[rest], target_us[rest] - running_total[rest])

    stopped = stop_step >= 0
    breached = np.where(stopped, end_at > due, now_us > due)
    last_pair = np.clip(np.r_[offsets[1:], len(a)] - 1, 0, None)
    last_paused = has_pairs & paused_piece[last_pair] if len(a) else has_pairs
    state = np.where(
        stopped,
        np.where(breached, 3, 2),
        np.where(breached, 3, np.where(last_paused, 1, 0)),
    ).astype(np.int8)
    # The state a clock reports: just before its stop, or the ticket's current state.
    ticket_first = steps.first[first]
    holder = np.where(
        stopped, np.maximum(run_first[np.clip(stop_step, 0, None)] - 1, ticket_first), ticket_last
    )

    running_piece = run_b > run_a
    return _Measured(
        agreement=agreement.id,
        agreement_kind=agreement.kind,
        metric=metric,
        target=target,
        policy=policy[last],
        policies=tuple(p.id for p in agreement.policies),
        ticket=steps.ticket[cycles.start[rows]],
        cycle=cycles.number[rows],
        seconds=seconds,
        start=start_at,
        due=due,
        stop=np.where(stopped, end_at, NAT),
        state=state,
        running_s=running_total / _US,
        paused_s=paused_total / _US,
        calendar_s=(end_at - start_at) / _US,
        holder_step=holder,
        held_clock=clock_of[running_piece],
        held_step=step[running_piece],
        held_s=run_us[running_piece],
    )


def _business_us(calendar: Calendar, a: IntArray, b: IntArray) -> IntArray:
    """Business microseconds in ``[a, b)`` (zero where ``b <= a``)."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.zeros(len(a), dtype=np.int64)
    live = b > a
    if live.any():
        seconds = calendar.between_many(a[live] / _US, b[live] / _US)
        out[live] = np.round(seconds * _US).astype(np.int64)
    return out


def _add_us(calendar: Calendar, start: IntArray, business_us: IntArray) -> IntArray:
    result = calendar.add_many(start / _US, business_us / _US)
    return np.round(np.asarray(result, dtype=np.float64) * _US).astype(np.int64)


def _labels_at(steps: _Steps, name: str, at_step: IntArray) -> Categorical:
    """A ticket field as text at the given steps (None where never set), as the per-ticket path."""
    if name not in steps.state or len(at_step) == 0:
        return Categorical(np.zeros(len(at_step), dtype=np.int32), (None,))
    codes, labels = steps.state[name]
    remap, text = _as_text(labels)
    picked = codes[at_step]
    return Categorical(remap[np.where(picked >= 0, picked, len(labels))], text)


_TEXT_LABELS: dict[int, tuple[tuple[Any, ...], npt.NDArray[np.int32], tuple[str | None, ...]]] = {}


def _as_text(labels: tuple[Any, ...]) -> tuple[npt.NDArray[np.int32], tuple[str | None, ...]]:
    """Codes of ``labels`` (and of "absent", last) into their text labels.

    Remembered by identity for the few label tables in use (hashing a large tuple at every call
    would cost more than it saves), so that every piece of every chunk shares one label table
    per field and concatenating the pieces needs no mapping of labels.
    """
    cached = _TEXT_LABELS.get(id(labels))
    if cached is not None and cached[0] is labels:
        return cached[1], cached[2]
    lookup: dict[str | None, int] = {}
    remap = np.array(
        [lookup.setdefault(None if v is None else str(v), len(lookup)) for v in labels]
        + [lookup.setdefault(None, len(lookup))],
        dtype=np.int32,
    )
    text = tuple(lookup)
    if len(_TEXT_LABELS) >= 16:
        _TEXT_LABELS.clear()
    _TEXT_LABELS[id(labels)] = (labels, remap, text)
    return remap, text


def _constant(value: str, n: int) -> Categorical:
    return Categorical(np.zeros(n, dtype=np.int32), (value,))


def _assemble(
    parts: list[_Measured],
    steps: _Steps,
    events: EventColumns,
    attribution: bool = True,
    handed: list[int] | None = None,
) -> list[ClockTable]:
    """The measured parts as tables, without the clocks of ``handed`` tickets (the per-ticket
    path gives all of those tickets' clocks)."""
    tables = []
    for part in parts:
        if handed:
            part = _without_tickets(part, handed)
        n = len(part.ticket)
        breached = part.state == 3
        held = slice(None) if attribution else slice(0)
        part.held_clock, part.held_step, part.held_s = (
            part.held_clock[held],
            part.held_step[held],
            part.held_s[held],
        )
        groups = _labels_at(steps, "group", part.held_step)
        assignees = _labels_at(steps, "assignee", part.held_step)
        # One int64 key per (clock, group, assignee): a 1-D unique is much faster than axis=1.
        width_a = len(assignees.labels)
        width_g = len(groups.labels) * width_a
        key = part.held_clock * width_g + groups.codes.astype(np.int64) * width_a + assignees.codes
        unique_keys, inverse = np.unique(key, return_inverse=True)
        held_us = np.bincount(inverse.reshape(-1), weights=part.held_s, minlength=len(unique_keys))
        distinct = np.stack(
            [unique_keys // width_g, (unique_keys % width_g) // width_a, unique_keys % width_a]
        )
        group_labels, assignee_labels = groups.labels, assignees.labels
        tables.append(
            ClockTable(
                text={
                    "ticket": Categorical(part.ticket.astype(np.int32), events.ticket.labels),
                    "agreement": _constant(part.agreement, n),
                    "policy": Categorical(part.policy.astype(np.int32), part.policies),
                    "metric": _constant(part.metric, n),
                    "priority": _labels_at(steps, "priority", part.holder_step),
                    "group": _labels_at(steps, "group", part.holder_step),
                    "assignee": _labels_at(steps, "assignee", part.holder_step),
                    "organization": _labels_at(steps, "organization", part.holder_step),
                    "channel": _labels_at(steps, "channel", part.holder_step),
                    "calendar": _constant(part.target.calendar, n),
                    "state": Categorical(part.state.astype(np.int32), _STATE_NAMES),
                },
                instants={
                    "start": part.start,
                    "due": part.due,
                    "stop": part.stop,
                    "breached_at": np.where(breached, part.due, NAT),
                },
                numbers={
                    "target_s": part.seconds,
                    "business_elapsed_s": part.running_s,
                    "calendar_elapsed_s": part.calendar_s,
                    "paused_s": part.paused_s,
                    "remaining_s": part.seconds - part.running_s,
                },
                cycle=part.cycle.astype(np.int32),
                held_row=distinct[0].astype(np.int64),
                held_group=Categorical(distinct[1].astype(np.int32), group_labels),
                held_assignee=Categorical(distinct[2].astype(np.int32), assignee_labels),
                held_s=np.asarray(held_us, dtype=np.float64) / _US,
            )
        )
    return tables


def _without_tickets(part: _Measured, tickets: list[int]) -> _Measured:
    keep = ~np.isin(part.ticket, tickets)
    if keep.all():
        return part
    new_index = np.cumsum(keep) - 1
    held = keep[part.held_clock]
    return replace(
        part,
        policy=part.policy[keep],
        ticket=part.ticket[keep],
        cycle=part.cycle[keep],
        seconds=part.seconds[keep],
        start=part.start[keep],
        due=part.due[keep],
        stop=part.stop[keep],
        state=part.state[keep],
        running_s=part.running_s[keep],
        paused_s=part.paused_s[keep],
        calendar_s=part.calendar_s[keep],
        holder_step=part.holder_step[keep],
        held_clock=new_index[part.held_clock[held]],
        held_step=part.held_step[held],
        held_s=part.held_s[held],
    )


def _events_of(events: EventColumns, tickets: set[int]) -> list[Event]:
    """Rebuild the ``Event`` objects of some tickets, for the per-ticket path."""
    rows = np.flatnonzero(np.isin(events.ticket.codes, sorted(tickets)))
    result = []
    for r in rows.tolist():
        fields = {
            name: _plain(column.labels[column.codes[r]])
            for name, column in events.fields.items()
            if column.present[r]
        }
        actor = int(events.actor[r])
        public = int(events.public[r])
        result.append(
            Event(
                id=events.id_text[r],
                ticket=str(events.ticket.labels[events.ticket.codes[r]]),
                at=_EPOCH + timedelta(microseconds=int(events.at_us[r])),
                type=EVENT_TYPES[int(events.type[r])],
                actor=None if actor < 0 else ACTORS[actor],
                public=None if public < 0 else bool(public),
                fields=MappingProxyType(fields),
            )
        )
    return result


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _sequential_table(
    events: EventColumns,
    tickets: list[int],
    config: SlaConfig,
    now: datetime,
    attribution: bool = True,
) -> ClockTable:
    """The clocks of ``tickets`` by the per-ticket path."""
    by_ticket: dict[str, list[Event]] = {}
    for event in _events_of(events, set(tickets)):
        by_ticket.setdefault(event.ticket, []).append(event)
    clocks: list[Clock] = []
    for ticket_events in by_ticket.values():
        history = replay(ticket_events, now, config.statuses)
        if history is not None:
            clocks.extend(evaluate_history(history, config, now))
    if not attribution:
        clocks = [replace(c, attribution=()) for c in clocks]
    table = ClockTable.from_clocks(clocks)
    # Tickets as codes into the events' own label table, as the batch's clocks have them, so
    # that the final concatenation need not map a million ticket labels.
    labels = events.ticket.labels
    code_of = {str(labels[t]): t for t in tickets}
    column = table.text["ticket"]
    remap = np.array([code_of[str(label)] for label in column.labels] or [0], dtype=np.int32)
    text = {**table.text, "ticket": Categorical(remap[column.codes], labels)}
    return replace(table, text=text)
