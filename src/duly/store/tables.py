"""The database tables, as SQLAlchemy 2 models.

Instants are stored as integer microseconds since the epoch (UTC), the unit of ``duly.core``:
they compare and sort the same on SQLite and PostgreSQL, and convert to and from the core without
rounding. JSON documents (an event's body, a clock's pauses) are stored as text so that both
databases hold byte-identical copies.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ALERTS",
    "CHANNELS",
    "CLOCKS",
    "CONFIG_VERSIONS",
    "CROSSINGS",
    "DELIVERIES",
    "DERIVE_QUEUE",
    "EVENTS",
    "TICKETS",
    "TOKENS",
    "AlertRow",
    "Base",
    "ChannelRow",
    "ClockRow",
    "ConfigVersionRow",
    "CrossingRow",
    "DeliveryRow",
    "DeriveQueueRow",
    "EventRow",
    "TicketRow",
    "TokenRow",
]

#: An auto-incrementing 64-bit key (SQLite only auto-increments a column typed INTEGER).
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ConfigVersionRow(Base):
    """Every accepted SLA-as-code text, numbered; the newest is in force."""

    __tablename__ = "config_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))


class EventRow(Base):
    """The append-only log of ticket events; ``event_id`` makes a repeated event a no-op."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    ticket: Mapped[str] = mapped_column(String(200), index=True)
    at_us: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at_us: Mapped[int] = mapped_column(BigInteger)


class DeriveQueueRow(Base):
    """A ticket with events its stored state does not reflect yet: work for the derivers.

    Written in the transaction that stores the events, so no accepted event is ever left
    underived, even if the process stops before deriving it. A deriver leases rows
    (``claimed_until_us``) while it works, so several processes share the queue, and a row whose
    deriver died is taken again once its lease runs out.
    """

    __tablename__ = "derive_queue"
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    ticket: Mapped[str] = mapped_column(String(200), index=True)
    queued_at_us: Mapped[int] = mapped_column(BigInteger)
    claimed_until_us: Mapped[int] = mapped_column(BigInteger, default=0)


class TicketRow(Base):
    """A ticket's current state, re-derived from its events whenever one arrives."""

    __tablename__ = "tickets"
    ticket: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    updated_at_us: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[str | None] = mapped_column(String(100))
    group_name: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(Text)
    events: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    config_version: Mapped[int] = mapped_column(Integer)


class ClockRow(Base):
    """One clock of a ticket, as the core computed it under ``config_version``.

    A clock is identified within its ticket by agreement, metric, cycle and start (a ``restart``
    on a priority change starts a second clock in the same cycle).
    """

    __tablename__ = "clocks"
    __table_args__ = (
        UniqueConstraint("ticket", "agreement", "metric", "cycle", "start_us"),
        Index("ix_clocks_state_due", "state", "due_us"),
    )
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    ticket: Mapped[str] = mapped_column(String(200), index=True)
    agreement: Mapped[str] = mapped_column(String(200))
    agreement_kind: Mapped[str] = mapped_column(String(8))
    policy: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(200))
    cycle: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str | None] = mapped_column(String(100))
    calendar: Mapped[str] = mapped_column(String(200))
    target_s: Mapped[float] = mapped_column(Float)
    start_us: Mapped[int] = mapped_column(BigInteger)
    due_us: Mapped[int] = mapped_column(BigInteger)
    stop_us: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    breached_at_us: Mapped[int | None] = mapped_column(BigInteger)
    business_elapsed_s: Mapped[float] = mapped_column(Float)
    calendar_elapsed_s: Mapped[float] = mapped_column(Float)
    paused_s: Mapped[float] = mapped_column(Float)
    remaining_s: Mapped[float] = mapped_column(Float)
    group_name: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(100))
    pauses: Mapped[str] = mapped_column(Text)
    attribution: Mapped[str] = mapped_column(Text)
    config_version: Mapped[int] = mapped_column(Integer)
    evaluated_at_us: Mapped[int] = mapped_column(BigInteger)


class CrossingRow(Base):
    """A threshold a running clock will cross (warning, breach, escalation), not yet fired.

    Rows are replaced whenever the ticket's clocks are re-derived; the monitor turns those whose
    time has come into alerts.
    """

    __tablename__ = "crossings"
    __table_args__ = (UniqueConstraint("alert_key"),)
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    alert_key: Mapped[str] = mapped_column(String(700))
    ticket: Mapped[str] = mapped_column(String(200), index=True)
    at_us: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    notify: Mapped[str] = mapped_column(Text)
    clock: Mapped[str] = mapped_column(Text)


class AlertRow(Base):
    """A threshold crossed by a clock: written once per clock, cycle and threshold."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    alert_key: Mapped[str] = mapped_column(String(700), unique=True)
    ticket: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    due_at_us: Mapped[int] = mapped_column(BigInteger)
    fired_at_us: Mapped[int] = mapped_column(BigInteger, index=True)
    clock: Mapped[str] = mapped_column(Text)


class DeliveryRow(Base):
    """An alert on its way to one channel: the outbox row that delivery workers claim."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_deliveries_state_next", "state", "next_attempt_us"),
    )
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_us: Mapped[int] = mapped_column(BigInteger)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until_us: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at_us: Mapped[int | None] = mapped_column(BigInteger)


class ChannelRow(Base):
    """Where alerts go: a webhook, Slack, e-mail or the log, with its settings as JSON."""

    __tablename__ = "channels"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    settings: Mapped[str] = mapped_column(Text)
    updated_at_us: Mapped[int] = mapped_column(BigInteger)


class TokenRow(Base):
    """An API token, stored as its SHA-256 only: a leaked database leaks no usable token."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(_SERIAL, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


#: The tables themselves, for Core statements (bulk inserts skip the ORM's per-row cost).
ALERTS = _table(AlertRow)
CHANNELS = _table(ChannelRow)
CLOCKS = _table(ClockRow)
CONFIG_VERSIONS = _table(ConfigVersionRow)
CROSSINGS = _table(CrossingRow)
DELIVERIES = _table(DeliveryRow)
DERIVE_QUEUE = _table(DeriveQueueRow)
EVENTS = _table(EventRow)
TICKETS = _table(TicketRow)
TOKENS = _table(TokenRow)
