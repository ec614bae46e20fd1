"""The batch path gives exactly the clocks of the per-ticket path, on varied random histories."""

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pytest

from duly.core.agreements import Agreement, CustomMetric, Policy, SlaConfig, Target
from duly.core.batch import EventColumns, _replay_order, evaluate_batch
from duly.core.calendar import Calendar
from duly.core.clock_table import Categorical, ClockTable
from duly.core.clocks import evaluate_ticket
from duly.core.conditions import parse_condition
from duly.core.events import Event

LUNCH = ((480, 720), (780, 1020))
STATUSES = {"Open": "open", "Waiting": "pending", "Vendor": "on_hold", "Done": "solved"}
SOURCE_STATUSES = ["Open", "Waiting", "Vendor", "Done", "closed", "new"]
PRIORITIES = ("low", "normal", "high", "urgent")
GROUPS = ["l1", "l2", "billing", None]


def make_config(on_change: Literal["retarget", "restart", "stricter"] = "retarget") -> SlaConfig:
    office = Calendar(
        "Europe/Stockholm",
        (LUNCH,) * 5 + ((), ()),
        holidays=frozenset({date(2026, 4, 3), date(2026, 4, 6)}),
        exceptions={date(2026, 4, 30): ((480, 727),)},
        name="office",
    )
    new_york = Calendar("America/New_York", (((540, 1020),),) * 5 + ((), ()), name="ny")
    targets = (
        Target("first_reply", {"urgent": 1800, "high": 3600, "*": 4 * 3600}, "office"),
        Target("next_reply", {"urgent": 3600, "*": 6 * 3600}, "office", on_change=on_change),
        Target("periodic_update", {"*": 86400}, "24x7"),
        Target("pausable_update", {"*": 8 * 3600}, "ny", max_pause=2 * 86400),
        Target("requester_wait", {"*": 16 * 3600}, "office", on_change=on_change),
        Target("agent_work", {"high": 8 * 3600, "urgent": 4 * 3600}, "ny"),
        Target(
            "resolution",
            {"urgent": 8 * 3600, "high": 16 * 3600, "normal": 40 * 3600},
            "office",
            pause_on=frozenset({"pending"}),
            max_pause=3 * 86400,
            on_change=on_change,
        ),
    )
    vip = Policy(
        "vip",
        when=parse_condition({"field": "tags", "op": "contains", "value": "vip"}),
        targets=(
            *targets[:3],
            Target("resolution", {"*": 4 * 3600}, "24x7", on_change="stricter"),
        ),
    )
    pickup = Target("pickup", {"*": 2 * 3600}, "office", max_pause=86400)
    standard = Policy("standard", targets=(*targets, pickup))
    sla = Agreement(id="sla", kind="sla", policies=(vip, standard))
    ola = Agreement(
        id="ola",
        kind="ola",
        team="l2",
        scope=parse_condition({"field": "priority", "op": "in", "value": ["high", "urgent"]}),
        policies=(Policy("l2", targets=(Target("resolution", {"*": 8 * 3600}, "office"),)),),
    )
    draft = Agreement(id="draft", status="draft", policies=(standard,))
    # A custom metric: from the ticket reaching second line to the next public agent comment,
    # paused while on hold, once per hand-over.
    custom = CustomMetric(
        "pickup",
        start=parse_condition({"field": "group", "op": "is", "value": "l2"}),
        stop=parse_condition(
            {
                "all": [
                    {"field": "event.type", "op": "is", "value": "comment.added"},
                    {"field": "event.actor", "op": "is", "value": "agent"},
                ]
            }
        ),
        pause=parse_condition({"field": "status", "op": "is", "value": "on_hold"}),
        repeat=True,
    )
    return SlaConfig(
        calendars={"office": office, "ny": new_york},
        agreements=(sla, ola, draft),
        statuses=STATUSES,
        priorities=PRIORITIES,
        custom_metrics={"pickup": custom},
    )


def random_history(seed: int, tickets: int) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    base = datetime(2026, 3, 20, tzinfo=UTC)
    for n in range(tickets):
        ticket = f"T{n}"
        at = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 50))
        creator = rng.choice(["customer", "customer", "agent"])
        fields: dict[str, Any] = {
            "priority": rng.choice(PRIORITIES),
            "group": rng.choice(GROUPS),
            "tags": rng.choice([["vip"], [], ["x", "y"]]),
        }
        if rng.random() < 0.8:
            fields["status"] = rng.choice(["new", "Open"])
        mine = [Event(f"{ticket}-0", ticket, at, "ticket.created", creator, fields=fields)]
        if creator == "agent" and rng.random() < 0.5:
            mine.append(Event(f"{ticket}-0c", ticket, at, "comment.added", "agent", True))
        for i in range(1, rng.randrange(1, 14)):
            at += timedelta(minutes=rng.choice([0, 1, 7, 30, 95, 240, 600, 1500, 4000]))
            kind = rng.random()
            if kind < 0.35:
                actor = rng.choice(["agent", "customer", "system"])
                public = rng.choice([True, True, False, None])
                mine.append(Event(f"{ticket}-{i}", ticket, at, "comment.added", actor, public))
            elif kind < 0.97:
                change: dict[str, Any] = {}
                roll = rng.random()
                if roll < 0.5:
                    change["status"] = rng.choice(SOURCE_STATUSES)
                elif roll < 0.7:
                    change["priority"] = rng.choice(PRIORITIES)
                elif roll < 0.85:
                    change["group"] = rng.choice(GROUPS)
                    change["assignee"] = rng.choice(["ann", "bo", None])
                else:
                    change["tags"] = rng.choice([["vip"], []])
                mine.append(
                    Event(f"{ticket}-{i}", ticket, at, "ticket.updated", "agent", fields=change)
                )
            else:
                mine.append(Event(f"{ticket}-{i}", ticket, at, "ticket.deleted", "agent"))
        if rng.random() < 0.2:
            mine.append(mine[rng.randrange(len(mine))])  # a duplicate delivery
        rng.shuffle(mine)
        events.extend(mine)
    rng.shuffle(events)
    return events


def rows(table: ClockTable) -> list[tuple[Any, ...]]:
    attribution: dict[int, list[tuple[Any, ...]]] = {}
    groups, assignees = table.held_group.values(), table.held_assignee.values()
    for i, row in enumerate(table.held_row.tolist()):
        attribution.setdefault(row, []).append((groups[i], assignees[i], table.held_s[i]))
    result = []
    for i, row in enumerate(table.rows()):
        held = tuple(sorted(attribution.get(i, []), key=repr))
        result.append((*sorted(row.items()), held))
    return sorted(result, key=repr)


def per_ticket(events: list[Event], config: SlaConfig, now: datetime) -> ClockTable:
    by_ticket: dict[str, list[Event]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket, []).append(event)
    clocks = [c for evs in by_ticket.values() for c in evaluate_ticket(evs, config, now)]
    return ClockTable.from_clocks(clocks)


@pytest.mark.parametrize("on_change", ["retarget", "restart", "stricter"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_batch_path_gives_the_clocks_of_the_per_ticket_path(seed, on_change):
    config = make_config(on_change)
    events = random_history(seed, tickets=150)
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    expected = per_ticket(events, config, now)
    got = evaluate_batch(EventColumns.from_events(events), config, now)
    assert len(expected) > 300
    assert rows(got) == rows(expected)


def test_the_batch_path_agrees_when_every_clock_is_still_running():
    config = make_config()
    events = random_history(7, tickets=100)
    now = datetime(2026, 3, 25, tzinfo=UTC)  # mid-history: many events lie in the future
    assert rows(evaluate_batch(EventColumns.from_events(events), config, now)) == rows(
        per_ticket(events, config, now)
    )


def test_an_empty_history_has_no_clocks():
    table = evaluate_batch(EventColumns.from_events([]), make_config(), datetime.now(UTC))
    assert len(table) == 0


def test_a_history_evaluated_in_chunks_of_tickets_gives_the_same_clocks():
    config = make_config()
    events = random_history(11, tickets=120)
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    columns = EventColumns.from_events(events)
    whole = evaluate_batch(columns, config, now, tickets_per_chunk=10_000)
    chunked = evaluate_batch(columns, config, now, tickets_per_chunk=7)
    assert rows(chunked) == rows(whole) == rows(per_ticket(events, config, now))


def test_without_attribution_the_clocks_are_the_same_and_no_holders_are_listed():
    config = make_config()
    events = random_history(12, tickets=60)
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    columns = EventColumns.from_events(events)
    full = evaluate_batch(columns, config, now)
    bare = evaluate_batch(columns, config, now, attribution=False)
    assert len(full.held_row) > 0
    assert len(bare.held_row) == 0
    assert sorted(map(repr, (sorted(r.items()) for r in bare.rows()))) == sorted(
        map(repr, (sorted(r.items()) for r in full.rows()))
    )


def test_a_history_listed_in_time_order_gives_the_same_clocks():
    # Most tickets' events then need no sort beyond the one by ticket; shuffled histories
    # above take the other branch, where every ticket is sorted by time.
    config = make_config()
    events = sorted(random_history(13, tickets=150), key=lambda e: e.at)
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    got = evaluate_batch(EventColumns.from_events(events), config, now)
    assert rows(got) == rows(per_ticket(events, config, now))


@pytest.mark.parametrize("tickets", [50, 70_000])
@pytest.mark.parametrize("ordered", [0.0, 0.9, 1.0])
def test_events_are_replayed_in_the_order_of_a_stable_lexsort(tickets, ordered):
    rng = np.random.default_rng(tickets)
    n = 20_000
    ticket = rng.integers(0, tickets, n).astype(np.int32)
    at = np.sort(rng.integers(0, 40, n)) * 60_000_000 + 1_700_000_000_000_000
    kind = rng.integers(0, 5, n).astype(np.int8)
    shuffled = rng.random(n) >= ordered  # these rows trade places; the rest stay in time order
    moved = np.flatnonzero(shuffled)
    for column in (ticket, at, kind):
        column[moved] = column[rng.permutation(moved)]
    events = EventColumns(
        event_id=np.arange(n),
        id_text=[str(i) for i in range(n)],
        ticket=Categorical(ticket, tuple(str(i) for i in range(tickets))),
        at_us=at.astype(np.int64),
        type=kind,
        actor=np.full(n, -1, np.int8),
        public=np.full(n, -1, np.int8),
    )
    rows_in = np.flatnonzero(rng.random(n) < 0.9)
    expected = rows_in[np.lexsort((kind[rows_in], at[rows_in], ticket[rows_in]))]
    assert np.array_equal(_replay_order(rows_in, events), expected)
