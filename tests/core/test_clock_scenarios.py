"""Clock scenarios: small ticket stories whose clocks are worked out by hand from docs/clocks.md.

Each test tells one story with a handful of events written as local wall-clock times, evaluates
it with ``evaluate_ticket`` and checks the clocks against arithmetic done in the comments.

The main week is 2026-03-02 (Monday) to 2026-03-06 (Friday) in Europe/Stockholm, which is on
CET (UTC+1) until 2026-03-29. ``mon(8, 15)`` is Monday 2 March 08:15 Stockholm time. The
``office`` calendar is open Mon-Fri 09:00-17:00 Stockholm time, so one office day holds 8 hours;
``lunch`` is Mon-Fri 08:00-12:00 and 13:00-17:00. ``24x7`` is the built-in always-open calendar.

Expected instants are local aware datetimes; the engine answers in UTC and aware datetimes
compare by the instant they name, so they are compared directly.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from duly.core.agreements import (
    Agreement,
    CustomMetric,
    Policy,
    SlaConfig,
    Target,
    Warning,
)
from duly.core.calendar import Calendar, Hours
from duly.core.clocks import Clock, evaluate_ticket
from duly.core.conditions import Condition, parse_condition
from duly.core.events import Event

H = 3600
M = 60
DAY = 86_400

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")

# ------------------------------------------------------------------------------- wall clocks


@dataclass(frozen=True)
class _Day:
    """A local date in Stockholm: ``mon(8, 15)`` is that day at 08:15."""

    month: int
    day: int

    def __call__(self, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, self.month, self.day, hour, minute, tzinfo=STOCKHOLM)


mon, tue, wed, thu, fri = (_Day(3, d) for d in range(2, 7))


def stockholm(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


def new_york(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


# --------------------------------------------------------------------------------- calendars

Week = tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]
NINE_TO_FIVE: Hours = ((9 * 60, 17 * 60),)
WITH_LUNCH: Hours = ((8 * 60, 12 * 60), (13 * 60, 17 * 60))


def weekdays(hours: Hours) -> Week:
    """The same hours Monday to Friday, closed at the weekend."""
    return (hours, hours, hours, hours, hours, (), ())


CALENDARS = {
    "office": Calendar("Europe/Stockholm", weekdays(NINE_TO_FIVE), name="office"),
    "lunch": Calendar("Europe/Stockholm", weekdays(WITH_LUNCH), name="lunch"),
    # Good Friday and Easter Monday 2026 are closed.
    "easter_office": Calendar(
        "Europe/Stockholm",
        weekdays(NINE_TO_FIVE),
        holidays=frozenset({date(2026, 4, 3), date(2026, 4, 6)}),
        name="easter_office",
    ),
    "stockholm_24x7": Calendar.always_open("Europe/Stockholm", name="stockholm_24x7"),
    "ny_office": Calendar("America/New_York", weekdays(NINE_TO_FIVE), name="ny_office"),
}
PRIORITIES = ("low", "normal", "high", "urgent")

# -------------------------------------------------------------------------------- the stories


class Story:
    """A ticket's events, written in the order they happened: ``Story().created(mon(9))``."""

    def __init__(self, ticket: str = "T-1") -> None:
        self.ticket = ticket
        self.events: list[Event] = []

    def _add(
        self,
        at: datetime,
        type: str,
        actor: str | None,
        public: bool | None = None,
        **fields: Any,
    ) -> Story:
        n = len(self.events) + 1
        self.events.append(
            Event(f"{self.ticket}-{n:02d}", self.ticket, at, type, actor, public, fields)
        )
        return self

    def created(self, at: datetime, by: str = "customer", **fields: Any) -> Story:
        return self._add(at, "ticket.created", by, **fields)

    def set(self, at: datetime, by: str = "agent", **fields: Any) -> Story:
        """A field change (``status``, ``priority``, ``group``, ``tags``...)."""
        return self._add(at, "ticket.updated", by, **fields)

    def reply(self, at: datetime, **fields: Any) -> Story:
        """A public agent comment."""
        return self._add(at, "comment.added", "agent", True, **fields)

    def note(self, at: datetime) -> Story:
        """An internal agent note: not public, so it answers nobody."""
        return self._add(at, "comment.added", "agent", False)

    def asks(self, at: datetime) -> Story:
        """A public customer comment."""
        return self._add(at, "comment.added", "customer", True)

    def deleted(self, at: datetime) -> Story:
        return self._add(at, "ticket.deleted", "agent")


def when(raw: Any) -> Condition:
    return parse_condition(raw)


def target(metric: str, seconds: float, calendar: str = "office", **kw: Any) -> Target:
    """A target of ``seconds`` for every priority."""
    return Target(metric, {"*": seconds}, calendar=calendar, **kw)


def config(*targets: Target, **kw: Any) -> SlaConfig:
    """One agreement ``support`` with one policy ``standard`` holding ``targets``."""
    agreement = Agreement("support", policies=(Policy("standard", targets=targets),))
    return configs(agreement, **kw)


def configs(*agreements: Agreement, **kw: Any) -> SlaConfig:
    return SlaConfig(
        calendars=CALENDARS, agreements=agreements, priorities=PRIORITIES, version="v1", **kw
    )


def evaluate(story: Story | Iterable[Event], cfg: SlaConfig, now: datetime) -> list[Clock]:
    events = story.events if isinstance(story, Story) else list(story)
    return evaluate_ticket(events, cfg, now)


def of(clocks: list[Clock], metric: str, agreement: str | None = None) -> list[Clock]:
    return [
        c for c in clocks if c.metric == metric and (agreement is None or c.agreement == agreement)
    ]


def only(clocks: list[Clock], metric: str, agreement: str | None = None) -> Clock:
    found = of(clocks, metric, agreement)
    assert len(found) == 1, found
    return found[0]


def check(clock: Clock, **expected: Any) -> None:
    """Compare the named fields of ``clock`` all at once, so a failure shows every difference."""
    actual = {name: getattr(clock, name) for name in expected}
    assert actual == expected


def pauses(clock: Clock) -> list[tuple[datetime, datetime | None, str, float]]:
    return [(p.start, p.end, p.cause, p.business_s) for p in clock.pauses]


# ------------------------------------------------------------------------------- first reply


def test_first_reply_starts_at_creation_but_counts_only_from_the_office_opening():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(8, 15)).reply(mon(11, 30))
    clock = only(evaluate(story, cfg, mon(12)), "first_reply")
    # created Mon 08:15, office opens 09:00; 4 business hours -> due 13:00.
    # Replied 11:30: 09:00-11:30 = 2.5 h used, 1.5 h left; real time 08:15-11:30 = 3 h 15 min.
    check(
        clock,
        ticket="T-1",
        agreement="support",
        policy="standard",
        cycle=1,
        calendar="office",
        target_s=4 * H,
        start=mon(8, 15),
        due=mon(13),
        stop=mon(11, 30),
        state="met",
        breached_at=None,
        business_elapsed_s=2.5 * H,
        calendar_elapsed_s=3 * H + 15 * M,
        paused_s=0.0,
        remaining_s=1.5 * H,
        pauses=(),
        config_version="v1",
    )


def test_an_unanswered_ticket_breaches_at_its_due_and_keeps_running_past_it():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(14))
    clock = only(evaluate(story, cfg, tue(11, 30)), "first_reply")
    # Mon 14:00-17:00 = 3 h, Tue 09:00 + 1 h -> due Tue 10:00.
    # At Tue 11:30: 3 h + 2.5 h = 5.5 h run, 1.5 h past the target.
    check(
        clock,
        state="breached",
        due=tue(10),
        breached_at=tue(10),
        stop=None,
        business_elapsed_s=5.5 * H,
        remaining_s=-1.5 * H,
    )


def test_before_its_due_an_unanswered_ticket_is_active_with_time_left():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(14))
    clock = only(evaluate(story, cfg, tue(9, 30)), "first_reply")
    # Mon 14:00-17:00 = 3 h, Tue 09:00-09:30 = 0.5 h -> 3.5 h used, 0.5 h left, due Tue 10:00.
    check(
        clock,
        state="active",
        due=tue(10),
        breached_at=None,
        stop=None,
        business_elapsed_s=3.5 * H,
        remaining_s=0.5 * H,
        # Real time Mon 14:00 -> Tue 09:30 = 19.5 h.
        calendar_elapsed_s=19.5 * H,
    )


def test_a_target_used_up_exactly_at_closing_time_is_due_at_the_next_opening():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(13))
    # Mon 13:00-17:00 = exactly 4 h. No business time passes overnight, so the clock passes its
    # target only when the office opens again: due Tue 09:00, and in the evening it is not late.
    evening = only(evaluate(story, cfg, mon(18)), "first_reply")
    check(evening, state="active", due=tue(9), breached_at=None, remaining_s=0.0)
    # One minute after the opening it has run 4 h 1 min: breached at Tue 09:00.
    morning = only(evaluate(story, cfg, tue(9, 1)), "first_reply")
    check(morning, state="breached", due=tue(9), breached_at=tue(9), remaining_s=-60.0)


def test_a_lunch_break_does_not_count_and_a_due_at_lunch_is_the_afternoon_opening():
    cfg = config(target("first_reply", 1 * H, calendar="lunch"))
    # Created 11:00; 11:00-12:00 = 1 h reaches the target as lunch starts: due 13:00.
    # A reply at 12:30 has used exactly the target: met.
    early = only(evaluate(Story().created(mon(11)).reply(mon(12, 30)), cfg, mon(15)), "first_reply")
    check(early, due=mon(13), state="met", business_elapsed_s=1 * H, remaining_s=0.0)
    # Created 11:30: 11:30-12:00 = 0.5 h, lunch, 13:00 + 0.5 h -> due 13:30.
    # Replied 13:45: 0.5 h + 0.75 h = 1.25 h run, 15 min late.
    late = only(
        evaluate(Story().created(mon(11, 30)).reply(mon(13, 45)), cfg, mon(15)), "first_reply"
    )
    check(
        late,
        due=mon(13, 30),
        state="breached",
        breached_at=mon(13, 30),
        business_elapsed_s=1.25 * H,
        remaining_s=-15 * M,
        paused_s=0.0,
    )


def test_an_internal_note_does_not_answer_the_customer():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(9)).note(mon(9, 30)).reply(mon(10))
    clock = only(evaluate(story, cfg, mon(12)), "first_reply")
    # The 09:30 note is not public; the public reply at 10:00 stops the clock after 1 h.
    check(clock, stop=mon(10), state="met", business_elapsed_s=1 * H)


def test_an_outbound_ticket_opened_by_an_agent_with_a_public_comment_has_no_first_reply():
    cfg = config(target("first_reply", 4 * H), target("next_reply", 2 * H))
    story = Story().created(mon(10), by="agent").reply(mon(10)).asks(mon(11))
    clocks = evaluate(story, cfg, mon(12))
    # The agent spoke first: nobody waits for a first reply.
    assert of(clocks, "first_reply") == []
    # The customer's answer at 11:00 awaits the agent: next_reply 11:00 + 2 h -> due 13:00.
    check(
        only(clocks, "next_reply"),
        cycle=1,
        start=mon(11),
        due=mon(13),
        state="active",
        business_elapsed_s=1 * H,
    )


def test_a_ticket_an_agent_opens_without_a_public_comment_waits_for_a_first_reply():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(10), by="agent").note(mon(10)).reply(mon(12))
    clock = only(evaluate(story, cfg, mon(15)), "first_reply")
    # Opened with an internal note only: first_reply runs 10:00-12:00 = 2 h.
    check(clock, start=mon(10), stop=mon(12), state="met", business_elapsed_s=2 * H)


def test_solving_a_ticket_without_any_reply_stops_first_reply():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(9)).set(mon(10), status="solved")
    clock = only(evaluate(story, cfg, mon(15)), "first_reply")
    # Solved at 10:00 without a word: nobody waits any more; 1 h used, met.
    check(clock, stop=mon(10), state="met", business_elapsed_s=1 * H, remaining_s=3 * H)


# -------------------------------------------------------------------------------- next reply


def test_customer_follow_ups_before_the_first_reply_start_no_next_reply():
    cfg = config(target("first_reply", 4 * H), target("next_reply", 2 * H))
    story = Story().created(mon(9)).asks(mon(9, 20)).asks(mon(9, 40)).reply(mon(10))
    clocks = evaluate(story, cfg, mon(11))
    # The follow-ups add to the opening message, which is first_reply's to answer.
    assert of(clocks, "next_reply") == []
    check(only(clocks, "first_reply"), stop=mon(10), business_elapsed_s=1 * H, state="met")


def test_next_reply_runs_one_cycle_per_unanswered_customer_message():
    cfg = config(target("next_reply", 2 * H))
    story = (
        Story()
        .created(mon(9))
        .reply(mon(9, 30))
        .asks(mon(10))  # cycle 1 starts
        .asks(mon(10, 30))  # still waiting: no new cycle
        .reply(mon(11))  # cycle 1 stops
        .asks(mon(14))  # cycle 2 starts
        .reply(tue(10))  # cycle 2 stops
    )
    first, second = of(evaluate(story, cfg, tue(12)), "next_reply")
    # Cycle 1: 10:00 + 2 h -> due 12:00; answered 11:00 after 1 h.
    check(
        first,
        cycle=1,
        start=mon(10),
        due=mon(12),
        stop=mon(11),
        state="met",
        business_elapsed_s=1 * H,
        remaining_s=1 * H,
    )
    # Cycle 2: Mon 14:00 + 2 h -> due 16:00; answered Tue 10:00 after Mon 14-17 (3 h) + Tue
    # 09-10 (1 h) = 4 h, 2 h late. Real time Mon 14:00 -> Tue 10:00 = 20 h.
    check(
        second,
        cycle=2,
        start=mon(14),
        due=mon(16),
        stop=tue(10),
        state="breached",
        breached_at=mon(16),
        business_elapsed_s=4 * H,
        remaining_s=-2 * H,
        calendar_elapsed_s=20 * H,
    )


def test_solving_the_ticket_answers_a_waiting_customer_and_a_reopening_message_starts_a_cycle():
    cfg = config(target("next_reply", 2 * H))
    story = (
        Story()
        .created(mon(9))
        .reply(mon(9, 30))
        .asks(mon(10))  # cycle 1
        .set(mon(11), status="solved")  # a solved ticket waits for nobody
        .set(tue(9), by="customer", status="open")
        .asks(tue(9))  # cycle 2
    )
    first, second = of(evaluate(story, cfg, tue(10)), "next_reply")
    check(first, cycle=1, start=mon(10), stop=mon(11), state="met", business_elapsed_s=1 * H)
    # Cycle 2 from Tue 09:00: 1 h used at 10:00, due 11:00.
    check(second, cycle=2, start=tue(9), stop=None, state="active", due=tue(11))


# ---------------------------------------------------------------------- periodic updates


def test_periodic_update_starts_at_each_public_agent_comment_and_ends_when_solved():
    cfg = config(target("periodic_update", 24 * H, calendar="24x7"))
    story = (
        Story()
        .created(mon(9))
        .reply(mon(10))  # cycle 1 starts
        .reply(tue(9))  # cycle 1 stops, cycle 2 starts
        .note(wed(9))  # internal: changes nothing
        .set(thu(12), status="solved")  # cycle 2 stops, none follows
    )
    first, second = of(evaluate(story, cfg, fri(9)), "periodic_update")
    # Cycle 1: Mon 10:00 -> Tue 09:00 = 23 h of a 24 h target, due Tue 10:00.
    check(first, cycle=1, start=mon(10), stop=tue(9), due=tue(10), state="met", remaining_s=1 * H)
    # Cycle 2: Tue 09:00 + 24 h -> due Wed 09:00; solved Thu 12:00 after 51 h, 27 h late.
    check(
        second,
        cycle=2,
        start=tue(9),
        stop=thu(12),
        due=wed(9),
        state="breached",
        breached_at=wed(9),
        business_elapsed_s=51 * H,
        remaining_s=-27 * H,
    )


def test_a_reply_sent_with_the_solve_starts_no_new_periodic_update():
    cfg = config(target("periodic_update", 24 * H, calendar="24x7"))
    # The reply is recorded before the solve, but at the same instant a status change applies
    # first: the reply lands on a solved ticket and starts nothing.
    story = Story().created(mon(9)).reply(mon(10)).reply(mon(15)).set(mon(15), status="solved")
    (clock,) = of(evaluate(story, cfg, tue(9)), "periodic_update")
    # Cycle 1: Mon 10:00 -> 15:00 = 5 h of 24 h.
    check(clock, cycle=1, start=mon(10), stop=mon(15), state="met", business_elapsed_s=5 * H)


def test_periodic_update_keeps_running_while_the_ticket_is_pending():
    cfg = config(target("periodic_update", 24 * H, calendar="24x7"))
    story = Story().created(mon(9)).set(mon(10), status="pending").reply(mon(10))
    clock = only(evaluate(story, cfg, tue(12)), "periodic_update")
    # Never paused: Mon 10:00 + 24 h -> due Tue 10:00; at Tue 12:00 26 h have run.
    check(
        clock,
        state="breached",
        due=tue(10),
        breached_at=tue(10),
        business_elapsed_s=26 * H,
        remaining_s=-2 * H,
        paused_s=0.0,
        pauses=(),
    )


def test_pausable_update_stands_still_while_pending_or_on_hold_and_its_due_moves_with_now():
    cfg = config(target("pausable_update", 8 * H))
    story = (
        Story()
        .created(mon(9))
        .set(mon(10), status="pending")
        .reply(mon(10))  # cycle 1 starts, paused at once
        .set(tue(11), by="customer", status="open")
        .asks(tue(11))
        .set(tue(15), status="on_hold")
    )
    clock = only(evaluate(story, cfg, wed(10)), "pausable_update")
    # Runs only Tue 11:00-15:00 = 4 h; 4 h left.
    # Pending Mon 10-17 (7 h) + Tue 09-11 (2 h) = 9 h; on hold Tue 15-17 (2 h) + Wed 09-10 (1 h)
    # = 3 h so far. Paused now, so due = now + 4 h = Wed 14:00.
    check(
        clock,
        cycle=1,
        state="paused",
        start=mon(10),
        due=wed(14),
        business_elapsed_s=4 * H,
        paused_s=12 * H,
        remaining_s=4 * H,
        breached_at=None,
    )
    assert pauses(clock) == [
        (mon(10), tue(11), "pending", 9 * H),
        (tue(15), None, "on_hold", 3 * H),
    ]
    # Two hours later it still stands still: due moves to Wed 16:00, paused 14 h.
    later = only(evaluate(story, cfg, wed(12)), "pausable_update")
    check(later, state="paused", due=wed(16), paused_s=14 * H, remaining_s=4 * H)


def test_pausable_update_cycles_end_at_the_next_agent_update():
    cfg = config(target("pausable_update", 2 * H))
    story = (
        Story()
        .created(mon(9))
        .reply(mon(10))  # cycle 1
        .set(mon(11), status="pending")
        .set(tue(9), by="customer", status="open")
        .reply(tue(10))  # cycle 1 stops, cycle 2 starts
    )
    first, second = of(evaluate(story, cfg, tue(13)), "pausable_update")
    # Cycle 1 runs Mon 10-11 (1 h) and Tue 09-10 (1 h): exactly its 2 h. Due = start + target +
    # paused business time = Mon 10:00 + 2 h + 6 h (Mon 11-17) = Tue 10:00: stopped at its due,
    # so met.
    check(
        first,
        start=mon(10),
        stop=tue(10),
        due=tue(10),
        state="met",
        business_elapsed_s=2 * H,
        paused_s=6 * H,
        remaining_s=0.0,
    )
    assert pauses(first) == [(mon(11), tue(9), "pending", 6 * H)]
    # Cycle 2: Tue 10:00 + 2 h -> due 12:00; at 13:00 one hour late.
    check(second, cycle=2, start=tue(10), due=tue(12), state="breached", remaining_s=-1 * H)


# ----------------------------------------------------------- requester wait, agent work, resolution

WAITING_STATUSES = {
    "Open": "open",
    "Awaiting customer": "pending",
    "Awaiting vendor": "on_hold",
    "Done": "solved",
}


def waiting_story() -> Story:
    """Pending Mon 11-15, on hold Tue 09-13, solved Tue 15:00 (source status names)."""
    return (
        Story()
        .created(mon(9))
        .set(mon(11), status="Awaiting customer")
        .set(mon(15), by="customer", status="Open")
        .set(tue(9), status="Awaiting vendor")
        .set(tue(13), status="Open")
        .set(tue(15), status="Done")
    )


def test_requester_wait_stands_still_while_pending_but_not_while_on_hold():
    cfg = config(target("requester_wait", 16 * H), statuses=WAITING_STATUSES)
    clock = only(evaluate(waiting_story(), cfg, wed(9)), "requester_wait")
    # Runs Mon 09-11 (2 h) + Mon 15-17 (2 h) + Tue 09-15 (6 h, on hold included) = 10 h.
    # Paused Mon 11-15 = 4 h ("Awaiting customer" is duly's pending).
    # Due = Mon 09:00 + 16 h + 4 h paused = 20 h: Mon 8 h, Tue 8 h, Wed 4 h -> Wed 13:00.
    check(
        clock,
        start=mon(9),
        stop=tue(15),
        state="met",
        due=wed(13),
        business_elapsed_s=10 * H,
        paused_s=4 * H,
        remaining_s=6 * H,
    )
    assert pauses(clock) == [(mon(11), mon(15), "pending", 4 * H)]


def test_a_pending_ticket_does_not_use_agent_work_time():
    cfg = config(target("agent_work", 16 * H), statuses=WAITING_STATUSES)
    clock = only(evaluate(waiting_story(), cfg, wed(9)), "agent_work")
    # Runs Mon 09-11, Mon 15-17, Tue 13-15 = 6 h; paused pending 4 h and on hold 4 h.
    # Due = Mon 09:00 + 16 h + 8 h = 24 h = Mon, Tue, Wed whole -> Wed 17:00 -> Thu 09:00.
    check(
        clock,
        stop=tue(15),
        state="met",
        due=thu(9),
        business_elapsed_s=6 * H,
        paused_s=8 * H,
        remaining_s=10 * H,
    )
    assert pauses(clock) == [
        (mon(11), mon(15), "pending", 4 * H),
        (tue(9), tue(13), "on_hold", 4 * H),
    ]


def test_resolution_runs_through_pending_and_on_hold_by_default():
    cfg = config(target("resolution", 16 * H), statuses=WAITING_STATUSES)
    clock = only(evaluate(waiting_story(), cfg, wed(9)), "resolution")
    # Never paused: Mon 09-17 (8 h) + Tue 09-15 (6 h) = 14 h; due Mon 09:00 + 16 h -> Tue 17:00
    # -> Wed 09:00.
    check(
        clock,
        stop=tue(15),
        state="met",
        due=wed(9),
        business_elapsed_s=14 * H,
        paused_s=0.0,
        remaining_s=2 * H,
        pauses=(),
    )


def test_resolution_with_pause_on_pending_stands_still_only_while_pending():
    cfg = config(
        target("resolution", 16 * H, pause_on=frozenset({"pending"})), statuses=WAITING_STATUSES
    )
    clock = only(evaluate(waiting_story(), cfg, wed(9)), "resolution")
    # As requester wait: 10 h run, pending Mon 11-15 = 4 h paused; on hold does not pause.
    check(clock, state="met", due=wed(13), business_elapsed_s=10 * H, paused_s=4 * H)
    assert pauses(clock) == [(mon(11), mon(15), "pending", 4 * H)]


def test_a_solved_ticket_rests_its_cumulative_clocks_and_a_reopen_resumes_them():
    cfg = config(target("resolution", 8 * H), target("agent_work", 8 * H))
    story = (
        Story()
        .created(mon(9))
        .set(mon(12), status="solved")
        .set(tue(10), by="customer", status="open")
        .asks(tue(10))
        .set(tue(11), status="solved")
    )
    # Monday afternoon: solved at 12:00 after 3 h, met.
    monday = evaluate(story, cfg, mon(15))
    for clock in (only(monday, "resolution"), only(monday, "agent_work")):
        check(clock, stop=mon(12), state="met", business_elapsed_s=3 * H, pauses=())
    # Reopened Tue 10:00: the same clock resumes. Solved Mon 12-17 (5 h) + Tue 09-10 (1 h) = 6 h
    # rested; at 10:30 it has run 3.5 h, 4.5 h left -> due Tue 15:00.
    reopened = evaluate(story, cfg, tue(10, 30))
    for clock in (only(reopened, "resolution"), only(reopened, "agent_work")):
        check(
            clock,
            cycle=1,
            start=mon(9),
            stop=None,
            state="active",
            business_elapsed_s=3.5 * H,
            paused_s=6 * H,
            due=tue(15),
        )
        assert pauses(clock) == [(mon(12), tue(10), "solved", 6 * H)]
    # Solved again Tue 11:00: 4 h run in all; due Mon 09:00 + 8 h + 6 h rested = Tue 15:00.
    done = evaluate(story, cfg, wed(9))
    for clock in (only(done, "resolution"), only(done, "agent_work")):
        check(clock, stop=tue(11), state="met", business_elapsed_s=4 * H, due=tue(15))


def test_resolution_is_final_once_the_ticket_is_closed():
    cfg = config(target("resolution", 8 * H))
    story = (
        Story()
        .created(mon(9))
        .set(mon(12), status="solved")
        .set(tue(9), status="closed")
        .set(wed(10), by="customer", status="open")  # a source that reopens a closed ticket
    )
    closed = only(evaluate(story, cfg, tue(12)), "resolution")
    # Solved Mon 12:00 after 3 h; closing keeps the stop at the solve.
    check(closed, stop=mon(12), state="met", business_elapsed_s=3 * H)
    # "final at closed": the clock does not resume when a closed ticket changes again.
    after = only(evaluate(story, cfg, wed(12)), "resolution")
    check(after, stop=mon(12), state="met", business_elapsed_s=3 * H)


# ------------------------------------------------------------------------------ pause rules


def test_max_pause_caps_a_pending_pause_in_real_time():
    cfg = config(target("agent_work", 16 * H, max_pause=1 * DAY))
    story = (
        Story()
        .created(mon(9))
        .set(mon(10), status="pending")
        .note(mon(16))  # a note while pending is the same pause
        .set(wed(11), by="customer", status="open")
        .set(wed(12), status="solved")
    )
    clock = only(evaluate(story, cfg, wed(13)), "agent_work")
    # Pending from Mon 10:00; one real day later (Tue 10:00) the clock runs again.
    # Paused Mon 10-17 (7 h) + Tue 09-10 (1 h) = 8 h.
    # Runs Mon 09-10 (1 h) + Tue 10-17 (7 h) + Wed 09-12 (3 h) = 11 h.
    check(
        clock,
        stop=wed(12),
        state="met",
        business_elapsed_s=11 * H,
        paused_s=8 * H,
        remaining_s=5 * H,
    )
    assert pauses(clock) == [(mon(10), tue(10), "pending", 8 * H)]


def test_max_pause_does_not_cap_the_rest_of_a_solved_ticket():
    cfg = config(target("resolution", 16 * H, max_pause=1 * DAY))
    story = Story().created(mon(9)).set(mon(12), status="solved").set(thu(10), status="open")
    clock = only(evaluate(story, cfg, thu(11)), "resolution")
    # Solved Mon 12:00 -> Thu 10:00 rests uncapped: Mon 5 h + Tue 8 h + Wed 8 h + Thu 1 h = 22 h.
    # Runs Mon 09-12 (3 h) + Thu 10-11 (1 h) = 4 h; 12 h left from Thu 11:00: Thu 6 h, Fri 6 h
    # -> due Fri 15:00.
    check(
        clock,
        state="active",
        business_elapsed_s=4 * H,
        paused_s=22 * H,
        remaining_s=12 * H,
        due=fri(15),
    )
    assert pauses(clock) == [(mon(12), thu(10), "solved", 22 * H)]


def test_after_max_pause_runs_out_a_new_status_starts_a_new_capped_pause():
    cfg = config(target("agent_work", 40 * H, max_pause=1 * DAY))
    story = (
        Story()
        .created(mon(9))
        .set(mon(10), status="pending")
        .set(wed(10), status="on_hold")  # the status changes: a new pause with its own cap
    )
    clock = only(evaluate(story, cfg, wed(15)), "agent_work")
    # docs/clocks.md: after max_pause "the clock runs again ... until the status changes".
    # Pending Mon 10:00 capped at Tue 10:00 (8 h paused); runs Tue 10:00 -> Wed 10:00 (7 h + 1 h);
    # on hold from Wed 10:00 pauses again (cap until Thu 10:00): Wed 10-15 = 5 h paused.
    # Run: Mon 09-10 (1 h) + 8 h = 9 h; paused 8 h + 5 h = 13 h.
    check(clock, state="paused", business_elapsed_s=9 * H, paused_s=13 * H)
    assert pauses(clock) == [
        (mon(10), tue(10), "pending", 8 * H),
        (wed(10), None, "on_hold", 5 * H),
    ]


def test_a_clock_that_breached_before_a_pause_stays_breached_while_paused():
    cfg = config(target("agent_work", 2 * H))
    story = Story().created(mon(9)).set(mon(12), status="pending")
    clock = only(evaluate(story, cfg, mon(15)), "agent_work")
    # 09:00 + 2 h -> due 11:00; ran 3 h until pending at 12:00, then stands still.
    check(
        clock,
        state="breached",
        due=mon(11),
        breached_at=mon(11),
        business_elapsed_s=3 * H,
        remaining_s=-1 * H,
        paused_s=3 * H,
    )
    assert pauses(clock) == [(mon(12), None, "pending", 3 * H)]


def test_a_clock_is_paused_at_the_very_instant_its_ticket_goes_pending():
    cfg = config(target("agent_work", 8 * H))
    story = Story().created(mon(9)).set(mon(12), status="pending")
    clock = only(evaluate(story, cfg, mon(12)), "agent_work")
    # Evaluated when the pending event arrives: running time stands still from now on.
    # 3 h used, 5 h left; due = now + 5 h = 17:00 -> Tue 09:00.
    check(clock, state="paused", business_elapsed_s=3 * H, remaining_s=5 * H, due=tue(9))


# -------------------------------------------------------------- order, duplicates, now, delete


def test_shuffled_and_duplicated_events_give_the_same_clocks_as_ordered_ones():
    cfg = config(
        target("first_reply", 4 * H),
        target("next_reply", 2 * H),
        target("periodic_update", 8 * H),
        target("pausable_update", 8 * H),
        target("requester_wait", 16 * H),
        target("agent_work", 16 * H),
        target("resolution", 24 * H),
        statuses=WAITING_STATUSES,
    )
    story = (
        Story()
        .created(mon(9), priority="normal", group="first-line")
        .reply(mon(10))
        .asks(mon(11))
        .set(mon(11), status="Awaiting customer")
        .set(mon(15), by="customer", status="Open")
        .asks(mon(15))
        .set(tue(9), group="second-line", assignee="ann")
        .reply(tue(9))
        .set(tue(12), status="Awaiting vendor")
        .set(wed(10), status="Open")
        .reply(wed(11), status="Done")
    )
    now = thu(9)
    ordered = evaluate(story, cfg, now)
    # The follow-up at 15:00 joins the waiting 11:00 question: one next_reply cycle. The replies
    # at Mon 10:00 and Tue 09:00 start update cycles, and the solving reply on Wed ends the second.
    assert sorted((c.metric, c.cycle) for c in ordered) == [
        ("agent_work", 1),
        ("first_reply", 1),
        ("next_reply", 1),
        ("pausable_update", 1),
        ("pausable_update", 2),
        ("periodic_update", 1),
        ("periodic_update", 2),
        ("requester_wait", 1),
        ("resolution", 1),
    ]
    shuffled = list(story.events)
    random.Random(7).shuffle(shuffled)
    duplicated = shuffled + shuffled[:4] + list(reversed(story.events[5:]))
    assert evaluate(shuffled, cfg, now) == ordered
    assert evaluate(duplicated, cfg, now) == ordered
    assert evaluate(reversed(story.events), cfg, now) == ordered


def test_events_later_than_now_have_not_happened_yet():
    cfg = config(target("first_reply", 4 * H))
    story = Story().created(mon(9)).reply(mon(11))
    # At 10:30 the 11:00 reply is in the future: still waiting after 1.5 h.
    before = only(evaluate(story, cfg, mon(10, 30)), "first_reply")
    check(before, state="active", stop=None, business_elapsed_s=1.5 * H, remaining_s=2.5 * H)
    # At 11:00 exactly the reply has happened.
    at_reply = only(evaluate(story, cfg, mon(11)), "first_reply")
    check(at_reply, state="met", stop=mon(11), business_elapsed_s=2 * H)


def test_a_deleted_ticket_has_no_clocks():
    cfg = config(target("first_reply", 4 * H), target("resolution", 16 * H))
    story = Story().created(mon(9)).deleted(mon(12))
    assert evaluate(story, cfg, mon(13)) == []
    # Before the deletion the ticket still had its clocks.
    assert {c.metric for c in evaluate(story, cfg, mon(11))} == {"first_reply", "resolution"}


def test_a_naive_now_is_refused():
    cfg = config(target("first_reply", 4 * H))
    with pytest.raises(ValueError, match="naive"):
        evaluate(Story().created(mon(9)), cfg, datetime(2026, 3, 2, 12))


def test_every_instant_a_clock_records_is_utc_even_when_events_are_local():
    cfg = config(target("agent_work", 16 * H))
    story = Story().created(mon(9)).set(mon(11), status="pending").set(mon(15), status="open")
    clock = only(evaluate(story, cfg, tue(9)), "agent_work")
    # docs/clocks.md: "Instants are UTC" -- the pauses' instants included.
    instants = [clock.start, clock.due]
    instants += [t for p in clock.pauses for t in (p.start, p.end) if t is not None]
    assert [t.utcoffset() for t in instants] == [timedelta(0)] * len(instants)
    assert pauses(clock) == [(mon(11), mon(15), "pending", 4 * H)]


# ------------------------------------------------------------------ priority and policy changes

URGENT_OR_NORMAL = {"normal": 8 * H, "urgent": 2 * H}


def test_retarget_measures_a_raised_priority_from_the_original_start():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office"))
    story = Story().created(mon(9), priority="normal").set(mon(10), priority="urgent")
    (clock,) = evaluate(story, cfg, mon(12))
    # Retarget: start stays Mon 09:00, target becomes 2 h -> due 11:00; at 12:00, 3 h run.
    check(
        clock,
        start=mon(9),
        target_s=2 * H,
        due=mon(11),
        state="breached",
        breached_at=mon(11),
        priority="urgent",
        business_elapsed_s=3 * H,
        remaining_s=-1 * H,
    )


def test_retarget_to_a_lower_priority_gives_the_clock_more_time():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office"))
    story = Story().created(mon(9), priority="urgent").set(mon(10), priority="normal")
    (clock,) = evaluate(story, cfg, mon(12))
    # Now 8 h from Mon 09:00: Mon 17:00 -> Tue 09:00. At 12:00 3 h used, 5 h left.
    check(clock, target_s=8 * H, due=tue(9), state="active", remaining_s=5 * H)


def test_restart_cancels_the_unbreached_clock_and_starts_a_new_one_at_the_change():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office", on_change="restart"))
    story = Story().created(mon(9), priority="normal").set(mon(13), priority="urgent")
    old, new = evaluate(story, cfg, mon(14))
    # The normal clock ran 09:00-13:00 (4 h of 8 h, not breached): cancelled at the change.
    check(
        old,
        cycle=1,
        start=mon(9),
        stop=mon(13),
        state="cancelled",
        breached_at=None,
        target_s=8 * H,
        priority="normal",
        business_elapsed_s=4 * H,
    )
    # The urgent clock starts at 13:00 with 2 h -> due 15:00; 1 h left at 14:00.
    check(
        new,
        cycle=1,
        start=mon(13),
        stop=None,
        due=mon(15),
        state="active",
        target_s=2 * H,
        priority="urgent",
        remaining_s=1 * H,
    )


def test_restart_keeps_the_breach_an_old_clock_already_had():
    cfg = config(
        Target(
            "first_reply", {"high": 2 * H, "urgent": 1 * H}, on_change="restart", calendar="office"
        )
    )
    story = Story().created(mon(9), priority="high").set(mon(12), priority="urgent")
    old, new = evaluate(story, cfg, mon(12, 30))
    # The high clock was due 11:00 and had run 3 h when the change came at 12:00: breached.
    check(
        old,
        start=mon(9),
        stop=mon(12),
        due=mon(11),
        state="breached",
        breached_at=mon(11),
        remaining_s=-1 * H,
    )
    # New urgent clock from 12:00 + 1 h -> due 13:00.
    check(new, start=mon(12), due=mon(13), state="active", remaining_s=0.5 * H)


def test_stricter_keeps_the_earlier_due_when_the_priority_is_lowered():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office", on_change="stricter"))
    story = Story().created(mon(9), priority="urgent").set(mon(10), priority="normal")
    # Old due: 09:00 + 2 h = 11:00. New due from the original start: 09:00 + 8 h -> Tue 09:00.
    # Stricter keeps 11:00.
    (soon,) = evaluate(story, cfg, mon(10, 30))
    check(soon, due=mon(11), state="active", target_s=2 * H, remaining_s=0.5 * H)
    (late,) = evaluate(story, cfg, mon(12))
    check(late, due=mon(11), state="breached", breached_at=mon(11), priority="normal")


def test_stricter_takes_the_new_due_when_it_is_earlier():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office", on_change="stricter"))
    story = Story().created(mon(9), priority="normal").set(mon(10), priority="urgent")
    (clock,) = evaluate(story, cfg, mon(10, 30))
    # Old due Tue 09:00; new 09:00 + 2 h = 11:00, earlier.
    check(clock, start=mon(9), due=mon(11), target_s=2 * H, state="active")


VIP = when({"field": "tags", "op": "contains", "value": "vip"})


def test_a_tag_added_mid_clock_moves_the_ticket_to_another_policy():
    agreement = Agreement(
        "support",
        policies=(
            Policy("vip", when=VIP, targets=(target("first_reply", 1 * H),)),
            Policy("standard", targets=(target("first_reply", 4 * H),)),
        ),
    )
    story = Story().created(mon(9)).set(mon(9, 30), tags=["vip"]).reply(mon(10, 15))
    before = only(evaluate(story, configs(agreement), mon(9, 15)), "first_reply")
    check(before, policy="standard", due=mon(13))
    (clock,) = evaluate(story, configs(agreement), mon(12))
    # Retargeted to the vip policy at 09:30: 09:00 + 1 h -> due 10:00; replied 10:15.
    check(
        clock,
        policy="vip",
        due=mon(10),
        stop=mon(10, 15),
        state="breached",
        breached_at=mon(10),
        business_elapsed_s=1.25 * H,
        remaining_s=-15 * M,
    )


def test_a_priority_raised_by_rank_selects_the_high_touch_policy():
    agreement = Agreement(
        "support",
        policies=(
            Policy(
                "high-touch",
                when=when({"field": "priority", "op": "gte", "value": "high"}),
                targets=(target("resolution", 4 * H),),
            ),
            Policy("standard", targets=(target("resolution", 24 * H),)),
        ),
    )
    story = Story().created(mon(9), priority="normal").set(mon(10), priority="urgent")
    (clock,) = evaluate(story, configs(agreement), mon(14))
    # urgent ranks above high: high-touch from 10:00, measured from 09:00 -> due 13:00.
    check(clock, policy="high-touch", due=mon(13), state="breached", remaining_s=-1 * H)


def test_a_priority_with_no_duration_cancels_the_clock():
    cfg = config(Target("first_reply", URGENT_OR_NORMAL, calendar="office"))
    story = Story().created(mon(9), priority="normal").set(mon(11), priority="low")
    (clock,) = evaluate(story, cfg, mon(15))
    # "low" has no duration: cancelled at 11:00 after 2 h; no new clock follows.
    check(
        clock,
        state="cancelled",
        start=mon(9),
        stop=mon(11),
        breached_at=None,
        business_elapsed_s=2 * H,
    )


def test_a_policy_without_the_metric_cancels_its_clock_and_retargets_the_others():
    internal = when({"field": "tags", "op": "contains", "value": "internal"})
    agreement = Agreement(
        "support",
        policies=(
            Policy("internal", when=internal, targets=(target("first_reply", 8 * H),)),
            Policy(
                "standard", targets=(target("first_reply", 4 * H), target("resolution", 16 * H))
            ),
        ),
    )
    story = Story().created(mon(9)).set(mon(10), tags=["internal"])
    clocks = evaluate(story, configs(agreement), mon(12))
    # The internal policy has no resolution target: cancelled at 10:00 under standard.
    check(
        only(clocks, "resolution"),
        policy="standard",
        state="cancelled",
        stop=mon(10),
        business_elapsed_s=1 * H,
    )
    # First reply moves to the internal policy: 09:00 + 8 h -> 17:00 -> Tue 09:00.
    check(only(clocks, "first_reply"), policy="internal", due=tue(9), state="active")


# ----------------------------------------------------------------------- which agreements apply

ACME = when({"field": "organization", "op": "is", "value": "acme"})


def acme_sla(**kw: Any) -> Agreement:
    policy = Policy("standard", targets=(target("resolution", 16 * H),))
    return Agreement("acme-sla", scope=ACME, policies=(policy,), **kw)


def test_an_agreement_whose_scope_does_not_match_gives_no_clocks():
    cfg = configs(acme_sla())
    assert evaluate(Story().created(mon(9), organization="globex"), cfg, mon(12)) == []
    (clock,) = evaluate(Story().created(mon(9), organization="acme"), cfg, mon(12))
    check(clock, agreement="acme-sla", metric="resolution", business_elapsed_s=3 * H)


def test_a_ticket_leaving_the_agreement_scope_cancels_its_clock():
    story = Story().created(mon(9), organization="acme").set(mon(11), organization="globex")
    (clock,) = evaluate(story, configs(acme_sla()), mon(12))
    check(clock, state="cancelled", stop=mon(11), business_elapsed_s=2 * H)


def test_draft_expired_and_not_yet_effective_agreements_do_not_apply():
    monday_ticket = Story().created(mon(9), organization="acme")
    assert evaluate(monday_ticket, configs(acme_sla(status="draft")), mon(12)) == []
    assert evaluate(monday_ticket, configs(acme_sla(effective_to=date(2026, 3, 1))), mon(12)) == []
    from_tuesday = configs(acme_sla(effective_from=date(2026, 3, 3)))
    assert evaluate(monday_ticket, from_tuesday, tue(12)) == []
    # Tue 00:30 in Stockholm is still Mon 23:30 UTC: the creation date counts in UTC.
    assert evaluate(Story().created(tue(0, 30), organization="acme"), from_tuesday, tue(12)) == []
    (clock,) = evaluate(Story().created(tue(9), organization="acme"), from_tuesday, tue(12))
    check(clock, agreement="acme-sla", business_elapsed_s=3 * H)


def test_a_ticket_under_two_agreements_carries_both_sets_of_clocks():
    corporate = Agreement(
        "corporate",
        level="corporate",
        policies=(Policy("all", targets=(target("resolution", 72 * H, calendar="24x7"),)),),
    )
    customer = Agreement(
        "acme",
        policies=(
            Policy("acme", targets=(target("first_reply", 4 * H), target("resolution", 16 * H))),
        ),
    )
    story = Story().created(mon(9)).reply(mon(10))
    clocks = evaluate(story, configs(corporate, customer), tue(9))
    assert sorted((c.agreement, c.metric) for c in clocks) == [
        ("acme", "first_reply"),
        ("acme", "resolution"),
        ("corporate", "resolution"),
    ]
    # Corporate, 24x7: Mon 09:00 + 72 h -> Thu 09:00; 24 h run by Tue 09:00.
    check(
        only(clocks, "resolution", "corporate"),
        calendar="24x7",
        due=thu(9),
        business_elapsed_s=24 * H,
    )
    # Customer, office: Mon 09:00 + 16 h -> Tue 17:00 -> Wed 09:00; 8 h run.
    check(
        only(clocks, "resolution", "acme"),
        calendar="office",
        due=wed(9),
        business_elapsed_s=8 * H,
    )


# -------------------------------------------------------------------------------------- OLAs


def second_line_ola(*targets: Target) -> Agreement:
    return Agreement(
        "ola-second-line",
        kind="ola",
        team="second-line",
        policies=(Policy("second-line", targets=targets),),
    )


def test_an_ola_clock_runs_only_while_its_team_holds_the_ticket_beside_the_customer_sla():
    sla = Agreement(
        "customer-sla", policies=(Policy("standard", targets=(target("resolution", 16 * H),)),)
    )
    # A short max_pause shows that other teams' time is never capped.
    ola = second_line_ola(target("resolution", 4 * H, max_pause=30 * M))
    story = (
        Story()
        .created(mon(9), group="first-line")
        .set(mon(11), group="second-line")
        .set(mon(14), group="first-line")
        .set(mon(16), status="solved")
    )
    clocks = evaluate(story, configs(sla, ola), mon(17))
    # The customer SLA runs 09:00-16:00 = 7 h.
    check(
        only(clocks, "resolution", "customer-sla"),
        agreement_kind="sla",
        state="met",
        business_elapsed_s=7 * H,
        paused_s=0.0,
    )
    # The OLA runs only 11:00-14:00 = 3 h; first line's 09-11 and 14-16 are pauses (4 h).
    # Due = 09:00 + 4 h + 4 h paused = 17:00 -> Tue 09:00.
    ola_clock = only(clocks, "resolution", "ola-second-line")
    check(
        ola_clock,
        agreement_kind="ola",
        state="met",
        stop=mon(16),
        due=tue(9),
        business_elapsed_s=3 * H,
        paused_s=4 * H,
        remaining_s=1 * H,
    )
    assert pauses(ola_clock) == [
        (mon(9), mon(11), "other_team", 2 * H),
        (mon(14), mon(16), "other_team", 2 * H),
    ]


def test_an_ola_clock_does_not_run_while_another_team_holds_a_ticket_past_max_pause():
    ola = second_line_ola(target("agent_work", 8 * H, max_pause=1 * DAY))
    story = (
        Story()
        .created(mon(9), group="first-line")
        .set(mon(10), status="pending")
        .set(wed(10), by="customer", status="open")
        .set(wed(11), group="second-line")
        .set(wed(15), status="solved")
    )
    clock = only(evaluate(story, configs(ola), wed(16)), "agent_work")
    # Second line held the ticket only Wed 11:00-15:00 = 4 h. The pending pause is capped after
    # a day, but first line still held the ticket: "other teams' time [is] not capped".
    # Paused: everything else from Mon 09:00 to Wed 15:00 = 8 h + 8 h + 6 h - 4 h = 18 h.
    check(clock, state="met", business_elapsed_s=4 * H, paused_s=18 * H, remaining_s=4 * H)


# ------------------------------------------------------------------------- calendars and time


def test_a_ticket_created_on_a_holiday_waits_for_the_next_working_day():
    cfg = config(target("first_reply", 4 * H, calendar="easter_office"))
    # Created Good Friday 2026-04-03 10:00 (CEST). Fri and Easter Monday are holidays, then the
    # weekend between: the office opens Tue 2026-04-07 09:00; + 4 h -> due 13:00.
    story = Story().created(stockholm(4, 3, 10))
    clock = only(evaluate(story, cfg, stockholm(4, 7, 10)), "first_reply")
    check(
        clock,
        start=stockholm(4, 3, 10),
        due=stockholm(4, 7, 13),
        state="active",
        business_elapsed_s=1 * H,
        remaining_s=3 * H,
        # Real time Fri 10:00 -> Tue 10:00 = 4 days.
        calendar_elapsed_s=4 * DAY,
    )


def test_a_24x7_stockholm_clock_counts_real_hours_across_the_spring_forward():
    cfg = config(target("resolution", 24 * H, calendar="stockholm_24x7"))
    # Created Sat 2026-03-28 12:00 CET. Clocks jump 02:00 -> 03:00 on Sunday 29 March, so 24
    # real hours later the wall clock reads Sun 13:00 CEST.
    story = Story().created(stockholm(3, 28, 12)).set(stockholm(3, 29, 14), status="solved")
    clock = only(evaluate(story, cfg, stockholm(3, 30, 9)), "resolution")
    # Solved Sun 14:00 CEST: 12:00 CET Sat -> 14:00 CEST Sun = 25 real hours, one over.
    check(
        clock,
        due=stockholm(3, 29, 13),
        stop=stockholm(3, 29, 14),
        state="breached",
        breached_at=stockholm(3, 29, 13),
        business_elapsed_s=25 * H,
        calendar_elapsed_s=25 * H,
        remaining_s=-1 * H,
    )


def test_a_new_york_office_clock_across_the_fall_back_counts_real_seconds():
    cfg = config(target("resolution", 2 * H, calendar="ny_office"))
    # Created Fri 2026-10-30 16:00 EDT (20:00 UTC); 16-17 = 1 h. Clocks fall back on Sun 1 Nov.
    # Mon 2 Nov 09:00 EST + 1 h -> due 10:00 EST (15:00 UTC). Solved 10:30 EST, 30 min late.
    story = Story().created(new_york(10, 30, 16)).set(new_york(11, 2, 10, 30), status="solved")
    clock = only(evaluate(story, cfg, new_york(11, 2, 12)), "resolution")
    check(
        clock,
        due=new_york(11, 2, 10),
        state="breached",
        breached_at=new_york(11, 2, 10),
        business_elapsed_s=2.5 * H,
        remaining_s=-0.5 * H,
        # Fri 20:00 UTC -> Mon 15:30 UTC = 67.5 real hours (the wall clock shows 66.5).
        calendar_elapsed_s=67.5 * H,
    )
    assert clock.due == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------- attribution


def test_a_clock_attributes_its_running_time_to_the_groups_and_assignees_that_held_it():
    cfg = config(target("agent_work", 16 * H))
    story = (
        Story()
        .created(mon(9), group="triage")
        .set(mon(10), group="billing", assignee="ann")
        .set(mon(12), status="pending")  # paused time is nobody's
        .set(mon(13), by="customer", status="open")
        .set(mon(14), assignee="bob")
        .set(mon(16), status="solved")
    )
    clock = only(evaluate(story, cfg, mon(17)), "agent_work")
    # triage 09-10 = 1 h; ann 10-12 + 13-14 = 3 h; bob 14-16 = 2 h; pending 12-13 not counted.
    held = {(a.group, a.assignee): a.business_s for a in clock.attribution}
    assert held == {("triage", None): 1 * H, ("billing", "ann"): 3 * H, ("billing", "bob"): 2 * H}
    assert sum(held.values()) == clock.business_elapsed_s == 6 * H
    check(clock, group="billing", assignee="bob", paused_s=1 * H)


# ------------------------------------------------------------------- warnings, custom metrics


def test_warnings_on_a_target_are_not_clocks():
    plain = config(target("first_reply", 4 * H))
    warned = config(
        target("first_reply", 4 * H, warnings=(Warning(percent=75), Warning(before=30 * M)))
    )
    story = Story().created(mon(9))
    (clock,) = evaluate(story, warned, mon(12))
    assert evaluate(story, plain, mon(12)) == [clock]
    check(clock, state="active", remaining_s=1 * H)


ESCALATION = CustomMetric(
    "escalation_ack",
    start=when({"field": "tags", "op": "contains", "value": "escalated"}),
    stop=when(
        [
            {"field": "event.type", "op": "is", "value": "comment.added"},
            {"field": "event.actor", "op": "is", "value": "agent"},
            {"field": "event.public", "op": "is", "value": True},
        ]
    ),
    pause=when({"field": "status", "op": "is", "value": "on_hold"}),
    repeat=True,
)


def escalation_story() -> Story:
    return (
        Story()
        .created(mon(9))
        .set(mon(10), tags=["escalated"])  # cycle 1 starts
        .set(mon(11), status="on_hold")  # custom pause
        .set(mon(12), status="open")
        .reply(mon(13))  # cycle 1 stops
        .set(mon(14), tags=[])
        .set(mon(15), tags=["escalated"])  # with repeat, cycle 2 starts
    )


def test_a_custom_metric_starts_pauses_stops_and_repeats_on_its_conditions():
    cfg = config(target("escalation_ack", 3 * H), custom_metrics={"escalation_ack": ESCALATION})
    first, second = of(evaluate(escalation_story(), cfg, mon(16)), "escalation_ack")
    # Cycle 1: 10:00-13:00 with 11-12 on hold (custom pause) -> 2 h run; due 10:00 + 3 h + 1 h
    # paused = 14:00.
    check(
        first,
        cycle=1,
        start=mon(10),
        stop=mon(13),
        due=mon(14),
        state="met",
        business_elapsed_s=2 * H,
        paused_s=1 * H,
    )
    assert pauses(first) == [(mon(11), mon(12), "custom", 1 * H)]
    # Cycle 2 from 15:00: 1 h run at 16:00, due 18:00 -> 17:00 closes after 2 h, Tue 09:00 + 1 h.
    check(second, cycle=2, start=mon(15), stop=None, state="active", due=tue(10))


def test_a_custom_metric_without_repeat_measures_only_its_first_cycle():
    once = CustomMetric(
        ESCALATION.name, start=ESCALATION.start, stop=ESCALATION.stop, pause=ESCALATION.pause
    )
    cfg = config(target("escalation_ack", 3 * H), custom_metrics={"escalation_ack": once})
    (clock,) = evaluate(escalation_story(), cfg, mon(16))
    check(clock, cycle=1, start=mon(10), stop=mon(13), state="met")


def test_max_pause_is_counted_in_real_hours_across_the_spring_forward():
    cfg = config(
        target(
            "resolution",
            72 * H,
            calendar="stockholm_24x7",
            pause_on=frozenset({"pending"}),
            max_pause=1 * DAY,
        )
    )
    # Created Sat 2026-03-28 09:00 CET (08:00 UTC), pending 12:00 CET (11:00 UTC). One real day
    # later is Sun 11:00 UTC, which the wall clock reads as 13:00 CEST after the 02:00 -> 03:00
    # jump: the pause ends there, not at Sun 12:00 CEST (only 23 h later).
    story = (
        Story()
        .created(stockholm(3, 28, 9))
        .set(stockholm(3, 28, 12), status="pending")
        .set(stockholm(3, 30, 9), by="customer", status="open")
    )
    clock = only(evaluate(story, cfg, stockholm(3, 30, 10)), "resolution")
    # Run: Sat 08-11 UTC (3 h) + Sun 11:00 UTC -> Mon 08:00 UTC (21 h) = 24 h; paused 24 h.
    check(clock, state="active", business_elapsed_s=24 * H, paused_s=24 * H)
    assert pauses(clock) == [(stockholm(3, 28, 12), stockholm(3, 29, 13), "pending", 24 * H)]


def test_events_in_the_repeated_fall_back_hour_replay_in_real_time_order():
    cfg = config(target("agent_work", 8 * H, calendar="stockholm_24x7"))
    # Sun 2026-10-25: Stockholm's wall clock runs 02:00-03:00 twice (CEST, then CET).
    first_pass_0240 = datetime(2026, 10, 25, 2, 40, tzinfo=STOCKHOLM, fold=0)  # 00:40 UTC
    second_pass_0210 = datetime(2026, 10, 25, 2, 10, tzinfo=STOCKHOLM, fold=1)  # 01:10 UTC
    story = (
        Story()
        .created(stockholm(10, 25, 0, 30))  # 00:30 CEST = Sat 22:30 UTC
        .set(first_pass_0240, status="pending")
        .set(second_pass_0210, by="customer", status="open")
    )
    clock = only(evaluate(story, cfg, stockholm(10, 25, 3, 30)), "agent_work")  # 02:30 UTC
    # Pending 00:40-01:10 UTC (30 min), then open again: run 22:30-00:40 (2 h 10 min) + 01:10-02:30
    # (1 h 20 min) = 3.5 h.
    check(clock, state="active", business_elapsed_s=3.5 * H, paused_s=30 * M)
    # Compare in UTC: Python never finds a time in a repeated hour equal to one in another zone.
    assert pauses(clock) == [
        (first_pass_0240.astimezone(UTC), second_pass_0210.astimezone(UTC), "pending", 30 * M)
    ]
