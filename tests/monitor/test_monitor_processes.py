"""Two monitor processes on one PostgreSQL database, one killed while it delivers.

Every alert must be created once and delivered; the only repeats allowed are sends that the
killed process had in flight, and those carry the same ``webhook-id`` so a receiver can drop
them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from databases import POSTGRES_URL, fresh_url
from duly.service.alert_channels import put_channel
from duly.service.config_changes import put_config
from duly.service.context import Context
from duly.service.ingest import ingest
from duly.store.database import Database
from receivers import HttpReceiver, Reply

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs DULY_TEST_POSTGRES_URL")

TICKETS = 30
SENDERS_PER_MONITOR = 4
CONFIG = """\
agreements:
  - id: support
    alerts: {warning: [hook], breach: [hook]}
    policies:
      - id: all
        targets:
          first_reply: {within: 1h, warn: [50%]}
"""


def start_monitor(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DULY_DATABASE_URL": url}
    command = [sys.executable, "-m", "duly", "monitor", "--poll", "0.1", "--lease", "3"]
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def states(db: Database) -> Counter[str]:
    with db.read() as connection:
        rows = connection.exec_driver_sql("SELECT state FROM deliveries").scalars().all()
    return Counter(rows)


def test_no_alert_is_lost_or_fired_twice_when_one_of_two_monitors_is_killed(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    # Every answer takes a while, so the killed monitor dies with deliveries in flight.
    http_receiver.reply_with(*[Reply(200, delay_s=0.2) for _ in range(4 * TICKETS)])
    with fresh_url("postgresql", tmp_path) as url:
        db = Database(url)
        db.upgrade()
        ctx = Context(db)
        now = datetime.now(UTC)
        put_config(db, ctx.configs, CONFIG, "test", now)
        put_channel(db, "hook", {"kind": "webhook", "url": http_receiver.url}, now)
        # Created just under an hour ago: warnings are due at once, breaches within seconds.
        events = [
            {
                "id": f"e{i}",
                "ticket": f"T-{i}",
                "at": (now - timedelta(minutes=60) + timedelta(seconds=i * 0.1)).isoformat(),
                "type": "ticket.created",
            }
            for i in range(TICKETS)
        ]
        ingest(db, ctx.configs, events, now)
        first = start_monitor(url, tmp_path / "first.log")
        second = start_monitor(url, tmp_path / "second.log")
        try:
            deadline = time.monotonic() + 60
            while len(http_receiver.requests) < 8 and time.monotonic() < deadline:
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            while states(db).get("delivered", 0) < 2 * TICKETS and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                    process.wait(20)
        with db.read() as connection:
            alert_ids = connection.exec_driver_sql("SELECT id FROM alerts").scalars().all()
        final = states(db)
        db.dispose()

    assert len(alert_ids) == 2 * TICKETS  # one warning and one breach per ticket, no more
    assert final == Counter({"delivered": 2 * TICKETS})
    received = Counter(r.headers["webhook-id"] for r in http_receiver.requests)
    assert set(received) == {f"alert_{i}" for i in alert_ids}
    repeated = [webhook_id for webhook_id, n in received.items() if n > 1]
    assert len(repeated) <= SENDERS_PER_MONITOR  # only what the killed monitor had in flight
