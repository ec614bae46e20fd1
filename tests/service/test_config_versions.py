"""Config versions: numbered with their sender, refused whole, and what they do to clocks.

Times are in Stockholm, on CET (UTC+1) in March 2026; Monday 2 March is the first day. The
``office`` calendar is open Mon-Fri 09:00-17:00 there. Version 1 gives a first reply 2 office
hours and a resolution 8; the stricter version 2 gives 15 minutes and 4 hours.
"""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from duly.service.clock_rows import to_us
from duly.service.config_changes import (
    config_text,
    list_versions,
    preview_config,
    put_config,
    reevaluate,
)
from duly.service.configs import ConfigCache, sha256_of
from duly.service.errors import ConflictError, InvalidError, NotFoundError
from duly.service.ingest import ingest
from duly.store import clocks as stored
from duly.store.database import Database
from duly.store.tables import Base

STOCKHOLM = ZoneInfo("Europe/Stockholm")
H = 3600

TEMPLATE = """\
calendars:
  office:
    timezone: Europe/Stockholm
    week: {{mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"],
           thu: ["09:00-17:00"], fri: ["09:00-17:00"]}}
agreements:
  - id: support
    policies:
      - id: standard
        targets:
          first_reply: {{within: {first_reply}, calendar: office}}
          resolution: {{within: {resolution}, calendar: office}}
"""
V1 = TEMPLATE.format(first_reply="2h", resolution="8h")
V2 = TEMPLATE.format(first_reply="15m", resolution="4h")


def mon(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=STOCKHOLM)


def story(ticket: str, *, solved: bool) -> list[dict]:
    """Created 09:00, replied 09:30 (met under v1, missed under v2), maybe solved 10:00."""
    items: list[dict] = [
        {
            "id": f"{ticket}-1",
            "ticket": ticket,
            "at": mon(9).isoformat(),
            "type": "ticket.created",
            "fields": {"priority": "normal", "status": "new"},
        },
        {
            "id": f"{ticket}-2",
            "ticket": ticket,
            "at": mon(9, 30).isoformat(),
            "type": "comment.added",
            "actor": "agent",
        },
    ]
    if solved:
        items.append(
            {
                "id": f"{ticket}-3",
                "ticket": ticket,
                "at": mon(10).isoformat(),
                "type": "ticket.updated",
                "fields": {"status": "solved"},
            }
        )
    return items


def snapshot(db: Database) -> dict[str, list[tuple]]:
    with db.read() as connection:
        return {
            name: [tuple(r) for r in connection.execute(sa.select(t).order_by(*t.primary_key))]
            for name, t in sorted(Base.metadata.tables.items())
        }


def clocks(db: Database, ticket: str) -> dict:
    with db.read() as connection:
        return {c.metric: c for c in stored.clocks_of(connection, ticket)}


@pytest.fixture
def configs() -> ConfigCache:
    return ConfigCache()


@pytest.fixture
def running(db, configs) -> Database:
    """Version 1 in force; T-1 replied to and still open: first reply met, resolution running."""
    put_config(db, configs, V1, "alice", mon(8))
    ingest(db, configs, story("T-1", solved=False), mon(11))
    return db


# --- versions ------------------------------------------------------------------------------------


def test_each_accepted_config_gets_the_next_number_with_its_sender(db, configs):
    first = put_config(db, configs, V1, "alice", mon(8))
    second = put_config(db, configs, V2, "bob", mon(9))

    assert (first.version, second.version) == (1, 2)
    versions = list_versions(db)
    assert [(v["version"], v["created_by"]) for v in versions] == [(2, "bob"), (1, "alice")]
    assert versions[0]["sha256"] == sha256_of(V2)
    assert versions[1]["created_at"] == "2026-03-02T07:00:00+00:00"
    assert config_text(db, 1).text == V1
    assert config_text(db).version == 2
    assert config_text(db).text == V2


def test_asking_for_a_config_before_any_was_sent_or_a_missing_version_is_not_found(db, configs):
    with pytest.raises(NotFoundError) as none_yet:
        config_text(db)
    assert none_yet.value.field == "version"
    put_config(db, configs, V1, "alice", mon(8))
    with pytest.raises(NotFoundError) as missing:
        config_text(db, 7)
    assert "no version 7" in missing.value.message


def test_an_invalid_config_is_refused_whole_naming_the_field(running, configs):
    before = snapshot(running)
    broken = V2.replace("within: 15m, calendar: office", "within: 15m, calendar: nowhere")

    with pytest.raises(InvalidError) as refused:
        put_config(running, configs, broken, "mallory", mon(12))

    assert refused.value.field == "agreements[0].policies[0].targets.first_reply.calendar"
    assert "unknown calendar 'nowhere'" in refused.value.message
    assert snapshot(running) == before
    assert [v["version"] for v in list_versions(running)] == [1]


def test_an_empty_config_is_refused(db, configs):
    with pytest.raises(InvalidError) as refused:
        put_config(db, configs, "  \n", "alice", mon(8))
    assert refused.value.field == "config"
    assert list_versions(db) == []


def test_a_process_sees_a_version_another_process_stored(db):
    mine, theirs = ConfigCache(), ConfigCache()
    put_config(db, mine, V1, "alice", mon(8))
    with db.read() as connection:
        assert theirs.current(connection).version == 1

    put_config(db, mine, V2, "bob", mon(9))

    with db.read() as connection:
        seen = theirs.current(connection)
    assert (seen.version, seen.text, seen.config.version) == (2, V2, "2")
    targets = {t.metric: t for t in seen.config.agreements[0].policies[0].targets}
    assert targets["first_reply"].duration_for("normal") == 15 * 60


# --- what a new version does to clocks -----------------------------------------------------------


def test_a_new_version_moves_running_clocks_and_finished_ones_keep_their_outcome(running, configs):
    accepted = put_config(running, configs, V2, "bob", mon(12))

    assert (accepted.version, accepted.tickets, accepted.clocks) == (2, 1, 1)
    now = clocks(running, "T-1")
    # The reply at 09:30 met v1's 2h; under v2's 15m it would have been missed, but it was
    # decided under v1 and stays so.
    reply = now["first_reply"]
    assert (reply.state, reply.config_version) == ("met", 1)
    assert reply.due_us == to_us(mon(11))
    # The resolution still ran: it is now v2's 4h, due 13:00, and has 3 of them used at 12:00.
    resolution = now["resolution"]
    assert (resolution.state, resolution.config_version) == ("active", 2)
    assert resolution.due_us == to_us(mon(13))
    assert resolution.business_elapsed_s == 3 * H
    assert resolution.remaining_s == 1 * H
    with running.read() as connection:
        ticket = stored.ticket(connection, "T-1")
    assert ticket is not None
    assert ticket.config_version == 2


def test_a_new_version_leaves_tickets_with_nothing_running_alone(running, configs):
    ingest(running, configs, story("T-2", solved=True), mon(11))
    before = clocks(running, "T-2")

    put_config(running, configs, V2, "bob", mon(12))

    after = clocks(running, "T-2")
    assert {m: (c.state, c.config_version, c.due_us) for m, c in after.items()} == {
        m: (c.state, c.config_version, c.due_us) for m, c in before.items()
    }
    assert after["resolution"].state == "met"


def test_reevaluating_all_recomputes_finished_clocks_under_the_new_version(running, configs):
    ingest(running, configs, story("T-2", solved=True), mon(11))

    accepted = put_config(running, configs, V2, "bob", mon(12), reevaluate_all=True)

    assert (accepted.version, accepted.tickets, accepted.clocks) == (2, 2, 4)
    for ticket in ("T-1", "T-2"):
        reply = clocks(running, ticket)["first_reply"]
        assert (reply.state, reply.config_version) == ("breached", 2)
        assert reply.due_us == to_us(mon(9, 15))
        assert reply.breached_at_us == to_us(mon(9, 15))
    solved = clocks(running, "T-2")["resolution"]
    assert (solved.state, solved.config_version, solved.business_elapsed_s) == ("met", 2, 1 * H)


def test_reevaluate_recomputes_every_ticket_under_the_config_in_force(running, configs):
    put_config(running, configs, V2, "bob", mon(12))
    assert clocks(running, "T-1")["first_reply"].state == "met"

    result = reevaluate(running, configs, mon(12))

    assert (result.version, result.tickets, result.clocks) == (2, 1, 2)
    assert clocks(running, "T-1")["first_reply"].state == "breached"


# --- previews ------------------------------------------------------------------------------------


def test_a_preview_reports_the_changed_outcomes_and_writes_nothing(running, configs):
    ingest(running, configs, story("T-2", solved=True), mon(11))
    before = snapshot(running)

    preview = preview_config(running, configs, V2, mon(12), by=("metric",))

    assert snapshot(running) == before
    assert preview["changes"] == [
        {
            "ticket": t,
            "agreement": "support",
            "metric": "first_reply",
            "cycle": 1,
            "before": "met",
            "after": "breached",
        }
        for t in ("T-1", "T-2")
    ]
    summary = {row["metric"]: row for row in preview["summary"]}
    assert (summary["first_reply"]["met_pct_before"], summary["first_reply"]["met_pct_after"]) == (
        100.0,
        0.0,
    )
    assert summary["resolution"]["total_before"] == summary["resolution"]["total_after"] == 1


def test_an_invalid_preview_is_refused_with_the_field(running, configs):
    with pytest.raises(InvalidError) as refused:
        preview_config(running, configs, V2.replace("within: 4h", "within: soon"), mon(12))
    assert refused.value.field == "agreements[0].policies[0].targets.resolution.within"


def test_two_configs_stored_at_the_same_moment_leave_the_second_a_conflict(db, configs):
    if db.is_sqlite:
        pytest.skip("SQLite writers take turns, so two versions cannot race for a number")
    put_config(db, configs, V1, "alice", mon(8))
    outcome: list[object] = []
    # Another process is storing version 2 and has not committed yet.
    with db.engine.connect() as other, other.begin():
        other.execute(
            sa.text(
                "INSERT INTO config_versions (version, text, sha256, created_at_us, created_by)"
                " VALUES (2, :text, :sha, 0, 'carol')"
            ),
            {"text": V2, "sha": sha256_of(V2)},
        )

        def send() -> None:
            try:
                outcome.append(put_config(db, configs, V2, "bob", mon(9)))
            except ConflictError as exc:
                outcome.append(exc)

        racer = threading.Thread(target=send)
        racer.start()
        racer.join(1.0)  # it waits on the other transaction's row
        assert racer.is_alive()
    racer.join(30)
    [error] = outcome
    assert isinstance(error, ConflictError)
    assert error.field == "config"
    assert [(v["version"], v["created_by"]) for v in list_versions(db)] == [
        (2, "carol"),
        (1, "alice"),
    ]
