"""Deriving queued tickets: what turns accepted events into stored clocks, behind ingestion.

An ingest request stores its events and queues their tickets in one short transaction, and
answers; deriving (reading a ticket's events back, running the core, replacing its rows) costs
several times more and is done here instead, a chunk of tickets at a time:

1. lease queued rows (a short write transaction);
2. read the tickets' events and run the core, with no transaction or lock held, so ingestion
   goes on meanwhile;
3. store the result in a write transaction, for each ticket only if no event arrived for it
   since step 2 read its events and the config version is still the one it ran under. A ticket
   that changed meanwhile has a newer queue row, so it is derived again, never stored stale.

A ``Deriver`` thread drains the queue in the server as soon as ingestion wakes it; readers call
``settle`` first, so an answer never misses an event accepted before it was asked for; the
monitor settles before it fires, so an alert is never missed either. Any number of processes
may drain one PostgreSQL queue at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Final

from duly.service.clock_rows import to_us
from duly.service.collector import collector_paused
from duly.service.configs import ConfigCache
from duly.service.derive import derive, parse_bodies, store_derivation
from duly.store import clocks as stored
from duly.store import derive_queue as queue
from duly.store import events as event_log
from duly.store.database import Database, PerDatabase

__all__ = ["Deriver", "backlog", "drain_once", "settle", "wake"]

_LOG: Final = logging.getLogger("duly.deriver")
#: Tickets derived per chunk: enough to share each transaction's fixed cost, few enough that
#: storing a chunk holds SQLite's single writer for a few milliseconds only. PostgreSQL's
#: writers do not wait for each other, and its round trips cost more: there, bigger chunks
#: derive half as fast again (12,500 -> 20,000 events/s, 8 events a ticket).
CHUNK: Final = 128
POSTGRESQL_CHUNK: Final = 512


def chunk_size(db: Database) -> int:
    """Tickets a deriver takes at once on ``db``."""
    return CHUNK if db.is_sqlite else POSTGRESQL_CHUNK


#: How long a deriver may hold leased rows before another deriver takes them.
LEASE_S: Final = 60.0
#: How long a reader waits for the queue to drain before answering from what is derived.
SETTLE_S: Final = 5.0


def drain_once(
    db: Database,
    configs: ConfigCache,
    now: datetime,
    *,
    limit: int | None = None,
    tickets: Collection[str] | None = None,
    through: int | None = None,
) -> int:
    """Lease up to ``limit`` queued rows (``chunk_size`` if not given), derive their tickets
    and store them; rows handled.

    0 means nothing was claimable (the queue is empty, or every row is leased by another
    deriver). ``tickets`` restricts the claim to those tickets, ``through`` to rows up to it.
    """
    now_us = to_us(now)
    with db.write() as connection:
        size = chunk_size(db) if limit is None else limit
        claim = queue.claim(connection, now_us, int(LEASE_S * 1e6), size, tickets, through)
    if not claim.ids:
        return 0
    try:
        with db.read() as connection:
            loaded = configs.current(connection)
            found = event_log.sequenced_bodies(connection, claim.tickets)
        with collector_paused():  # many short-lived objects, none in a cycle
            events = {
                name: parse_bodies(found[name][1]) if name in found else []
                for name in claim.tickets
            }
            derivation = derive(events, loaded, now)
        with db.write() as connection:
            stored.lock_tickets(connection, claim.tickets)
            if configs.current(connection).version != loaded.version:
                # A new config arrived meanwhile: derive again under it.
                queue.release(connection, claim.ids)
                return len(claim.ids)
            last = event_log.last_seqs(connection, claim.tickets)
            stale = {
                name for name in claim.tickets if last.get(name) != found.get(name, (None,))[0]
            }
            if stale:
                derivation = derivation.without(stale)
            store_derivation(connection, derivation)
            queue.finish(connection, claim.ids)
    except BaseException:
        # Hand the rows back at once rather than after the lease: nothing of them was stored.
        with db.write() as connection:
            queue.release(connection, claim.ids)
        raise
    return len(claim.ids)


def settle(
    db: Database,
    configs: ConfigCache,
    now: datetime,
    *,
    tickets: Collection[str] | None = None,
    budget_s: float = SETTLE_S,
) -> int:
    """Derive what was queued before this call (of ``tickets``, or all); rows left waiting.

    Rows queued later are not waited for, so a reader is not held up by a steady stream of
    events. Rows another deriver holds are waited for up to ``budget_s``; past that the caller
    reads what is derived so far (an answer, just not yet with the newest events).
    """
    with db.read() as connection:
        through = queue.last_id(connection)
    if through is None:
        return 0
    deadline = time.monotonic() + budget_s
    while True:
        drained = drain_once(db, configs, now, tickets=tickets, through=through)
        if drained and time.monotonic() < deadline:
            continue
        with db.read() as connection:
            left = queue.backlog(connection, tickets, through)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.002)


def backlog(db: Database) -> int:
    """Queued rows: tickets with events not derived yet (for health checks and metrics)."""
    with db.read() as connection:
        return queue.backlog(connection)


class _Signal:
    """Wakes this process's derivers when ingestion has queued something."""

    def __init__(self) -> None:
        self.event = threading.Event()


_signal: Final = PerDatabase(lambda _db: _Signal())


def wake(db: Database) -> None:
    """Tell this process's derivers on ``db`` that there is work (called after an ingest)."""
    _signal(db).event.set()


class Deriver:
    """A thread that drains the derive queue whenever woken, and every ``poll_s`` regardless.

    The poll picks up rows queued by other processes, and rows whose deriver died.
    """

    def __init__(
        self,
        db: Database,
        configs: ConfigCache,
        clock: Callable[[], datetime],
        *,
        poll_s: float = 0.5,
    ) -> None:
        self.db = db
        self.configs = configs
        self.clock = clock
        self.poll_s = poll_s
        self.derived = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Deriver:
        self._thread = threading.Thread(target=self.run, name="duly-deriver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        _signal(self.db).event.set()
        if self._thread is not None:
            self._thread.join(30)

    def run(self) -> None:
        signal = _signal(self.db)
        while not self._stopping.is_set():
            signal.event.wait(self.poll_s)
            signal.event.clear()
            try:
                while not self._stopping.is_set():
                    done = drain_once(self.db, self.configs, self.clock())
                    if not done:
                        break
                    self.derived += done
            except Exception:  # a bad moment for the database: try again at the next wake
                _LOG.exception("deriving queued tickets failed; retrying")
                self._stopping.wait(1.0)
