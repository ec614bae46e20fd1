"""Evaluating a whole history of events: every ticket's clocks, ready for reports.

Two paths give the same clocks: the per-ticket path (``evaluate_ticket`` for each ticket, what
the server does when one event arrives) and the batch path (``evaluate_batch`` over columns,
what reports over a large export use).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from duly.core.agreements import SlaConfig
from duly.core.batch import EventColumns, evaluate_batch
from duly.core.clock_table import ClockTable
from duly.core.clocks import Clock, evaluate_ticket
from duly.core.events import Event
from duly.service.collector import collector_paused
from duly.service.event_columns import read_columns
from duly.service.event_files import EventProblem, read_events

__all__ = [
    "History",
    "clocks_by_ticket",
    "evaluate_history_per_ticket",
    "read_history",
    "read_history_columns",
]


@dataclass
class History:
    """Events read from files, and what could not be read."""

    events: list[Event] = field(default_factory=list)
    problems: list[EventProblem] = field(default_factory=list)
    lines: int = 0
    duplicates: int = 0

    columns: EventColumns | None = None

    def clocks(self, config: SlaConfig, now: datetime, attribution: bool = True) -> ClockTable:
        """Every clock of the history as of ``now`` (batch path)."""
        columns = self.columns or EventColumns.from_events(self.events)
        return evaluate_batch(columns, config, now, attribution=attribution)


def read_history_columns(
    paths: Sequence[Path],
    *,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Read event files as columns when Arrow can vouch for them, else line by line.

    Both give the same events; the column path skips a Python object per event, the line path
    reports each bad line with its number.
    """
    fast = read_columns(paths)
    if fast is None:
        return read_history(paths, strict=strict, progress=progress)
    if progress is not None:
        progress(fast.lines)
    return History(lines=fast.lines, duplicates=fast.duplicates, columns=fast.columns)


def read_history(
    paths: Sequence[Path],
    *,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Read every event file; ids repeated across files count as duplicates."""
    history = History()
    seen: set[str] = set()
    done = 0
    for path in paths:

        def tick(count: int, base: int = done) -> None:
            if progress is not None:
                progress(base + count)

        batch = read_events(path, strict=strict, progress=tick)
        done += batch.lines
        history.lines += batch.lines
        history.duplicates += batch.duplicates
        history.problems.extend(batch.problems)
        for event in batch.events:
            if event.id in seen:
                history.duplicates += 1
                continue
            seen.add(event.id)
            history.events.append(event)
    return history


def clocks_by_ticket(
    events: Iterable[Event],
    config: SlaConfig,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[Clock]]:
    """Each ticket's clocks, evaluated one ticket at a time (the per-ticket path)."""
    tickets: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        tickets[event.ticket].append(event)
    result: dict[str, list[Clock]] = {}
    with collector_paused():
        for done, (ticket, ticket_events) in enumerate(tickets.items(), start=1):
            result[ticket] = evaluate_ticket(ticket_events, config, now)
            if progress is not None and done % 1000 == 0:
                progress(done)
    return result


def evaluate_history_per_ticket(
    events: Iterable[Event],
    config: SlaConfig,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ClockTable:
    """All clocks of a history as a table, through the per-ticket path."""
    by_ticket = clocks_by_ticket(events, config, now, progress)
    return ClockTable.from_clocks(c for clocks in by_ticket.values() for c in clocks)
