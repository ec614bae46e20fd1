"""Shortcuts of the per-ticket path, checked against the ways they short-cut.

It builds its values without calling their dataclasses, and measures most clocks from a table
of business time at the ticket's steps rather than cutting each clock apart (``_walk_steps``
instead of ``_walk_pieces``). Both must give exactly what the general ways give.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import duly.core.clocks
from core.test_batch_equivalence import make_config, random_history
from duly.core.clocks import Attribution, Clock, Pause, evaluate_ticket
from duly.core.events import Event

NOW = datetime(2026, 6, 30, tzinfo=UTC)


def clocks_of_random_tickets(seed: int) -> list[Clock]:
    tickets: dict[str, list[Event]] = defaultdict(list)
    for event in random_history(seed, 80):
        tickets[event.ticket].append(event)
    config = make_config()
    return [c for events in tickets.values() for c in evaluate_ticket(events, config, NOW)]


def test_every_clock_has_exactly_the_fields_of_a_clock_and_equals_one_built_normally() -> None:
    clocks = clocks_of_random_tickets(11)
    assert clocks
    names = {f.name for f in fields(Clock)}
    for clock in clocks:
        assert set(vars(clock)) == names
        assert replace(clock) == clock  # rebuilt through Clock.__init__


def test_pauses_and_attributions_equal_those_built_normally() -> None:
    clocks = clocks_of_random_tickets(12)
    pauses = [p for c in clocks for p in c.pauses]
    held = [a for c in clocks for a in c.attribution]
    assert pauses
    assert held
    for pause in pauses:
        assert pause == Pause(pause.start, pause.end, pause.cause, pause.business_s)
    for attribution in held:
        assert attribution == Attribution(
            attribution.group, attribution.assignee, attribution.business_s
        )


def every_field(clock: Clock) -> dict[str, Any]:
    values = vars(clock).copy()
    # Equal instants in other zones compare equal: compare the zones too.
    for name in ("start", "due", "stop", "breached_at"):
        values[f"{name}.tz"] = None if values[name] is None else values[name].tzinfo
    values["pauses.tz"] = [(p.start.tzinfo, p.end and p.end.tzinfo) for p in clock.pauses]
    return values


@pytest.mark.parametrize("on_change", ["retarget", "restart", "stricter"])
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 4, 20, tzinfo=UTC),
        datetime(2026, 6, 30, tzinfo=UTC),
        datetime(2026, 5, 10, 9, tzinfo=ZoneInfo("Europe/Stockholm")),
    ],
    ids=["mid-history", "after", "mid-history in Stockholm"],
)
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_clocks_measured_from_the_step_table_equal_clocks_cut_piece_by_piece(
    seed: int, on_change: Any, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets: dict[str, list[Event]] = defaultdict(list)
    for event in random_history(seed, 150):
        tickets[event.ticket].append(event)
    config = make_config(on_change)
    fast = [[every_field(c) for c in evaluate_ticket(e, config, now)] for e in tickets.values()]
    walked = 0
    walk_steps = duly.core.clocks._walk_steps

    def counted(*args: Any) -> Any:
        nonlocal walked
        result = walk_steps(*args)
        walked += result is not None
        return result

    monkeypatch.setattr(duly.core.clocks, "_walk_steps", counted)
    [evaluate_ticket(e, config, now) for e in tickets.values()]
    assert walked > 100  # the table served most clocks
    monkeypatch.setattr(duly.core.clocks, "_walk_steps", lambda *args: None)
    general = [[every_field(c) for c in evaluate_ticket(e, config, now)] for e in tickets.values()]
    assert fast == general


@given(st.integers(-(2**62), 2**62) | st.integers(-(2**52), 2**52))
def test_microseconds_go_through_float_seconds_only_where_that_changes_them(us: int) -> None:
    # What Calendar.between and Calendar.add do to an amount: seconds as a float, then back.
    assert duly.core.clocks._exact(us) == round(us / 1_000_000 * 1_000_000)
