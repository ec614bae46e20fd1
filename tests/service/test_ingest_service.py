"""Ingesting events: idempotent by id, all or nothing, and clocks the core would give.

Times are in Stockholm, on CET (UTC+1) in March 2026; Monday 2 March is the first day. The
``office`` calendar is open Mon-Fri 09:00-17:00 there. A ticket at normal priority gets a
first reply within 2 office hours and a resolution within 8.
"""

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from duly.config.sla import load_config_text
from duly.core.clocks import evaluate_ticket
from duly.service.clock_rows import row_to_clock, to_us
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.errors import InvalidError
from duly.service.event_files import event_from_mapping
from duly.service.ingest import MAX_BATCH, ingest
from duly.service.queries import ticket_events
from duly.store import clocks as stored
from duly.store.database import Database
from duly.store.tables import Base

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CONFIG = """\
calendars:
  office:
    timezone: Europe/Stockholm
    week: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
           thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
agreements:
  - id: support
    alerts:
      warning: [leads]
      breach: [leads, pager]
    policies:
      - id: standard
        targets:
          first_reply: {within: 2h, calendar: office, warn: [50%]}
          resolution: {within: 8h, calendar: office, pause_on: [pending]}
"""


def mon(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=STOCKHOLM)


def event(event_id: str, ticket: str, at: datetime, type: str, **more: object) -> dict:
    return {"id": event_id, "ticket": ticket, "at": at.isoformat(), "type": type, **more}


def created(event_id: str, ticket: str, at: datetime) -> dict:
    fields = {"priority": "normal", "status": "new"}
    return event(event_id, ticket, at, "ticket.created", actor="customer", fields=fields)


def reply(event_id: str, ticket: str, at: datetime) -> dict:
    return event(event_id, ticket, at, "comment.added", actor="agent", public=True)


def solved(event_id: str, ticket: str, at: datetime) -> dict:
    fields = {"status": "solved"}
    return event(event_id, ticket, at, "ticket.updated", actor="agent", fields=fields)


@pytest.fixture
def configs(db) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG, "alice", mon(8))
    return cache


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, in key order: what 'nothing changed' is checked against."""
    with db.read() as connection:
        return {
            name: [tuple(r) for r in connection.execute(sa.select(t).order_by(*t.primary_key))]
            for name, t in sorted(Base.metadata.tables.items())
        }


def counts(db: Database) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(db).items()}


def clocks_of(db: Database, ticket: str) -> list:
    with db.read() as connection:
        return stored.clocks_of(connection, ticket)


def by_metric(db: Database, ticket: str) -> dict:
    return {c.metric: c for c in clocks_of(db, ticket)}


# --- idempotency ---------------------------------------------------------------------------------


def test_a_repeated_event_id_is_counted_as_a_duplicate_and_changes_no_row(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9)), reply("e2", "T-1", mon(9, 30))], mon(10))
    before = snapshot(db)

    # The same id with another body, sent later: the id decides, the stored event stands.
    again = reply("e2", "T-1", mon(9, 45))
    result = ingest(db, configs, [again], mon(12))

    assert (result.new, result.duplicates, result.tickets) == (0, 1, 0)
    assert snapshot(db) == before


def test_an_id_repeated_within_one_batch_is_stored_once_and_counted_as_a_duplicate(db, configs):
    first = created("e1", "T-1", mon(9))
    result = ingest(db, configs, [first, first, reply("e2", "T-1", mon(9, 30))], mon(10))

    assert (result.new, result.duplicates, result.tickets) == (2, 1, 1)
    assert counts(db)["events"] == 2
    with db.read() as connection:
        row = stored.ticket(connection, "T-1")
    assert row is not None
    assert row.events == 2


# --- all or nothing ------------------------------------------------------------------------------


def test_a_batch_with_one_bad_event_stores_nothing_and_names_its_index_and_field(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10))
    before = snapshot(db)
    batch = [
        reply("e2", "T-1", mon(9, 30)),
        created("e3", "T-2", mon(9)),
        {**created("e4", "T-3", mon(9)), "at": "yesterday"},
        created("e5", "T-4", mon(9)),
    ]

    with pytest.raises(InvalidError) as refused:
        ingest(db, configs, batch, mon(10))

    assert refused.value.field == "[2].at"
    assert refused.value.message.startswith("event[2]: at:")
    assert snapshot(db) == before
    assert counts(db)["events"] == 1
    assert counts(db)["tickets"] == 1


def test_a_single_bad_event_is_refused_with_the_bare_field_name(db, configs):
    with pytest.raises(InvalidError) as refused:
        ingest(db, configs, [{**reply("e1", "T-1", mon(9)), "actor": "robot"}], mon(10))

    assert refused.value.field == "actor"
    assert counts(db)["events"] == 0


def test_more_than_max_batch_events_are_refused_before_any_is_read(db, configs):
    before = snapshot(db)
    batch = [created(f"e{i}", f"T-{i}", mon(9)) for i in range(MAX_BATCH + 1)]

    with pytest.raises(InvalidError) as refused:
        ingest(db, configs, batch, mon(10))

    assert refused.value.field == "events"
    assert str(MAX_BATCH) in refused.value.message
    assert snapshot(db) == before


# --- order does not matter -----------------------------------------------------------------------


def comparable(clock) -> tuple:
    """A stored clock without what names its ticket or row."""
    return (
        clock.agreement,
        clock.metric,
        clock.cycle,
        clock.state,
        clock.start_us,
        clock.due_us,
        clock.stop_us,
        clock.breached_at_us,
        clock.business_elapsed_s,
        clock.remaining_s,
        clock.paused_s,
        clock.pauses,
    )


def story(ticket: str) -> list[dict]:
    """Created 09:00, pending 09:20-10:20, replied 10:40, solved 13:00."""
    return [
        created(f"{ticket}-1", ticket, mon(9)),
        event(f"{ticket}-2", ticket, mon(9, 20), "ticket.updated", fields={"status": "pending"}),
        event(f"{ticket}-3", ticket, mon(10, 20), "ticket.updated", fields={"status": "open"}),
        reply(f"{ticket}-4", ticket, mon(10, 40)),
        solved(f"{ticket}-5", ticket, mon(13)),
    ]


def test_events_sent_out_of_order_give_the_clocks_of_events_sent_in_order(db, configs):
    ingest(db, configs, story("T-in"), mon(14))
    for item in reversed(story("T-out")):  # one request per event, newest first
        ingest(db, configs, [item], mon(14))

    in_order = [comparable(c) for c in clocks_of(db, "T-in")]
    out_of_order = [comparable(c) for c in clocks_of(db, "T-out")]
    assert out_of_order == in_order
    # Worked by hand: the reply at 10:40 took 1h40m; the resolution 4h less the hour pending.
    assert by_metric(db, "T-in")["first_reply"].business_elapsed_s == 100 * 60
    assert by_metric(db, "T-in")["resolution"].business_elapsed_s == 3 * 3600
    assert by_metric(db, "T-in")["resolution"].paused_s == 3600


def test_a_late_event_older_than_the_stored_ones_re_derives_the_ticket(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(13))
    missed = by_metric(db, "T-1")["first_reply"]
    assert missed.state == "breached"
    assert missed.breached_at_us == to_us(mon(11))

    # The agent had in fact replied at 09:30; that event arrives last.
    ingest(db, configs, [reply("e2", "T-1", mon(9, 30))], mon(13, 5))

    met = by_metric(db, "T-1")["first_reply"]
    assert met.state == "met"
    assert met.stop_us == to_us(mon(9, 30))
    assert met.breached_at_us is None
    assert met.business_elapsed_s == 1800
    with db.read() as connection:
        row = stored.ticket(connection, "T-1")
    assert row is not None
    assert row.events == 2


def test_a_deleted_ticket_loses_its_clocks_and_pending_crossings(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10))
    assert len(clocks_of(db, "T-1")) == 2
    assert counts(db)["crossings"] > 0

    ingest(db, configs, [event("e2", "T-1", mon(10), "ticket.deleted")], mon(10, 5))

    assert clocks_of(db, "T-1") == []
    assert counts(db)["crossings"] == 0
    with db.read() as connection:
        row = stored.ticket(connection, "T-1")
    assert row is not None
    assert row.deleted is True


# --- the stored clocks are the core's ------------------------------------------------------------


def test_stored_clocks_equal_the_cores_clocks_for_the_same_events(db):
    configs = ConfigCache()
    text = (EXAMPLES / "sla.yaml").read_text(encoding="utf-8")
    now = datetime(2026, 3, 16, 12, tzinfo=UTC)  # after every example event
    put_config(db, configs, text, "alice", now)
    lines = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]

    result = ingest(db, configs, items, now)

    events = [event_from_mapping(i) for i in items]
    tickets = sorted({e.ticket for e in events})
    assert result.tickets == len(tickets)
    config = load_config_text(text)
    compared = 0
    for ticket in tickets:
        core = evaluate_ticket([e for e in events if e.ticket == ticket], config, now)
        rows = clocks_of(db, ticket)
        got = sorted((row_to_clock(r) for r in rows), key=identity)
        want = sorted(core, key=identity)
        assert [without_version(c) for c in got] == [without_version(c) for c in want], ticket
        assert all(r.config_version == 1 and r.evaluated_at_us == to_us(now) for r in rows)
        compared += len(rows)
    assert compared > 20


def identity(clock) -> tuple:
    return (clock.agreement, clock.metric, clock.cycle, clock.start)


def without_version(clock):
    return dataclasses.replace(clock, config_version="", extra={})


def test_an_event_is_kept_as_it_was_sent(db, configs):
    sent = {
        **created("e1", "T-1", mon(9)),
        "fields": {"priority": "normal", "status": "new", "custom": {"tier": "gold"}},
    }

    ingest(db, configs, [sent], mon(10))

    assert ticket_events(db, "T-1") == [sent]
    assert sent["at"].endswith("+01:00")


def test_a_value_json_can_hold_but_not_in_64_bits_is_stored_too(db, configs):
    sent = {**created("e1", "T-1", mon(9)), "fields": {"custom.order": 2**70}}

    assert ingest(db, configs, [sent], mon(10)).new == 1

    (stored_event,) = ticket_events(db, "T-1")
    assert stored_event["fields"]["custom.order"] == 2**70
