"""Taking events in: validate all, store the new ones and queue their tickets, atomically.

Deriving the tickets' clocks is queued with the events, in their transaction, and done by the
derivers (``duly.service.deriver``) just after; a caller that needs the clocks at once asks
for ``derive_now``, and its tickets are derived inside the same transaction instead.

Concurrent requests are committed in groups. Each request is validated on its own thread (a
bad event is refused with its request alone), then queued; whichever thread finds no group in
flight takes everything queued and writes it in one transaction with one re-derive over all
the tickets touched. One commit and one pass of the engine for many small requests is what lets
a single writer keep up with many clients: on SQLite writers are serialised anyway, and on
PostgreSQL concurrent re-derives of the same ticket would only wait on each other's row locks.

Each request still gets its own answer: its own new and duplicate counts (an id sent twice in
one group counts as new for the request queued first, as if they had been committed one after
the other) and its own error. If the shared transaction fails, every request of the group is
retried alone, so one request's failure never fails another and each stays all or nothing.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from duly.core.events import Event
from duly.service.clock_rows import to_us
from duly.service.configs import ConfigCache
from duly.service.derive import rederive
from duly.service.deriver import wake
from duly.service.errors import InvalidError
from duly.service.event_files import event_from_mapping, event_to_mapping
from duly.store import derive_queue
from duly.store import events as event_log
from duly.store.database import Database

__all__ = ["MAX_BATCH", "IngestProgress", "IngestResult", "ingest", "progress", "validate_events"]

#: The most events one request may carry: enough for a backfill page, small enough to stay one
#: short transaction.
MAX_BATCH: Final = 10_000

#: A group stops taking requests once it holds this many events (a request is never split), so
#: a group's transaction stays about as short as one full request's.
_GROUP_EVENTS: Final = MAX_BATCH


@dataclass(frozen=True)
class IngestResult:
    """How many events were new and how many repeated an id already stored (or in the batch)."""

    new: int
    duplicates: int
    tickets: int


def validate_events(items: Sequence[Any]) -> list[Event]:
    """Every item as an event; the first bad one is refused with its index and field."""
    if len(items) > MAX_BATCH:
        raise InvalidError(f"at most {MAX_BATCH} events per request, not {len(items)}", "events")
    events: list[Event] = []
    single = len(items) == 1
    for index, item in enumerate(items):
        prefix = "" if single else f"[{index}]"
        try:
            events.append(event_from_mapping(item))
        except ValueError as exc:
            text = str(exc)
            name, _, reason = text.partition(": ")
            field = name if reason and " " not in name else "event"
            raise InvalidError(f"event{prefix}: {text}", f"{prefix}.{field}".lstrip(".")) from exc
    return events


def ingest(
    db: Database,
    configs: ConfigCache,
    items: Sequence[Any],
    now: datetime,
    *,
    derive_now: bool = True,
) -> IngestResult:
    """Store the events whose id is new, and queue their tickets for deriving.

    With ``derive_now`` the tickets are derived in the same transaction, so their clocks are
    stored when this returns; without, this process's deriver is woken and derives them
    moments later (and any read settles the queue first, so no answer misses them).
    All or nothing: one bad event refuses the whole request before anything is written, and a
    failure while storing rolls everything back. Requests arriving together share a transaction
    (see the module's notes) but keep their own results and errors.
    """
    events = validate_events(items)
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.id, event)
    received = to_us(now)
    rows = [
        {
            "event_id": e.id,
            "ticket": e.ticket,
            "at_us": to_us(e.at),
            "type": e.type,
            "body": json.dumps(event_to_mapping(e), ensure_ascii=False, sort_keys=True),
            "received_at_us": received,
        }
        for e in unique.values()
    ]
    job = _Job(unique, rows, len(events), now, derive_now)
    result = _committer(db).run(job, configs)
    if result.new and not derive_now:
        wake(db)
    return result


@dataclass(frozen=True)
class IngestProgress:
    """Requests waiting for a group, requests written and the transactions that wrote them."""

    queued: int
    requests: int
    transactions: int


def progress(db: Database) -> IngestProgress:
    """How ingestion into ``db`` by this process is grouping requests (for operators and tests)."""
    return _committer(db).progress()


@dataclass(eq=False)
class _Job:
    """One request's validated events, waiting to be written, and then its outcome."""

    unique: dict[str, Event]
    rows: list[dict[str, Any]]
    count: int
    now: datetime
    derive_now: bool
    done: bool = False
    result: IngestResult | None = None
    error: BaseException | None = None


class _GroupCommit:
    """Leader and followers: the thread that finds no group in flight writes all that is queued.

    No writer thread of its own: a request's thread either leads a group (its own request and
    any queued behind the previous group) or waits for the group holding its request to finish.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ready = threading.Condition()
        self._queue: list[_Job] = []
        self._busy = False
        self._transactions = 0
        self._requests = 0

    def progress(self) -> IngestProgress:
        with self._ready:
            return IngestProgress(len(self._queue), self._requests, self._transactions)

    def run(self, job: _Job, configs: ConfigCache) -> IngestResult:
        with self._ready:
            self._queue.append(job)
            while not job.done and self._busy:
                self._ready.wait()
            if not job.done:
                self._busy = True
                group = self._take()
        if not job.done:
            try:
                self._write_group(group, configs)
            except BaseException as exc:  # an interrupt: nobody may be left waiting
                for waiting in group:
                    if not waiting.done:
                        waiting.error = exc
            finally:
                with self._ready:
                    self._requests += len(group)
                    for waiting in group:
                        waiting.done = True
                    self._busy = False
                    self._ready.notify_all()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _take(self) -> list[_Job]:
        """The queued requests, oldest first, up to the group's size (always at least one)."""
        taken, total = 0, 0
        for queued in self._queue:
            if taken and total + queued.count > _GROUP_EVENTS:
                break
            taken += 1
            total += queued.count
        group, self._queue = self._queue[:taken], self._queue[taken:]
        return group

    def _write_group(self, group: list[_Job], configs: ConfigCache) -> None:
        try:
            self._transactions += 1
            _write(self._db, configs, group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
                return
            # Something in the shared transaction failed: each request alone, so that it
            # succeeds or fails on its own events only.
            for job in group:
                try:
                    self._transactions += 1
                    _write(self._db, configs, [job])
                except Exception as alone:
                    job.error = alone


def _write(db: Database, configs: ConfigCache, jobs: list[_Job]) -> None:
    """One transaction for ``jobs``; their results are set only once it has committed."""
    owner: dict[str, _Job] = {}
    rows: list[dict[str, Any]] = []
    fresh: dict[str, Event] = {}
    for job in jobs:
        for row in job.rows:
            if row["event_id"] not in owner:
                owner[row["event_id"]] = job
                rows.append(row)
                fresh[row["event_id"]] = job.unique[row["event_id"]]
    now = max(job.now for job in jobs)
    with db.write() as connection:
        new = event_log.append_events(connection, rows)
        stored: dict[str, list[Event]] = {}
        now_tickets: set[str] = set()
        for event_id in new:
            ticket = fresh[event_id].ticket
            stored.setdefault(ticket, []).append(fresh[event_id])
            if owner[event_id].derive_now:
                now_tickets.add(ticket)
        derive_queue.enqueue(connection, stored.keys() - now_tickets, to_us(now))
        if now_tickets:
            rederive(
                connection,
                now_tickets,
                configs.current(connection),
                now,
                fresh={t: stored[t] for t in now_tickets},
            )
    counts: dict[int, int] = {}
    touched: dict[int, set[str]] = {}
    for event_id in new:
        job = owner[event_id]
        counts[id(job)] = counts.get(id(job), 0) + 1
        touched.setdefault(id(job), set()).add(fresh[event_id].ticket)
    for job in jobs:
        n = counts.get(id(job), 0)
        job.result = IngestResult(
            new=n, duplicates=job.count - n, tickets=len(touched.get(id(job), ()))
        )


_COMMITTERS: weakref.WeakKeyDictionary[Database, _GroupCommit] = weakref.WeakKeyDictionary()
_COMMITTERS_LOCK: Final = threading.Lock()


def _committer(db: Database) -> _GroupCommit:
    """The database's group committer (one per ``Database``, so per engine and process)."""
    with _COMMITTERS_LOCK:
        committer = _COMMITTERS.get(db)
        if committer is None:
            committer = _COMMITTERS[db] = _GroupCommit(db)
        return committer
