"""When each alert of a running clock is due: small ticket stories with instants worked by hand.

The clocks come from the real engine (``evaluate_ticket``) on the config below. The ``office``
calendar is open Mon-Fri 09:00-17:00 Stockholm time, so an office day holds 8 business hours.
March 2026: Monday the 2nd starts the main week (CET, UTC+1); clocks go forward on Sunday the
29th at 02:00 (to CEST, UTC+2). Expected instants are local aware datetimes, which compare with
the engine's UTC answers by the instant they name.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from duly.config.sla import load_config_text
from duly.core.agreements import AlertRules, Escalation, Target, Warning
from duly.core.alerts import Crossing, alert_schedule, rules_for
from duly.core.clocks import Clock, evaluate_ticket
from duly.core.events import Event

STOCKHOLM = ZoneInfo("Europe/Stockholm")

CONFIG = load_config_text(
    """\
calendars:
  office:
    timezone: Europe/Stockholm
    week: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
           thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
agreements:
  - id: internal
    scope: {field: organization, op: is, value: Example AB}
    policies:
      - {id: all, targets: {resolution: 1w}}
  - id: gold
    alerts:
      warning: [support-leads]
      breach: [support-leads, pager]
      escalations:
        - {after: 1h, notify: [team-lead]}
        - {after: 4h, notify: [manager]}
    policies:
      - id: urgent
        when: {field: priority, op: is, value: urgent}
        targets:
          first_reply: {within: 1h, warn: [50%, 1h, 2h]}
        alerts:
          breach: [pager]
          escalations: [{after: 4h, notify: [on-call-manager]}]
      - id: standard
        targets:
          first_reply: {within: 8h, calendar: office}
          resolution:
            within: 4h
            calendar: office
            warn: [80%, 30m, 80%]
            pause_on: [pending]
""",
    source="alerts.yaml",
)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


class Ticket:
    """A ticket's events in the order they happened."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def _add(self, when: datetime, type: str, actor: str, **fields: Any) -> Ticket:
        public = True if type == "comment.added" else None
        n = len(self.events) + 1
        self.events.append(Event(f"T-1-{n}", "T-1", when, type, actor, public, fields))
        return self

    def created(self, when: datetime, priority: str = "normal") -> Ticket:
        return self._add(when, "ticket.created", "customer", status="new", priority=priority)

    def set(self, when: datetime, **fields: Any) -> Ticket:
        return self._add(when, "ticket.updated", "agent", **fields)

    def reply(self, when: datetime) -> Ticket:
        return self._add(when, "comment.added", "agent")

    def clock(self, metric: str, now: datetime) -> Clock:
        """The one clock of ``metric`` (under gold) as of ``now``."""
        found = [
            c
            for c in evaluate_ticket(self.events, CONFIG, now)
            if c.metric == metric and c.agreement == "gold"
        ]
        assert len(found) == 1, found
        return found[0]


def schedule(clock: Clock) -> list[tuple[str, datetime, tuple[str, ...]]]:
    return [(c.key, c.at, c.notify) for c in alert_schedule(clock, CONFIG)]


# --- a clock that runs ----------------------------------------------------------------------


def test_a_four_hour_target_warns_at_80_percent_the_morning_after_and_escalates_in_real_time():
    # Created Monday 15:00: two business hours that day, two on Tuesday -> due Tuesday 11:00.
    clock = Ticket().created(at(3, 2, 15)).clock("resolution", now=at(3, 2, 15, 30))
    assert (clock.state, clock.due) == ("active", at(3, 3, 11))
    assert schedule(clock) == [
        # 80% of 4h is 3h12m: 2h on Monday, then 1h12m from Tuesday's 09:00 opening.
        ("warning:80%", at(3, 3, 10, 12), ("support-leads",)),
        # 30 business minutes before the due time.
        ("warning:before:1800", at(3, 3, 10, 30), ("support-leads",)),
        ("breach", at(3, 3, 11), ("support-leads", "pager")),
        # Escalations count wall-clock time from the breach, office hours or not.
        ("escalation:1", at(3, 3, 12), ("team-lead",)),
        ("escalation:2", at(3, 3, 15), ("manager",)),
    ]


def test_a_threshold_reached_at_closing_time_is_told_at_the_next_opening_like_a_due_time():
    # Created Monday 13:48: 80% (3h12m) is reached at 17:00 sharp and the clock is due Tuesday
    # 09:48. No business time passes overnight, so the warning is at Tuesday's 09:00 opening.
    clock = Ticket().created(at(3, 2, 13, 48)).clock("resolution", now=at(3, 2, 14))
    assert [(c.key, c.at) for c in alert_schedule(clock, CONFIG)[:3]] == [
        ("warning:80%", at(3, 3, 9)),
        ("warning:before:1800", at(3, 3, 9, 18)),
        ("breach", at(3, 3, 9, 48)),
    ]


def test_a_clock_due_at_closing_time_breaches_at_the_next_opening_and_warns_the_day_before():
    # Created Monday 13:00: four hours end at 17:00, which the engine rolls to Tuesday 09:00.
    clock = Ticket().created(at(3, 2, 13)).clock("resolution", now=at(3, 2, 13))
    assert [(c.key, c.at) for c in alert_schedule(clock, CONFIG)[:3]] == [
        ("warning:80%", at(3, 2, 16, 12)),
        ("warning:before:1800", at(3, 2, 16, 30)),
        ("breach", at(3, 3, 9)),
    ]


def test_each_crossing_carries_its_kind_and_escalation_level():
    clock = Ticket().created(at(3, 2, 15)).clock("resolution", now=at(3, 2, 15))
    assert [(c.kind, c.level) for c in alert_schedule(clock, CONFIG)] == [
        ("warning", 0),
        ("warning", 0),
        ("breach", 0),
        ("escalation", 1),
        ("escalation", 2),
    ]


def test_a_threshold_written_twice_is_one_crossing():
    # The standard policy's resolution target says 80% twice.
    clock = Ticket().created(at(3, 2, 15)).clock("resolution", now=at(3, 2, 15))
    keys = [c.key for c in alert_schedule(clock, CONFIG)]
    assert keys.count("warning:80%") == 1


def test_warnings_that_would_fall_at_or_before_the_start_are_dropped():
    # Urgent: first reply within 1h (24x7), warn at 50%, 1h before and 2h before due.
    clock = Ticket().created(at(3, 2, 10), priority="urgent").clock("first_reply", at(3, 2, 10))
    assert clock.due == at(3, 2, 11)
    # 1h before due is the start itself and 2h before is earlier: only 50% (10:30) remains.
    assert [c.key for c in alert_schedule(clock, CONFIG)] == [
        "warning:50%",
        "breach",
        "escalation:1",
    ]
    assert alert_schedule(clock, CONFIG)[0].at == at(3, 2, 10, 30)


def test_a_clock_already_breached_still_has_its_whole_schedule():
    # Nobody has replied by 13:00 to the urgent ticket due at 11:00: the clock still runs.
    clock = Ticket().created(at(3, 2, 10), priority="urgent").clock("first_reply", at(3, 2, 13))
    assert clock.state == "breached"
    assert [(c.key, c.at) for c in alert_schedule(clock, CONFIG)] == [
        ("warning:50%", at(3, 2, 10, 30)),
        ("breach", at(3, 2, 11)),
        ("escalation:1", at(3, 2, 15)),
    ]


def test_a_target_without_thresholds_still_breaches_and_escalates():
    # Standard first reply: 8 office hours, no warn. Created Monday 10:00: 7h on Monday and the
    # eighth on Tuesday morning.
    clock = Ticket().created(at(3, 2, 10)).clock("first_reply", now=at(3, 2, 10))
    assert schedule(clock) == [
        ("breach", at(3, 3, 10), ("support-leads", "pager")),
        ("escalation:1", at(3, 3, 11), ("team-lead",)),
        ("escalation:2", at(3, 3, 14), ("manager",)),
    ]


# --- clocks that do not run -----------------------------------------------------------------


def test_a_paused_clock_has_no_crossings_until_it_resumes_with_a_new_due():
    ticket = Ticket().created(at(3, 2, 15)).set(at(3, 2, 16), status="pending")
    paused = ticket.clock("resolution", now=at(3, 3, 9))
    assert paused.state == "paused"
    assert alert_schedule(paused, CONFIG) == ()
    # Back to open on Wednesday 09:00 after 1h run: 3h remain -> due Wednesday 12:00.
    resumed = ticket.set(at(3, 4, 9), status="open").clock("resolution", now=at(3, 4, 9))
    assert [(c.key, c.at) for c in alert_schedule(resumed, CONFIG)[:3]] == [
        ("warning:80%", at(3, 4, 11, 12)),
        ("warning:before:1800", at(3, 4, 11, 30)),
        ("breach", at(3, 4, 12)),
    ]


def test_a_met_clock_has_no_crossings():
    ticket = Ticket().created(at(3, 2, 10), priority="urgent").reply(at(3, 2, 10, 20))
    clock = ticket.clock("first_reply", now=at(3, 2, 12))
    assert clock.state == "met"
    assert alert_schedule(clock, CONFIG) == ()


def test_a_clock_that_breached_and_then_stopped_has_no_crossings():
    ticket = Ticket().created(at(3, 2, 10), priority="urgent").reply(at(3, 2, 12))
    clock = ticket.clock("first_reply", now=at(3, 2, 13))
    assert (clock.state, clock.stop) == ("breached", at(3, 2, 12))
    assert alert_schedule(clock, CONFIG) == ()


def test_a_cancelled_clock_has_no_crossings():
    # Made urgent at 11:00, the ticket moves to the urgent policy, which has no resolution
    # target: the standard policy's resolution clock is cancelled.
    ticket = Ticket().created(at(3, 2, 10)).set(at(3, 2, 11), priority="urgent")
    clock = ticket.clock("resolution", now=at(3, 2, 12))
    assert clock.state == "cancelled"
    assert alert_schedule(clock, CONFIG) == ()


# --- whose rules ----------------------------------------------------------------------------


def test_a_policys_alert_block_replaces_the_agreements_whole_block():
    # The urgent policy names only a breach channel and one escalation: its warning is still
    # recorded, but reaches no channel, and the agreement's escalations do not apply.
    clock = Ticket().created(at(3, 2, 10), priority="urgent").clock("first_reply", at(3, 2, 10))
    assert [(c.key, c.notify, c.level) for c in alert_schedule(clock, CONFIG)] == [
        ("warning:50%", (), 0),
        ("breach", ("pager",), 0),
        ("escalation:1", ("on-call-manager",), 1),
    ]


def test_rules_for_gives_the_policys_own_rules_or_its_agreements():
    assert rules_for(CONFIG, "gold", "urgent") == AlertRules(
        breach=("pager",), escalations=(Escalation(4 * 3600, ("on-call-manager",)),)
    )
    assert rules_for(CONFIG, "gold", "standard") == CONFIG.agreements[1].alerts
    assert rules_for(CONFIG, "internal", "all") == AlertRules()


def test_without_alert_rules_a_clock_still_has_its_warnings_and_breach():
    bare = load_config_text(
        "agreements: [{id: gold, policies: [{id: standard, targets: "
        "{resolution: {within: 4h, warn: 50%}}}]}]\n"
    )
    ticket = Ticket().created(at(3, 2, 10))
    (clock,) = evaluate_ticket(ticket.events, bare, at(3, 2, 10))
    assert alert_schedule(clock, bare) == (
        Crossing("warning:50%", "warning", at(3, 2, 12), ()),
        Crossing("breach", "breach", at(3, 2, 14), ()),
    )


def test_a_clock_from_another_config_is_refused_rather_than_guessed():
    clock = Ticket().created(at(3, 2, 15)).clock("resolution", now=at(3, 2, 15))
    with pytest.raises(KeyError, match="no agreement 'silver'"):
        alert_schedule(replace(clock, agreement="silver"), CONFIG)
    with pytest.raises(KeyError, match="'gold' has no policy 'gone'"):
        alert_schedule(replace(clock, policy="gone"), CONFIG)
    with pytest.raises(KeyError, match="no target for 'next_reply' in policy 'standard'"):
        alert_schedule(replace(clock, metric="next_reply"), CONFIG)


def test_a_threshold_with_neither_percent_nor_time_before_is_refused():
    clock = Ticket().created(at(3, 2, 15)).clock("resolution", now=at(3, 2, 15))
    gold = CONFIG.agreements[1]
    standard = gold.policies[1]
    broken = Target("resolution", MappingProxyType({"*": 4 * 3600.0}), warnings=(Warning(),))
    config = replace(
        CONFIG,
        agreements=(replace(gold, policies=(replace(standard, targets=(broken,)),)),),
    )
    with pytest.raises(ValueError, match="needs a percent or a duration"):
        alert_schedule(clock, config)


# --- daylight saving time -------------------------------------------------------------------


def test_in_the_week_clocks_go_forward_business_thresholds_follow_the_local_office_hours():
    # Created Friday 27 March 16:00 CET: 1h on Friday, then Monday 30 March from 09:00 CEST
    # -> due Monday 12:00 CEST (10:00 UTC, where Friday's opening was 08:00 UTC).
    clock = Ticket().created(at(3, 27, 16)).clock("resolution", now=at(3, 30, 8))
    assert clock.due == at(3, 30, 12)
    assert schedule(clock) == [
        ("warning:80%", at(3, 30, 11, 12), ("support-leads",)),
        ("warning:before:1800", at(3, 30, 11, 30), ("support-leads",)),
        ("breach", at(3, 30, 12), ("support-leads", "pager")),
        ("escalation:1", at(3, 30, 13), ("team-lead",)),
        ("escalation:2", at(3, 30, 16), ("manager",)),
    ]


def test_an_escalation_over_the_night_clocks_go_forward_is_real_hours_after_the_breach():
    # Urgent ticket Saturday 28 March 22:30 CET, first reply due 23:30 CET (22:30 UTC).
    # Four real hours later is 02:30 UTC: 04:30 CEST, five hours later on the wall's dial.
    clock = (
        Ticket()
        .created(at(3, 28, 22, 30), priority="urgent")
        .clock("first_reply", now=at(3, 28, 22, 30))
    )
    crossings = alert_schedule(clock, CONFIG)
    assert [(c.key, c.at) for c in crossings] == [
        ("warning:50%", at(3, 28, 23)),
        ("breach", at(3, 28, 23, 30)),
        ("escalation:1", at(3, 29, 4, 30)),
    ]
    assert (crossings[2].at - crossings[1].at).total_seconds() == 4 * 3600
