"""The per-ticket path builds its values without calling their dataclasses (for speed).

These tests check that what it builds is what the dataclasses would have built: every field
set, nothing more, and equal to a value made the ordinary way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields, replace
from datetime import UTC, datetime

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
