"""Taking events in: validate all, store the new ones and queue their tickets, atomically.

Deriving the tickets' clocks is queued with the events, in their transaction, and done by the
derivers (``duly.service.deriver``) just after; a caller that needs the clocks at once asks
for ``derive_now``, and its tickets are derived inside the same transaction instead.

Concurrent requests are committed in groups. Each request is validated by its caller (a bad
event is refused with its request alone), then queued for the database's writer thread, which
takes everything queued and writes it in one transaction. One commit for many small requests
is what lets a single writer keep up with many clients: on SQLite writers are serialised
anyway, and on PostgreSQL each commit waits for the log to be flushed. A thread waits for its
request with an event, an asyncio task with a future, so the API needs no worker thread per
request.

Each request still gets its own answer: its own new and duplicate counts (an id sent twice in
one group counts as new for the request queued first, as if they had been committed one after
the other) and its own error. If the shared transaction fails, every request of the group is
retried alone, so one request's failure never fails another and each stays all or nothing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from duly.core.events import Event
from duly.service.clock_rows import to_us
from duly.service.collector import collector_paused
from duly.service.configs import ConfigCache
from duly.service.derive import rederive
from duly.service.deriver import wake
from duly.service.errors import InvalidError
from duly.service.event_files import event_from_mapping, event_to_mapping
from duly.store import derive_queue
from duly.store import events as event_log
from duly.store.database import Database, PerDatabase

__all__ = [
    "MAX_BATCH",
    "IngestProgress",
    "IngestResult",
    "ingest",
    "ingest_async",
    "progress",
    "validate_events",
]

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
    job = _job(items, now, derive_now)
    done = threading.Event()
    _committer(db).submit(job, configs, done.set)
    done.wait()
    return _outcome(db, job)


async def ingest_async(
    db: Database,
    configs: ConfigCache,
    items: Sequence[Any],
    now: datetime,
    *,
    derive_now: bool = False,
) -> IngestResult:
    """``ingest`` for an asyncio caller: waits on a future, not on a thread of its own.

    A large request is validated on a worker thread, so it does not hold up the event loop.
    """
    loop = asyncio.get_running_loop()
    if len(items) > _VALIDATE_INLINE:
        job = await loop.run_in_executor(None, _job, items, now, derive_now)
    else:
        job = _job(items, now, derive_now)
    finished = loop.create_future()

    def done() -> None:
        loop.call_soon_threadsafe(_resolve, finished)

    _committer(db).submit(job, configs, done)
    await finished
    return _outcome(db, job)


#: Requests of up to this many events are validated on the caller's event loop (a few tens of
#: microseconds each); bigger ones on a worker thread.
_VALIDATE_INLINE: Final = 64


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _job(items: Sequence[Any], now: datetime, derive_now: bool) -> _Job:
    """The request validated and turned into rows; refused whole on its first bad event.

    The cycle collector is paused meanwhile: a full request makes some 60,000 objects, and the
    collections they set off took a third of its validation (and up to twice as long in the
    request that sets off a full collection).
    """
    with collector_paused():
        return _validated_job(items, now, derive_now)


def _validated_job(items: Sequence[Any], now: datetime, derive_now: bool) -> _Job:
    events = validate_events(items)
    unique: dict[str, Event] = {}
    bodies: dict[str, str] = {}
    for item, event in zip(items, events, strict=True):
        if event.id not in unique:
            unique[event.id] = event
            bodies[event.id] = _body(item, event)
    received = to_us(now)
    rows = [
        {
            "event_id": e.id,
            "ticket": e.ticket,
            "at_us": to_us(e.at),
            "type": e.type,
            "body": bodies[e.id],
            "received_at_us": received,
        }
        for e in unique.values()
    ]
    return _Job(unique, rows, len(events), now, derive_now)


def _body(item: Any, event: Event) -> str:
    """The event as stored: as it was sent (it has just been read as ``event``, so it reads
    back the same), keys sorted; rebuilt from ``event`` when it is not plain JSON data."""
    if type(item) is dict:
        try:
            return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # not JSON data, or an integer beyond 64 bits
            pass
    rebuilt = event_to_mapping(event)
    try:
        return orjson.dumps(rebuilt, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(rebuilt, ensure_ascii=False, sort_keys=True)


def _outcome(db: Database, job: _Job) -> IngestResult:
    if job.error is not None:
        raise job.error
    assert job.result is not None
    if job.result.new and not job.derive_now:
        wake(db)
    return job.result


@dataclass(frozen=True)
class IngestProgress:
    """Requests waiting for a group, in the group being written, written, and the transactions
    that wrote them."""

    queued: int
    writing: int
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
    result: IngestResult | None = None
    error: BaseException | None = None


class _GroupCommit:
    """The database's writer thread: it writes whatever is queued, as one group at a time.

    The thread is started by the first request and ends after ``_IDLE_S`` without one, so an
    idle database holds no thread (tests make many).
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ready = threading.Condition()
        self._queue: list[tuple[_Job, ConfigCache, Callable[[], None]]] = []
        self._running = False
        self._writing = 0
        self._transactions = 0
        self._requests = 0

    def progress(self) -> IngestProgress:
        with self._ready:
            return IngestProgress(
                len(self._queue), self._writing, self._requests, self._transactions
            )

    def submit(self, job: _Job, configs: ConfigCache, done: Callable[[], None]) -> None:
        """Queue ``job``; ``done`` is called (on the writer thread) once it has an outcome."""
        with self._ready:
            self._queue.append((job, configs, done))
            if self._running:
                self._ready.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="duly-ingest-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(_IDLE_S)
                if not self._queue:
                    self._running = False
                    return
                group = self._take()
                self._writing = len(group)
            jobs = [job for job, _, _ in group]
            try:
                self._write_group(jobs, group[0][1])
            except BaseException as exc:  # an interrupt: nobody may be left waiting
                for job in jobs:
                    if job.result is None and job.error is None:
                        job.error = exc
            with self._ready:
                self._requests += len(group)
                self._writing = 0
            for _, _, done in group:
                done()

    def _take(self) -> list[tuple[_Job, ConfigCache, Callable[[], None]]]:
        """The queued requests, oldest first, up to the group's size (always at least one)."""
        taken, total = 0, 0
        for queued, _, _ in self._queue:
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


#: Seconds the writer thread waits for a request before it ends.
_IDLE_S: Final = 2.0


def _write(db: Database, configs: ConfigCache, jobs: list[_Job]) -> None:
    """One transaction for ``jobs``; their results are set only once it has committed.

    An id offered by two jobs of the group belongs to the first (as if they had been
    committed one after the other).
    """
    if len(jobs) == 1:
        offered = [jobs[0].rows]
    else:
        offered, seen = [], set[str]()
        for job in jobs:
            mine = [row for row in job.rows if row["event_id"] not in seen]
            seen.update(row["event_id"] for row in mine)
            offered.append(mine)
    rows = [row for mine in offered for row in mine] if len(offered) > 1 else offered[0]
    now = max(job.now for job in jobs)
    results: list[tuple[int, set[str]]] = []
    with db.write() as connection:
        new = event_log.append_events(connection, rows)
        queued: set[str] = set()
        now_events: dict[str, list[Event]] = {}
        for job, mine in zip(jobs, offered, strict=True):
            if len(new) == len(rows):  # nothing was stored before: no need to ask each id
                events = [job.unique[row["event_id"]] for row in mine]
            else:
                events = [job.unique[row["event_id"]] for row in mine if row["event_id"] in new]
            tickets = {event.ticket for event in events}
            results.append((len(events), tickets))
            if job.derive_now:
                for event in events:
                    now_events.setdefault(event.ticket, []).append(event)
            else:
                queued |= tickets
        derive_queue.enqueue(connection, queued - now_events.keys(), to_us(now))
        if now_events:
            loaded = configs.current(connection)
            rederive(connection, now_events.keys(), loaded, now, fresh=now_events)
    for job, (count, tickets) in zip(jobs, results, strict=True):
        job.result = IngestResult(new=count, duplicates=job.count - count, tickets=len(tickets))


#: The database's group committer (one per ``Database``, so per engine and process).
_committer: Final = PerDatabase(_GroupCommit)
