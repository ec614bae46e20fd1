"""The demo: a fresh database with the example config and a live stream of simulated tickets.

A new user should see clocks tick and alerts fire within a minute, at any hour: the stream
leans on gold urgent tickets, whose targets run around the clock, and backdates each new one by
up to most of its first-reply target so its warnings and breach fall in the next minutes.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

from duly.core.agreements import AlertRules, SlaConfig
from duly.service.alert_channels import put_channel
from duly.service.config_changes import put_config
from duly.service.context import Context
from duly.service.ingest import ingest
from duly.service.tokens import create_token

__all__ = ["DemoStream", "demo_config_text", "seed_demo"]

_LOG: Final = logging.getLogger("duly.demo")
_REGIONS: Final = ("emea", "americas")
_GROUPS: Final = ("front-line", "billing", "second-line")
_AGENTS: Final = ("alice", "bashir", "chen", "dana", "emil")
_ORGS: Final = ("acme", "globex", "initech", "umbrella", "hooli", "stark")


def demo_config_text() -> str:
    """The example SLA config: from the source tree, or the copy packaged in a wheel."""
    source = Path(__file__).resolve().parents[3] / "examples" / "sla.yaml"
    if source.is_file():
        return source.read_text(encoding="utf-8")
    return resources.files("duly").joinpath("examples/sla.yaml").read_text(encoding="utf-8")


def _channel_names(config: SlaConfig) -> set[str]:
    names: set[str] = set()
    rules: list[AlertRules | None] = [a.alerts for a in config.agreements]
    rules += [p.alerts for a in config.agreements for p in a.policies]
    for rule in rules:
        if rule is not None:
            names.update(rule.warning, rule.breach)
            for escalation in rule.escalations:
                names.update(escalation.notify)
    return names


def seed_demo(ctx: Context, rng: random.Random | None = None) -> str:
    """Load the example config, log channels for every channel it names, a backfilled history
    of the last three days, and return a new admin token."""
    now = ctx.now()
    accepted = put_config(ctx.db, ctx.configs, demo_config_text(), "demo", now)
    with ctx.db.read() as connection:
        config = ctx.configs.current(connection).config
    for name in sorted(_channel_names(config)):
        put_channel(ctx.db, name, {"kind": "log"}, now)
    stream = DemoStream(ctx, rng=rng or random.Random(7))
    stream.backfill(days=3)
    _LOG.info("demo: config version %s, %s tickets", accepted.version, stream.count)
    return create_token(ctx.db, "admin", "demo admin", now)


@dataclass
class _Ticket:
    name: str
    tier: str
    priority: str
    status: str = "New"
    replied: bool = False


@dataclass
class DemoStream:
    """Simulated help-desk traffic, posted through the same ingest path as the API."""

    ctx: Context
    rng: random.Random = field(default_factory=random.Random)
    count: int = 0
    open: list[_Ticket] = field(default_factory=list)
    _events: int = 0

    def _id(self) -> str:
        self._events += 1
        return f"demo-{self._events}-{self.rng.getrandbits(32):08x}"

    def _send(self, events: list[dict[str, Any]]) -> None:
        ingest(self.ctx.db, self.ctx.configs, events, self.ctx.now())

    def new_ticket(self, at: datetime, *, urgent_gold: bool = False) -> _Ticket:
        self.count += 1
        tier = "gold" if urgent_gold else self.rng.choice(("gold", "silver", "bronze"))
        priority = "urgent" if urgent_gold else self.rng.choice(("low", "normal", "high"))
        ticket = _Ticket(f"DEMO-{1000 + self.count}", tier, priority)
        self._send(
            [
                {
                    "id": self._id(),
                    "ticket": ticket.name,
                    "at": at.isoformat(),
                    "type": "ticket.created",
                    "actor": "customer",
                    "fields": {
                        "status": "New",
                        "priority": priority,
                        "group": "front-line",
                        "assignee": self.rng.choice(_AGENTS),
                        "organization": self.rng.choice(_ORGS),
                        "channel": self.rng.choice(("email", "web", "phone")),
                        "custom": {"tier": tier, "region": self.rng.choice(_REGIONS)},
                    },
                }
            ]
        )
        self.open.append(ticket)
        return ticket

    def reply(self, ticket: _Ticket, at: datetime) -> None:
        ticket.replied = True
        self._send(
            [
                {
                    "id": self._id(),
                    "ticket": ticket.name,
                    "at": at.isoformat(),
                    "type": "comment.added",
                    "actor": "agent",
                    "public": True,
                },
                {
                    "id": self._id(),
                    "ticket": ticket.name,
                    "at": at.isoformat(),
                    "type": "ticket.updated",
                    "actor": "agent",
                    "fields": {"status": "Open"},
                },
            ]
        )
        ticket.status = "Open"

    def update(self, ticket: _Ticket, at: datetime, **fields: Any) -> None:
        actor = "customer" if fields.get("status") == "Open" else "agent"
        self._send(
            [
                {
                    "id": self._id(),
                    "ticket": ticket.name,
                    "at": at.isoformat(),
                    "type": "ticket.updated",
                    "actor": actor,
                    "fields": fields,
                }
            ]
        )
        ticket.status = str(fields.get("status", ticket.status))
        if ticket.status == "Resolved":
            self.open.remove(ticket)

    def backfill(self, days: int) -> None:
        """A history so reports have something to show: most tickets handled, some late."""
        now = self.ctx.now()
        for _ in range(days * 12):
            created = now - timedelta(seconds=self.rng.uniform(3600, days * 86400))
            ticket = self.new_ticket(created)
            if self.rng.random() < 0.85:
                self.reply(ticket, created + timedelta(minutes=self.rng.expovariate(1 / 90)))
                if self.rng.random() < 0.7:
                    solved = created + timedelta(hours=self.rng.expovariate(1 / 10))
                    if solved < now:
                        self.update(ticket, solved, status="Resolved")

    def step(self) -> None:
        """One moment of traffic."""
        now = self.ctx.now()
        roll = self.rng.random()
        if roll < 0.4 or not self.open:
            # Backdated by up to 28 of its 30 minutes: warnings and breach come within minutes.
            created = now - timedelta(seconds=self.rng.uniform(0, 28 * 60))
            self.new_ticket(created, urgent_gold=self.rng.random() < 0.7)
            return
        ticket = self.rng.choice(self.open)
        if not ticket.replied:
            self.reply(ticket, now)
        elif ticket.status == "Open" and roll < 0.6:
            self.update(ticket, now, status="Waiting on customer")
        elif ticket.status == "Waiting on customer":
            self.update(ticket, now, status="Open")
        elif roll < 0.8:
            self.update(ticket, now, group="second-line", assignee=self.rng.choice(_AGENTS))
        else:
            self.update(ticket, now, status="Resolved")

    def run(self, stop: threading.Event, interval_s: float = 3.0) -> None:
        """Post traffic every ``interval_s`` until ``stop`` is set."""
        while not stop.wait(interval_s):
            try:
                self.step()
            except Exception:  # the demo must keep running; the log says what went wrong
                _LOG.exception("demo step failed")
