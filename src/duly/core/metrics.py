"""When each metric's clock starts and stops on a ticket: its cycles.

This is DESIGN.md's metric table as code. A cycle is a span of the ticket's life that one clock
measures; targets, calendars and pauses are applied to it later (``duly.core.clocks``), because
they depend on the policy in force, while the cycles depend only on what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from duly.core.agreements import CUMULATIVE_METRICS, CustomMetric
from duly.core.tickets import DONE_STATUSES, Step, TicketHistory

__all__ = ["Cycle", "cycles_of"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """One clock's span: from ``start`` to ``stop`` (None while it runs).

    ``cumulative`` clocks (requester wait, agent work, resolution) are one clock over the whole
    ticket: they rest while the ticket is solved and resume when it reopens, so their solved
    spans count as pauses rather than ending the cycle.
    """

    number: int
    start: datetime
    stop: datetime | None
    cumulative: bool = False


Ranks = Mapping[str, Mapping[str, int]]
_new: Final = object.__new__
_set: Final = object.__setattr__


def _cycle(number: int, start: datetime, stop: datetime | None, cumulative: bool = False) -> Cycle:
    """``Cycle(...)`` field by field: a third of the cost of calling the frozen dataclass."""
    cycle = _new(Cycle)
    _set(cycle, "number", number)
    _set(cycle, "start", start)
    _set(cycle, "stop", stop)
    _set(cycle, "cumulative", cumulative)
    return cycle


def cycles_of(
    metric: str,
    history: TicketHistory,
    custom: Mapping[str, CustomMetric] | None = None,
    ranks: Ranks | None = None,
) -> list[Cycle]:
    """The cycles of ``metric`` on the ticket; an unknown metric has none."""
    if metric in CUMULATIVE_METRICS:
        return [_cumulative(history)]
    finder = _FINDERS.get(metric)
    if finder is not None:
        return finder(history)
    if custom and metric in custom:
        return _custom(custom[metric], history, ranks)
    return []


def _is_done(step: Step) -> bool:
    return step.status in DONE_STATUSES


def _cumulative(history: TicketHistory) -> Cycle:
    stop: datetime | None = None
    for step in history.steps:
        stop = (stop or step.at) if _is_done(step) else None
        if step.status == "closed":
            break  # final at closed: a later reopen does not resume the clock
    return _cycle(1, history.created_at, stop, cumulative=True)


def _first_reply(history: TicketHistory) -> list[Cycle]:
    created = history.created_at
    if history.created_by == "agent" and any(
        s.at == created and s.is_public_agent_comment for s in history.steps
    ):
        return []  # an outbound ticket: the agent spoke first
    for step in history.steps:
        if step.is_public_agent_comment or _is_done(step):
            return [_cycle(1, created, step.at)]
    return [_cycle(1, created, None)]


def _next_reply(history: TicketHistory) -> list[Cycle]:
    cycles: list[Cycle] = []
    # The creator's first message is first_reply's to answer, not next_reply's.
    waiting = history.created_by != "agent"
    start: datetime | None = None
    for step in history.steps:
        if step.is_public_agent_comment or _is_done(step):
            if start is not None:
                cycles.append(_cycle(len(cycles) + 1, start, step.at))
                start = None
            waiting = False
        elif step.is_public_customer_comment and not waiting:
            start, waiting = step.at, True
    if start is not None:
        cycles.append(_cycle(len(cycles) + 1, start, None))
    return cycles


def _updates(history: TicketHistory) -> list[Cycle]:
    cycles: list[Cycle] = []
    start: datetime | None = None
    for step in history.steps:
        if _is_done(step):
            if start is not None:
                cycles.append(_cycle(len(cycles) + 1, start, step.at))
                start = None
        elif step.is_public_agent_comment:
            if start is not None:
                cycles.append(_cycle(len(cycles) + 1, start, step.at))
            start = step.at
    if start is not None:
        cycles.append(_cycle(len(cycles) + 1, start, None))
    return cycles


def _custom(metric: CustomMetric, history: TicketHistory, ranks: Ranks | None) -> list[Cycle]:
    cycles: list[Cycle] = []
    start: datetime | None = None
    was_true = False  # a cycle starts when the start condition *becomes* true
    for step in history.steps:
        starts = metric.start.matches(step.state, ranks)
        if start is None:
            if starts and not was_true and (metric.repeat or not cycles):
                start = step.at
        elif metric.stop.matches(step.state, ranks):
            cycles.append(_cycle(len(cycles) + 1, start, step.at))
            start = None
        was_true = starts
    if start is not None:
        cycles.append(_cycle(len(cycles) + 1, start, None))
    return cycles


_FINDERS: dict[str, Callable[[TicketHistory], list[Cycle]]] = {
    "first_reply": _first_reply,
    "next_reply": _next_reply,
    "periodic_update": _updates,
    "pausable_update": _updates,
}
