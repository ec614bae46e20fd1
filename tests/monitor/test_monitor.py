"""The monitor end to end: clocks cross thresholds, alerts fire once, deliveries reach receivers.

Everything is real: the database (SQLite, and PostgreSQL when configured), the core engine, a
local HTTP receiver. Time is a clock the test sets, so each story says exactly when it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from duly.monitor.signing import verify
from duly.monitor.worker import Monitor
from duly.service.alert_channels import put_channel, retry_alert
from duly.service.config_changes import put_config
from duly.service.context import Context
from duly.service.ingest import ingest
from duly.service.queries import list_alerts, ticket_view
from duly.store.alerts import AlertFilter
from duly.store.database import Database
from receivers import HttpReceiver, Reply

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = """\
agreements:
  - id: support
    alerts:
      warning: [hook]
      breach: [hook]
      escalations:
        - {after: 1h, notify: [hook]}
    policies:
      - id: all
        targets:
          first_reply: {within: 1h, warn: [50%]}
"""


class Clock:
    """The time as the test says it is."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def created(ticket: str, at: datetime) -> dict[str, object]:
    return {"id": f"{ticket}-c", "ticket": ticket, "at": at.isoformat(), "type": "ticket.created"}


def reply(ticket: str, at: datetime) -> dict[str, object]:
    return {
        "id": f"{ticket}-r",
        "ticket": ticket,
        "at": at.isoformat(),
        "type": "comment.added",
        "actor": "agent",
        "public": True,
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def monitors() -> Iterator[list[Monitor]]:
    """Monitors a test makes are stopped after it (their HTTP connections closed)."""
    made: list[Monitor] = []
    yield made
    for monitor in made:
        monitor.stop()


def new_monitor(made: list[Monitor], ctx: Context, **options: Any) -> Monitor:
    made.append(Monitor(ctx, **options))
    return made[-1]


@pytest.fixture
def ctx(db: Database, clock: Clock, http_receiver: HttpReceiver) -> Context:
    context = Context(db, clock=clock)
    put_config(db, context.configs, CONFIG, "test", T0)
    put_channel(db, "hook", {"kind": "webhook", "url": http_receiver.url + "/alerts"}, T0)
    return context


def secret_of(ctx: Context) -> str:
    with ctx.db.read() as connection:
        row = connection.exec_driver_sql("SELECT settings FROM channels").scalar_one()
    return str(json.loads(row)["secret"])


def alerts_of(ctx: Context) -> list[dict[str, Any]]:
    return list(list_alerts(ctx.db, AlertFilter(), limit=100)["alerts"])


def deliveries(ctx: Context) -> list[dict[str, Any]]:
    """The deliveries of the newest alert."""
    return list(alerts_of(ctx)[0]["deliveries"])


def test_each_threshold_fires_once_when_its_time_comes(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    monitor = new_monitor(monitors, ctx)
    clock.at = T0 + timedelta(minutes=29, seconds=59)
    assert monitor.fire_due() == 0
    clock.at = T0 + timedelta(minutes=30)
    assert monitor.fire_due() == 1  # the 50% warning
    assert monitor.fire_due() == 0
    clock.at = T0 + timedelta(hours=1)
    assert monitor.fire_due() == 1  # the breach
    clock.at = T0 + timedelta(hours=2)
    assert monitor.fire_due() == 1  # the escalation, an hour after the breach
    assert monitor.fire_due() == 0
    kinds = [(a["kind"], a["threshold"]) for a in reversed(alerts_of(ctx))]
    assert kinds == [
        ("warning", "warning:50%"),
        ("breach", "breach"),
        ("escalation", "escalation:1"),
    ]


def test_thresholds_crossed_while_no_monitor_ran_fire_when_one_starts(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(hours=5)
    assert new_monitor(monitors, ctx).fire_due() == 3
    due = sorted(str(a["due_at"]) for a in alerts_of(ctx))
    assert due == ["2026-03-02T09:30:00Z", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]


def test_a_restarted_monitor_and_a_late_event_do_not_fire_an_alert_again(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(minutes=45)
    assert new_monitor(monitors, ctx).fire_due() == 1
    # A late event re-derives the ticket (its clock still runs): the warning is not due again.
    late = {**created("T-1", T0), "id": "T-1-u", "type": "ticket.updated", "fields": {"tags": []}}
    ingest(ctx.db, ctx.configs, [late], clock.at)
    assert new_monitor(monitors, ctx).fire_due() == 0
    assert len(alerts_of(ctx)) == 1


def test_a_clock_that_stops_in_time_fires_nothing_more(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    ingest(ctx.db, ctx.configs, [reply("T-1", T0 + timedelta(minutes=20))], T0)
    clock.at = T0 + timedelta(hours=5)
    assert new_monitor(monitors, ctx).fire_due() == 0
    assert alerts_of(ctx) == []


def test_the_monitor_marks_a_running_clock_breached_at_its_due(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(minutes=61)
    new_monitor(monitors, ctx).fire_due()
    with ctx.db.read() as connection:
        state, breached = connection.exec_driver_sql(
            "SELECT state, breached_at_us FROM clocks"
        ).one()
    assert state == "breached"
    assert breached == int((T0 + timedelta(hours=1)).timestamp()) * 1_000_000
    view = ticket_view(ctx.db, ctx.configs, "T-1", clock.at)
    assert view["clocks"][0]["state"] == "breached"


def test_a_delivered_webhook_is_signed_and_carries_the_alert(
    ctx: Context, clock: Clock, monitors: list[Monitor], http_receiver: HttpReceiver
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(minutes=30)
    monitor = new_monitor(monitors, ctx, senders=1)
    monitor.fire_due()
    assert monitor.deliver_due() == 1
    [request] = http_receiver.requests
    assert request.path == "/alerts"
    assert verify(secret_of(ctx), request.headers, request.body)
    body = json.loads(request.body)
    assert body["type"] == "sla.warning"
    assert body["data"]["ticket"] == "T-1"
    assert body["data"]["clock"]["metric"] == "first_reply"
    [alert] = alerts_of(ctx)
    assert request.headers["webhook-id"] == f"alert_{alert['id']}"
    assert alert["deliveries"] == [
        {
            "channel": "hook",
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": None,
            "delivered_at": "2026-03-02T09:30:00Z",
            "last_error": None,
        }
    ]


def test_a_failing_receiver_is_retried_later_and_then_gets_the_alert(
    ctx: Context, clock: Clock, monitors: list[Monitor], http_receiver: HttpReceiver
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    http_receiver.reply_with(503)
    clock.at = T0 + timedelta(minutes=30)
    monitor = new_monitor(monitors, ctx, senders=1)
    monitor.fire_due()
    monitor.deliver_due()
    [delivery] = deliveries(ctx)
    assert delivery["state"] == "pending"
    assert delivery["attempts"] == 1
    assert "503" in delivery["last_error"]
    assert monitor.deliver_due() == 0  # not due again yet: it backs off
    clock.at += timedelta(minutes=1)
    assert monitor.deliver_due() == 1
    [delivery] = deliveries(ctx)
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] == 2
    assert len(http_receiver.requests) == 2
    assert len({r.headers["webhook-id"] for r in http_receiver.requests}) == 1


def test_a_refusing_receiver_dead_letters_the_alert_until_someone_retries_it(
    ctx: Context, clock: Clock, monitors: list[Monitor], http_receiver: HttpReceiver
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    http_receiver.reply_with(Reply(400, body=b"unknown hook"))
    clock.at = T0 + timedelta(minutes=30)
    monitor = new_monitor(monitors, ctx, senders=1)
    monitor.fire_due()
    monitor.deliver_due()
    [alert] = alerts_of(ctx)
    [delivery] = alert["deliveries"]
    assert delivery["state"] == "dead"
    assert "400" in delivery["last_error"]
    dead = list_alerts(ctx.db, AlertFilter(delivery_states=("dead",)), limit=10)["alerts"]
    assert [a["id"] for a in dead] == [alert["id"]]
    assert retry_alert(ctx.db, alert["id"], clock.at) == 1
    assert monitor.deliver_due() == 1
    assert deliveries(ctx)[0]["state"] == "delivered"


def test_an_alert_for_a_channel_that_does_not_exist_is_dead_lettered_with_the_reason(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    put_config(ctx.db, ctx.configs, CONFIG.replace("[hook]", "[nowhere]"), "test", T0)
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(minutes=30)
    monitor = new_monitor(monitors, ctx, senders=1)
    monitor.fire_due()
    monitor.deliver_due()
    [delivery] = deliveries(ctx)
    assert delivery["state"] == "dead"
    assert "no channel named 'nowhere'" in delivery["last_error"]


def test_a_delivery_held_by_a_dead_monitor_is_sent_by_another_once_its_lease_runs_out(
    ctx: Context, clock: Clock, monitors: list[Monitor], http_receiver: HttpReceiver
) -> None:
    ingest(ctx.db, ctx.configs, [created("T-1", T0)], T0)
    clock.at = T0 + timedelta(minutes=30)
    dead = new_monitor(monitors, ctx, lease_s=30, owner="dead")
    dead.fire_due()
    assert len(dead._claim()) == 1  # it took the delivery, then died before sending
    other = new_monitor(monitors, ctx, lease_s=30, owner="other", senders=1)
    assert other.deliver_due() == 0
    clock.at += timedelta(seconds=31)
    assert other.deliver_due() == 1
    assert len(http_receiver.requests) == 1
    assert deliveries(ctx)[0]["state"] == "delivered"


def test_a_running_monitor_fires_and_delivers_on_its_own(
    db: Database, http_receiver: HttpReceiver
) -> None:
    ctx = Context(db)  # the real time
    now = datetime.now(UTC)
    put_config(db, ctx.configs, CONFIG, "test", now)
    put_channel(db, "hook", {"kind": "webhook", "url": http_receiver.url}, now)
    # Created 29 min 59.5 s ago: the 50% warning is already due, the breach in half a second.
    start = now - timedelta(minutes=59, seconds=59.5)
    ingest(db, ctx.configs, [created("T-1", start)], now)
    monitor = Monitor(ctx, poll_s=0.05).start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while len(http_receiver.requests) < 2 and datetime.now(UTC) < deadline:
            monitor._stopping.wait(0.05)
    finally:
        monitor.stop()
    kinds = sorted(json.loads(r.body)["type"] for r in http_receiver.requests)
    assert kinds == ["sla.breach", "sla.warning"]


CAPPED = """\
agreements:
  - id: support
    alerts: {warning: [], breach: []}
    policies:
      - id: all
        targets:
          resolution: {within: 1h, warn: [50%], pause_on: [pending], max_pause: 1h}
"""


def test_a_paused_clock_runs_again_when_its_pause_cap_runs_out_and_then_breaches(
    ctx: Context, clock: Clock, monitors: list[Monitor]
) -> None:
    put_config(ctx.db, ctx.configs, CAPPED, "test", T0)
    waiting = {
        "id": "T-1-p",
        "ticket": "T-1",
        "at": (T0 + timedelta(minutes=10)).isoformat(),
        "type": "ticket.updated",
        "fields": {"status": "pending"},
    }
    ingest(ctx.db, ctx.configs, [created("T-1", T0), waiting], T0 + timedelta(minutes=15))
    monitor = new_monitor(monitors, ctx)
    clock.at = T0 + timedelta(minutes=69)
    assert monitor.fire_due() == 0
    assert ticket_view(ctx.db, ctx.configs, "T-1", clock.at)["clocks"][0]["state"] == "paused"
    # The cap runs out at 10:10 (paused at 09:10 for an hour): the clock runs again by itself,
    # with the 50 minutes it had left, so it warns at 10:30 and breaches at 11:00.
    clock.at = T0 + timedelta(minutes=70, seconds=1)
    assert monitor.fire_due() == 0
    [running] = ticket_view(ctx.db, ctx.configs, "T-1", clock.at)["clocks"]
    assert (running["state"], running["due"]) == ("active", "2026-03-02T11:00:00Z")
    clock.at = T0 + timedelta(hours=2)
    assert monitor.fire_due() == 2
    due = sorted((str(a["kind"]), str(a["due_at"])) for a in alerts_of(ctx))
    assert due == [("breach", "2026-03-02T11:00:00Z"), ("warning", "2026-03-02T10:30:00Z")]
