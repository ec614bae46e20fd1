"""The dashboard as `duly serve --demo` runs it, in-process on a free port, for the web tests.

One demo database per test session (seeding takes a moment and most tests only read), with the
server's clock held still so the API and the dashboard answer for the same instant.
"""

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from api.api_server import SetClock
from duly.service.clock_rows import to_us
from duly.service.context import Context
from duly.service.ingest import ingest
from duly.service.tokens import create_token
from duly.store import alerts as outbox

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
#: A gold urgent ticket opened two minutes before the demo's now: its first reply is due in
#: about 28 minutes, so its countdown shows seconds ticking.
FRESH_TICKET = "FRESH-1"
#: A gold urgent ticket five hours old and never answered: its warnings, breaches and
#: escalations (whose targets run around the clock) are all due, so there are deliveries to
#: fail whatever the time of day the tests run at.
OVERDUE_TICKET = "OVERDUE-1"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Dashboard:
    """A running demo server and the tokens of each role."""

    url: str
    ctx: Context
    clock: SetClock
    tokens: dict[str, str]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        """A client holding the session cookie of ``role`` (or ``token``); no redirects."""
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        value = token or (self.tokens[role] if role else None)
        if value:
            client.cookies.set("duly_session", value)
        self.clients.append(client)
        return client

    def api(self, role: str = "viewer") -> httpx.Client:
        """A REST API client with the bearer token of ``role``."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client


def add_fresh_ticket(ctx: Context, name: str = FRESH_TICKET, age: timedelta | None = None) -> None:
    """A gold urgent ticket opened ``age`` ago (two minutes by default)."""
    now = ctx.now()
    event = {
        "id": f"{name}-created",
        "ticket": name,
        "at": (now - (age or timedelta(minutes=2))).isoformat(),
        "type": "ticket.created",
        "actor": "customer",
        "fields": {
            "status": "New",
            "priority": "urgent",
            "group": "front-line",
            "assignee": "alice",
            "custom": {"tier": "gold", "region": "emea"},
        },
    }
    ingest(ctx.db, ctx.configs, [event], now)


def make_tokens(ctx: Context, admin: str, now: datetime) -> dict[str, str]:
    tokens = {
        role: create_token(ctx.db, role, f"{role} tester", now) for role in ("viewer", "agent")
    }
    tokens["admin"] = admin
    return tokens


def fire_alerts(ctx: Context) -> None:
    """What the monitor would do by now: every due crossing becomes an alert with deliveries."""
    with ctx.db.write() as connection:
        outbox.fire_due_crossings(connection, to_us(ctx.now()), limit=100_000)


def dead_letter_one(ctx: Context) -> int:
    """Fail one pending delivery for good, as the monitor does after its last attempt; its alert."""
    now_us = to_us(ctx.now())
    with ctx.db.write() as connection:
        claimed = outbox.claim_deliveries(connection, "web-test", now_us, 60_000_000, limit=1)
        assert claimed, "no pending delivery left to dead-letter"
        outbox.record_attempt(
            connection,
            claimed[0].delivery_id,
            "web-test",
            now_us=now_us,
            delivered=False,
            error="HTTP 500 from the receiver",
        )
    return claimed[0].alert.id
