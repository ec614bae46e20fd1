"""The alert outbox: crossings fire once, deliveries are leased, breaches are marked.

Instants in the lease tests are plain microsecond counts; ``S`` is a second.
"""

import json
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from duly.service.clock_rows import to_us
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.ingest import ingest
from duly.store import alerts as outbox
from duly.store import clocks as stored
from duly.store.tables import ALERTS, CLOCKS, CROSSINGS, DELIVERIES

S = 1_000_000
CONFIG = """\
agreements:
  - id: support
    alerts:
      warning: [leads]
      breach: [leads, pager]
      escalations: [{after: 1h, notify: [manager]}]
    policies:
      - id: standard
        targets: {first_reply: {within: 2h, warn: [50%]}}
"""


def mon(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def created(ticket: str, at: datetime) -> dict:
    return {
        "id": f"{ticket}-1",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "ticket.created",
        "fields": {"priority": "normal", "status": "new"},
    }


def assigned(ticket: str, at: datetime, who: str) -> dict:
    return {
        "id": f"{ticket}-assigned-{who}",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "ticket.updated",
        "fields": {"assignee": who},
    }


def rows(db, table) -> list[dict]:
    with db.read() as connection:
        statement = sa.select(table).order_by(*table.primary_key)
        return [dict(r._mapping) for r in connection.execute(statement)]


def fire(db, now_us: int) -> list[int]:
    with db.write() as connection:
        return outbox.fire_due_crossings(connection, now_us)


def claim(db, owner: str, now_us: int, lease_us: int = 60 * S, limit: int = 50):
    with db.write() as connection:
        return outbox.claim_deliveries(connection, owner, now_us, lease_us, limit)


def record(db, delivery_id: int, owner: str, now_us: int, **outcome) -> bool:
    with db.write() as connection:
        return outbox.record_attempt(connection, delivery_id, owner, now_us=now_us, **outcome)


def add_crossing(db, key: str, at_us: int, notify: list[str], ticket: str = "T-1") -> None:
    with db.write() as connection:
        stored.insert_crossings(
            connection,
            [
                {
                    "alert_key": key,
                    "ticket": ticket,
                    "at_us": at_us,
                    "kind": "breach",
                    "threshold": "breach",
                    "level": 0,
                    "notify": json.dumps(notify),
                    "clock": json.dumps({"ticket": ticket}),
                }
            ],
        )


# --- crossings become alerts once ----------------------------------------------------------------


@pytest.fixture
def configs(db) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG, "alice", mon(7))
    return cache


def test_a_derived_clock_leaves_its_warning_breach_and_escalation_pending(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))

    pending = [(c["threshold"], c["at_us"], json.loads(c["notify"])) for c in rows(db, CROSSINGS)]

    assert sorted(pending, key=lambda p: p[1]) == [
        ("warning:50%", to_us(mon(9)), ["leads"]),
        ("breach", to_us(mon(10)), ["leads", "pager"]),
        ("escalation:1", to_us(mon(11)), ["manager"]),
    ]
    with db.read() as connection:
        assert outbox.next_crossing_at(connection) == to_us(mon(9))


def test_a_due_crossing_becomes_exactly_one_alert_with_a_delivery_per_channel(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))

    assert fire(db, to_us(mon(8, 59))) == []
    fired = fire(db, to_us(mon(9, 30)))

    assert len(fired) == 1
    (alert,) = rows(db, ALERTS)
    assert (alert["id"], alert["kind"], alert["threshold"]) == (fired[0], "warning", "warning:50%")
    assert (alert["due_at_us"], alert["fired_at_us"]) == (to_us(mon(9)), to_us(mon(9, 30)))
    assert json.loads(alert["clock"])["metric"] == "first_reply"
    assert [
        (d["channel"], d["state"], d["attempts"], d["next_attempt_us"])
        for d in rows(db, DELIVERIES)
    ] == [("leads", "pending", 0, to_us(mon(9, 30)))]
    assert [c["threshold"] for c in rows(db, CROSSINGS)] == ["breach", "escalation:1"]
    assert fire(db, to_us(mon(9, 45))) == []
    assert len(rows(db, ALERTS)) == 1


def test_re_deriving_a_ticket_after_an_alert_fired_does_not_bring_the_crossing_back(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))
    fire(db, to_us(mon(9, 30)))

    ingest(db, configs, [assigned("T-1", mon(9, 40), "anna")], mon(9, 40))

    assert [c["threshold"] for c in rows(db, CROSSINGS)] == ["breach", "escalation:1"]
    assert fire(db, to_us(mon(9, 50))) == []
    assert len(fire(db, to_us(mon(10, 30)))) == 1
    assert len(fire(db, to_us(mon(12)))) == 1
    assert [(a["threshold"], a["ticket"]) for a in rows(db, ALERTS)] == [
        ("warning:50%", "T-1"),
        ("breach", "T-1"),
        ("escalation:1", "T-1"),
    ]
    assert sorted(d["channel"] for d in rows(db, DELIVERIES)) == [
        "leads",
        "leads",
        "manager",
        "pager",
    ]
    assert rows(db, CROSSINGS) == []


def test_a_clock_stopped_before_its_thresholds_leaves_nothing_to_fire(db, configs):
    ingest(db, configs, [created("T-1", mon(8))], mon(8))
    reply = {
        "id": "T-1-reply",
        "ticket": "T-1",
        "at": mon(8, 30).isoformat(),
        "type": "comment.added",
        "actor": "agent",
    }

    ingest(db, configs, [reply], mon(8, 30))

    assert rows(db, CROSSINGS) == []
    assert fire(db, to_us(mon(23))) == []
    with db.read() as connection:
        assert outbox.next_crossing_at(connection) is None


def test_a_crossing_that_tells_no_channel_still_becomes_an_alert(db):
    add_crossing(db, "k", 5 * S, [])

    assert len(fire(db, 5 * S)) == 1
    assert rows(db, DELIVERIES) == []


# --- deliveries are leased -----------------------------------------------------------------------


def test_a_leased_delivery_is_not_claimed_again_until_its_lease_runs_out(db):
    add_crossing(db, "k", 0, ["hook", "mail"])
    fire(db, 10 * S)

    first = claim(db, "w1", 10 * S)
    assert [(c.channel, c.attempts, c.alert.alert_key) for c in first] == [
        ("hook", 0, "k"),
        ("mail", 0, "k"),
    ]
    assert claim(db, "w2", 11 * S) == []
    assert claim(db, "w2", 70 * S) == []  # the lease runs to 70 s: still held at that instant

    second = claim(db, "w2", 71 * S)

    assert [c.delivery_id for c in second] == [c.delivery_id for c in first]
    assert {(d["lease_owner"], d["lease_until_us"]) for d in rows(db, DELIVERIES)} == {
        ("w2", 131 * S)
    }


def test_a_claim_takes_no_more_than_its_limit_and_the_rest_stay_claimable(db):
    add_crossing(db, "k", 0, ["a", "b", "c"])
    fire(db, 1 * S)

    first = claim(db, "w1", 1 * S, limit=2)
    second = claim(db, "w2", 1 * S)

    assert [c.channel for c in first] == ["a", "b"]
    assert [c.channel for c in second] == ["c"]


def test_an_attempt_recorded_after_the_lease_was_lost_writes_nothing(db):
    add_crossing(db, "k", 0, ["hook"])
    fire(db, 1 * S)
    (mine,) = claim(db, "w1", 1 * S)
    claim(db, "w2", 62 * S)  # w1 took too long; w2 holds it now
    before = rows(db, DELIVERIES)

    assert record(db, mine.delivery_id, "w1", 63 * S, delivered=True) is False
    assert rows(db, DELIVERIES) == before

    assert record(db, mine.delivery_id, "w2", 64 * S, delivered=True) is True
    (delivered,) = rows(db, DELIVERIES)
    assert (delivered["state"], delivered["attempts"], delivered["delivered_at_us"]) == (
        "delivered",
        1,
        64 * S,
    )
    assert (delivered["lease_owner"], delivered["lease_until_us"]) == (None, None)
    assert record(db, mine.delivery_id, "w2", 65 * S, delivered=True) is False


def test_a_failed_attempt_waits_for_its_retry_and_one_without_a_retry_is_dead(db):
    add_crossing(db, "k", 0, ["hook"])
    (alert_id,) = fire(db, 1 * S)
    (mine,) = claim(db, "w1", 1 * S)

    assert record(
        db, mine.delivery_id, "w1", 2 * S, delivered=False, error="503", retry_at_us=30 * S
    )
    assert claim(db, "w1", 29 * S) == []
    (again,) = claim(db, "w1", 30 * S)
    assert again.attempts == 1

    assert record(db, again.delivery_id, "w1", 31 * S, delivered=False, error="410 Gone")
    (dead,) = rows(db, DELIVERIES)
    assert (dead["state"], dead["attempts"], dead["last_error"]) == ("dead", 2, "410 Gone")
    assert claim(db, "w1", 999 * S) == []

    with db.write() as connection:
        assert outbox.retry_alert(connection, alert_id, 1000 * S) == 1
    (revived,) = claim(db, "w1", 1000 * S)
    assert revived.attempts == 0


# --- breaches ------------------------------------------------------------------------------------


def clock_row(ticket: str, state: str, due_us: int, stop_us: int | None = None) -> dict:
    return {
        "ticket": ticket,
        "agreement": "support",
        "agreement_kind": "sla",
        "policy": "standard",
        "metric": "first_reply",
        "cycle": 1,
        "priority": "normal",
        "calendar": "24x7",
        "target_s": 3600.0,
        "start_us": 0,
        "due_us": due_us,
        "stop_us": stop_us,
        "state": state,
        "breached_at_us": due_us if state == "breached" else None,
        "business_elapsed_s": 0.0,
        "calendar_elapsed_s": 0.0,
        "paused_s": 0.0,
        "remaining_s": 3600.0,
        "group_name": None,
        "assignee": None,
        "organization": None,
        "channel": None,
        "pauses": "[]",
        "attribution": "[]",
        "config_version": 1,
        "evaluated_at_us": 0,
    }


def test_mark_breached_flips_only_running_clocks_whose_due_has_passed(db):
    now = 100 * S
    with db.write() as connection:
        stored.insert_clocks(
            connection,
            [
                clock_row("past", "active", 50 * S),
                clock_row("at-now", "active", now),
                clock_row("future", "active", now + 1),
                clock_row("paused", "paused", 50 * S),
                clock_row("met", "met", 50 * S, stop_us=40 * S),
                clock_row("missed", "breached", 50 * S, stop_us=60 * S),
                clock_row("breached", "breached", 20 * S),
            ],
        )
    before = {r["ticket"]: r for r in rows(db, CLOCKS)}

    with db.write() as connection:
        flipped = stored.mark_breached(connection, now)

    after = {r["ticket"]: r for r in rows(db, CLOCKS)}
    assert flipped == 2
    assert (after["past"]["state"], after["past"]["breached_at_us"]) == ("breached", 50 * S)
    assert (after["at-now"]["state"], after["at-now"]["breached_at_us"]) == ("breached", now)
    for name in ("future", "paused", "met", "missed", "breached"):
        assert after[name] == before[name], name
    with db.write() as connection:
        assert stored.mark_breached(connection, now) == 0


# --- several monitors on PostgreSQL --------------------------------------------------------------


def test_two_connections_claiming_at_once_never_get_the_same_delivery(db):
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's")
    add_crossing(db, "k", 0, ["a", "b", "c", "d"])
    fire(db, 1 * S)
    first_claimed = threading.Event()
    second_done = threading.Event()
    claims: dict[str, list[int]] = {}
    released: dict[str, bool] = {}
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with db.write() as connection:
                taken = outbox.claim_deliveries(connection, "w1", 1 * S, 60 * S, limit=2)
                claims["w1"] = [c.delivery_id for c in taken]
                first_claimed.set()
                # Hold the transaction (and the row locks) open until the other claim is done.
                released["by second"] = second_done.wait(timeout=10)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
            first_claimed.set()

    holder = threading.Thread(target=first)
    holder.start()
    try:
        assert first_claimed.wait(timeout=10)
        with db.write() as connection:
            # Waiting on the first claim's row locks would be an error here, not a delay.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            taken = outbox.claim_deliveries(connection, "w2", 1 * S, 60 * S)
            claims["w2"] = [c.delivery_id for c in taken]
        second_done.set()
    finally:
        second_done.set()
        holder.join(timeout=10)

    assert failures == []
    assert released == {"by second": True}  # the second claim finished while the first held on
    assert len(claims["w1"]) == 2
    assert len(claims["w2"]) == 2
    assert set(claims["w1"]).isdisjoint(claims["w2"])
    owners = {d["id"]: d["lease_owner"] for d in rows(db, DELIVERIES)}
    assert owners == {**dict.fromkeys(claims["w1"], "w1"), **dict.fromkeys(claims["w2"], "w2")}
