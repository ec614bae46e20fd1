"""Stored clocks brought up to ``now``: ``live_clock`` agrees with the core evaluated at ``now``.

Times are in Stockholm, on CET (UTC+1) in March 2026; Monday 2 March is the first day. The
``office`` calendar is open Mon-Fri 09:00-17:00 there. A ticket created Monday 09:00 at normal
priority has its resolution due after 8 office hours: at Tuesday 09:00, the first instant past the
eighth hour (docs/calendars.md: no business time passes between Monday 17:00 and then).
"""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from duly.config.sla import load_config_text
from duly.core.clocks import evaluate_ticket
from duly.service.clock_rows import clock_to_row, from_us, live_clock, row_to_clock, to_us
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.event_files import event_from_mapping
from duly.service.ingest import ingest
from duly.store import clocks as stored
from duly.store.database import Database
from duly.store.tables import ClockRow

STOCKHOLM = ZoneInfo("Europe/Stockholm")
H = 3600

CONFIG_TEXT = """\
calendars:
  office:
    timezone: Europe/Stockholm
    week: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
           thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
agreements:
  - id: support
    policies:
      - id: standard
        targets:
          first_reply: {within: 2h, calendar: office}
          resolution: {within: 8h, calendar: office, pause_on: [pending]}
"""
CONFIG = load_config_text(CONFIG_TEXT)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=STOCKHOLM)


def mon(hour: int, minute: int = 0) -> datetime:
    return local(2, hour, minute)


def tue(hour: int, minute: int = 0) -> datetime:
    return local(3, hour, minute)


def created(ticket: str, at: datetime) -> dict:
    return {
        "id": f"{ticket}-1",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "ticket.created",
        "actor": "customer",
        "fields": {"priority": "normal", "status": "new"},
    }


def status(ticket: str, n: int, at: datetime, value: str) -> dict:
    return {
        "id": f"{ticket}-{n}",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "ticket.updated",
        "fields": {"status": value},
    }


@pytest.fixture
def configs(db) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG_TEXT, "alice", mon(8))
    return cache


def stored_clock(db: Database, ticket: str, metric: str) -> ClockRow:
    with db.read() as connection:
        (row,) = [c for c in stored.clocks_of(connection, ticket) if c.metric == metric]
    return row


def core_clock(items: list[dict], metric: str, now: datetime):
    events = [event_from_mapping(i) for i in items]
    (clock,) = [c for c in evaluate_ticket(events, CONFIG, now) if c.metric == metric]
    return clock


def agrees_with_core(live: dict, core) -> None:
    """The live figures are the core's as of the same instant."""
    assert live["state"] == core.state
    assert live["business_elapsed_s"] == pytest.approx(core.business_elapsed_s)
    assert live["calendar_elapsed_s"] == pytest.approx(core.calendar_elapsed_s)
    assert live["remaining_s"] == pytest.approx(core.remaining_s)
    assert live["paused_s"] == pytest.approx(core.paused_s)
    assert live["due"] == core.due.isoformat().replace("+00:00", "Z")
    expected_breach = None if core.breached_at is None else to_us(core.breached_at)
    assert (None if live["breached_at"] is None else to_us(parse(live["breached_at"]))) == (
        expected_breach
    )


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- microseconds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "us"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(1970, 1, 1, 0, 0, 1, 1, tzinfo=UTC), 1_000_001),
        (datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), -500_000),
        (datetime(2026, 3, 2, 9, 0, 0, 123_456, tzinfo=STOCKHOLM), 1_772_438_400_123_456),
    ],
)
def test_instants_become_exact_microseconds_and_back(at, us):
    assert to_us(at) == us
    assert from_us(us) == at
    assert from_us(None) is None


def test_a_clock_row_reads_back_as_the_same_core_clock_with_pauses():
    items = [
        created("T-1", mon(9)),
        status("T-1", 2, mon(10), "pending"),
        status("T-1", 3, mon(11, 30), "open"),
    ]
    clock = core_clock(items, "resolution", mon(12))
    assert len(clock.pauses) == 1
    row = ClockRow(id=1, **clock_to_row(clock, 1, to_us(mon(12))))

    back = row_to_clock(row)

    assert back.pauses == clock.pauses
    assert back.attribution == clock.attribution
    assert (back.start, back.due, back.state, back.remaining_s) == (
        clock.start,
        clock.due,
        clock.state,
        clock.remaining_s,
    )
    assert back.config_version == "1"


# --- an active clock runs on ---------------------------------------------------------------------


def test_an_active_clock_loses_the_office_hours_between_evaluation_and_now(db, configs):
    items = [created("T-1", mon(9))]
    ingest(db, configs, items, mon(11))
    row = stored_clock(db, "T-1", "resolution")
    assert (row.state, row.business_elapsed_s, row.remaining_s) == ("active", 2 * H, 6 * H)

    live = live_clock(row, CONFIG, mon(15, 30))

    # 11:00 to 15:30 is 4h30m of office time: 6h30m used, 1h30m left, still before 17:00.
    assert live["state"] == "active"
    assert live["business_elapsed_s"] == 6.5 * H
    assert live["remaining_s"] == 1.5 * H
    assert live["calendar_elapsed_s"] == 6.5 * H
    assert live["breached_at"] is None
    agrees_with_core(live, core_clock(items, "resolution", mon(15, 30)))


def test_an_active_clock_counts_no_closed_hours_and_is_breached_once_now_passes_due(db, configs):
    items = [created("T-1", mon(9))]
    ingest(db, configs, items, mon(11))
    row = stored_clock(db, "T-1", "resolution")

    live = live_clock(row, CONFIG, tue(10))

    # Monday 11:00-17:00 and Tuesday 09:00-10:00 are open: 7 more hours, 9 in all, 1 over.
    assert live["state"] == "breached"
    assert live["breached_at"] == "2026-03-03T08:00:00Z"
    assert live["business_elapsed_s"] == 9 * H
    assert live["remaining_s"] == -1 * H
    agrees_with_core(live, core_clock(items, "resolution", tue(10)))
    # At due exactly it is breached already; a moment before it is not, with nothing left.
    assert live_clock(row, CONFIG, tue(9))["state"] == "breached"
    just_before = live_clock(row, CONFIG, tue(9) - timedelta(microseconds=1))
    assert (just_before["state"], just_before["remaining_s"]) == ("active", 0)


def test_a_paused_clock_keeps_its_business_figures_and_its_due_moves_out_while_it_waits(
    db, configs
):
    items = [created("T-1", mon(9)), status("T-1", 2, mon(10), "pending")]
    ingest(db, configs, items, mon(11))
    row = stored_clock(db, "T-1", "resolution")
    assert row.state == "paused"

    live = live_clock(row, CONFIG, tue(12))

    assert live["state"] == "paused"
    assert live["business_elapsed_s"] == 1 * H
    assert live["remaining_s"] == 7 * H
    assert live["calendar_elapsed_s"] == 27 * H
    # Paused from Monday 10:00 to Tuesday 12:00: 7 business hours on Monday, 3 on Tuesday.
    assert row.paused_s == 1 * H
    assert live["paused_s"] == 10 * H
    agrees_with_core(live, core_clock(items, "resolution", tue(12)))


def test_a_finished_clock_is_shown_as_stored(db, configs):
    items = [created("T-1", mon(9)), status("T-1", 2, mon(12), "solved")]
    ingest(db, configs, items, mon(12, 30))
    row = stored_clock(db, "T-1", "resolution")

    live = live_clock(row, CONFIG, tue(16))

    assert (live["state"], live["stop"]) == ("met", "2026-03-02T11:00:00Z")
    assert live["business_elapsed_s"] == row.business_elapsed_s == 3 * H
    assert live["calendar_elapsed_s"] == row.calendar_elapsed_s == 3 * H
    assert live["remaining_s"] == 5 * H


def test_a_clock_from_an_event_stamped_ahead_of_the_server_runs_on_from_that_event(db, configs):
    # The help desk's clock is 30 minutes ahead: the ticket says it was created at 10:30 when
    # the server's time is 10:00. The clock is evaluated as of 10:30 and must run on from there.
    items = [created("T-1", mon(10, 30))]
    ingest(db, configs, items, mon(10))
    row = stored_clock(db, "T-1", "resolution")
    assert row.evaluated_at_us == to_us(mon(10, 30))

    live = live_clock(row, CONFIG, mon(11))

    assert live["business_elapsed_s"] == 0.5 * H
    assert live["remaining_s"] == 7.5 * H
    agrees_with_core(live, core_clock(items, "resolution", mon(11)))


def test_a_clock_whose_calendar_is_gone_from_the_config_keeps_its_business_figures(db, configs):
    ingest(db, configs, [created("T-1", mon(9))], mon(11))
    row = stored_clock(db, "T-1", "resolution")
    without_office = load_config_text(
        "agreements:\n  - id: other\n    policies:\n      - {id: all, targets: {resolution: 1h}}\n"
    )

    live = live_clock(row, without_office, mon(15))

    assert live["business_elapsed_s"] == 2 * H
    assert live["remaining_s"] == 6 * H
    assert live["calendar_elapsed_s"] == 6 * H
    assert json.loads(row.pauses) == live["pauses"]
