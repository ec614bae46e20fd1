"""When a paused clock runs again by itself: at its ``max_pause``, for causes the cap covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from duly.config.sla import load_config_text
from duly.core.alerts import resumes_at
from duly.core.clocks import evaluate_ticket
from duly.core.events import Event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = load_config_text(
    """\
agreements:
  - id: support
    policies:
      - id: all
        targets:
          resolution: {within: 8h, pause_on: [pending], max_pause: 2h}
          first_reply: {within: 8h, pause_on: [pending]}
"""
)


def clock_of(metric: str, *events: Event, now: datetime):
    return next(c for c in evaluate_ticket(events, CONFIG, now) if c.metric == metric)


CREATED = Event("e1", "T-1", T0, "ticket.created")
PENDING = Event(
    "e2", "T-1", T0 + timedelta(minutes=30), "ticket.updated", fields={"status": "pending"}
)


def test_a_capped_pause_ends_when_the_cap_runs_out():
    paused = clock_of("resolution", CREATED, PENDING, now=T0 + timedelta(hours=1))
    assert paused.state == "paused"
    assert resumes_at(paused, CONFIG) == T0 + timedelta(minutes=150)


def test_a_pause_without_a_cap_waits_for_an_event():
    paused = clock_of("first_reply", CREATED, PENDING, now=T0 + timedelta(hours=1))
    assert paused.state == "paused"
    assert resumes_at(paused, CONFIG) is None


def test_a_running_clock_has_nothing_to_resume():
    running = clock_of("resolution", CREATED, now=T0 + timedelta(hours=1))
    assert running.state == "active"
    assert resumes_at(running, CONFIG) is None


def test_a_solved_ticket_is_not_resumed_by_the_cap():
    solved = Event(
        "e3", "T-1", T0 + timedelta(minutes=40), "ticket.updated", fields={"status": "solved"}
    )
    resting = clock_of("resolution", CREATED, solved, now=T0 + timedelta(hours=5))
    assert resumes_at(resting, CONFIG) is None
