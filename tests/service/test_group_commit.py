"""Concurrent ingestion is committed in groups, and each request keeps its own answer.

The test holds the database's write lock while several requests arrive on their own threads,
so that they queue behind the first; released, they are written together. Times as in
``test_ingest_service``: Monday 2 March 2026 in Stockholm, an office calendar 09:00-17:00.
"""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from duly.core.clocks import evaluate_ticket
from duly.service.clock_rows import row_to_clock
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.errors import InvalidError
from duly.service.event_files import event_from_mapping
from duly.service.ingest import IngestResult, ingest, progress
from duly.store import clocks as stored
from duly.store import events
from duly.store.database import Database
from service.test_ingest_service import CONFIG, created, mon, reply, snapshot


@pytest.fixture
def configs(db: Database) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG, "alice", mon(8))
    return cache


@contextmanager
def writes_held(db: Database) -> Iterator[None]:
    """Hold the write lock: on SQLite the writer lock, on PostgreSQL a lock on the event log."""
    with db.write() as connection:
        if not db.is_sqlite:
            connection.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))
        yield


def concurrently(db: Database, calls: list[Callable[[], IngestResult]]) -> list[Any]:
    """Start every call on its own thread while writes are held; each call's result or error.

    The first call is taken by the writer thread, which then waits for the lock; every other
    call is queued behind it before the lock is released, so the rest are written as one group.
    """
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:
            outcomes[i] = exc

    before = progress(db)
    with writes_held(db):
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        threads[0].start()
        wait_until(lambda: progress(db).writing == 1 or finished(outcomes) > 0)
        for thread in threads[1:]:
            thread.start()
        wait_until(lambda: progress(db).queued >= len(calls) - 1 - finished(outcomes))
    for thread in threads:
        thread.join()
    after = progress(db)
    outcomes.append(after.transactions - before.transactions)
    return outcomes


def finished(outcomes: list[Any]) -> int:
    return sum(1 for o in outcomes if o is not None)


def wait_until(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    while not condition():
        event.wait(0.01)


def request(db: Database, configs: ConfigCache, items: list[dict]) -> Callable[[], IngestResult]:
    return lambda: ingest(db, configs, items, mon(12))


def core_clocks(db: Database, configs: ConfigCache, items: list[dict], ticket: str) -> list:
    events = [event_from_mapping(i) for i in items if i["ticket"] == ticket]
    with db.read() as connection:
        loaded = configs.current(connection)
    return sorted(
        (
            (c.agreement, c.metric, c.cycle, c.state, c.due, c.stop, c.business_elapsed_s)
            for c in evaluate_ticket(events, loaded.config, mon(12))
        ),
    )


def stored_clocks(db: Database, ticket: str) -> list:
    with db.read() as connection:
        rows = stored.clocks_of(connection, ticket)
    clocks = [row_to_clock(r) for r in rows]
    return sorted(
        (c.agreement, c.metric, c.cycle, c.state, c.due, c.stop, c.business_elapsed_s)
        for c in clocks
    )


def test_concurrent_requests_are_written_together_and_give_the_clocks_the_core_gives(db, configs):
    requests = [
        [created("a1", "T-1", mon(9))],
        [created("b1", "T-2", mon(9, 10))],
        [reply("a2", "T-1", mon(10))],
        [created("c1", "T-3", mon(9, 20)), reply("c2", "T-3", mon(11))],
        [reply("b2", "T-2", mon(9, 40))],
    ]
    *results, transactions = concurrently(db, [request(db, configs, r) for r in requests])

    assert [(r.new, r.duplicates) for r in results] == [(1, 0), (1, 0), (1, 0), (2, 0), (1, 0)]
    # The first request was a group of its own; the four queued behind it made one more.
    assert transactions == 2
    everything = [item for r in requests for item in r]
    for ticket in ("T-1", "T-2", "T-3"):
        assert stored_clocks(db, ticket) == core_clocks(db, configs, everything, ticket)


def test_the_same_id_in_two_grouped_requests_is_new_for_the_first_queued_only(db, configs):
    first = request(db, configs, [created("e0", "T-0", mon(9))])
    a = request(db, configs, [created("e1", "T-1", mon(9))])
    b = request(db, configs, [created("e1", "T-1", mon(9)), reply("e2", "T-1", mon(10))])
    *results, _ = concurrently(db, [first, a, b])

    news = sorted((r.new, r.duplicates) for r in results)
    assert news == [(1, 0), (1, 0), (1, 1)]


def test_a_repeated_request_changes_nothing_after_a_group(db, configs):
    requests = [[created(f"e{i}", f"T-{i}", mon(9))] for i in range(4)]
    concurrently(db, [request(db, configs, r) for r in requests])
    before = snapshot(db)

    *results, _ = concurrently(db, [request(db, configs, r) for r in requests])

    assert [(r.new, r.duplicates) for r in results] == [(0, 1)] * 4
    assert snapshot(db) == before


def test_a_bad_request_among_concurrent_ones_is_refused_alone(db, configs):
    bad = {**created("x1", "T-9", mon(9)), "at": "yesterday"}
    calls = [
        request(db, configs, [created("e1", "T-1", mon(9))]),
        request(db, configs, [created("e2", "T-2", mon(9))]),
        request(db, configs, [created("e3", "T-3", mon(9)), bad]),
        request(db, configs, [created("e4", "T-4", mon(9))]),
    ]
    outcomes = [None] * len(calls)
    with writes_held(db):
        threads = [
            threading.Thread(target=lambda i=i: outcomes.__setitem__(i, safely(calls[i])))
            for i in range(len(calls))
        ]
        for thread in threads:
            thread.start()
        # The bad request is refused before it is queued: it does not wait for the lock.
        wait_until(lambda: outcomes[2] is not None)
        assert isinstance(outcomes[2], InvalidError)
    for thread in threads:
        thread.join()

    assert [(o.new, o.duplicates) for i, o in enumerate(outcomes) if i != 2] == [(1, 0)] * 3
    with db.read() as connection:
        assert stored.ticket(connection, "T-3") is None
        assert stored.ticket(connection, "T-4") is not None


def safely(call: Callable[[], IngestResult]) -> Any:
    try:
        return call()
    except Exception as exc:
        return exc


@pytest.fixture(params=["insert", "copy"])
def append_path(request, monkeypatch) -> str:
    """PostgreSQL appends a few rows by one INSERT and many by COPY: each test runs both."""
    if request.param == "copy":
        monkeypatch.setattr(events, "_COPY_FROM", 1)
    return str(request.param)


def test_a_request_the_database_refuses_fails_alone_and_the_rest_of_its_group_is_stored(
    db, configs, append_path
):
    if db.is_sqlite:
        pytest.skip("SQLite does not enforce column lengths: nothing passes checks and then fails")
    too_long = "T-" + "x" * 300
    calls = [
        request(db, configs, [created("e0", "T-0", mon(9))]),
        request(db, configs, [created("e1", "T-1", mon(9))]),
        request(db, configs, [created("e2", too_long, mon(9)), created("e3", "T-3", mon(9))]),
        request(db, configs, [created("e4", "T-4", mon(9))]),
    ]
    results = concurrently(db, calls)[:-1]

    assert isinstance(results[2], sa.exc.DBAPIError)
    assert [(r.new, r.duplicates) for i, r in enumerate(results) if i != 2] == [(1, 0)] * 3
    with db.read() as connection:
        assert stored.ticket(connection, "T-3") is None
        assert stored.ticket(connection, "T-4") is not None


def test_two_writers_on_one_ticket_at_once_both_succeed_and_the_clocks_include_both(db, configs):
    # A second Database is what a second API process has: its own engine and its own group.
    other = Database(db.url.render_as_string(hide_password=False))
    try:
        first = [created("e1", "T-1", mon(9))]
        ingest(db, configs, first, mon(12))
        mine = request(db, configs, [reply("e2", "T-1", mon(10))])
        theirs = lambda: ingest(other, ConfigCache(), [reply("e3", "T-1", mon(11))], mon(12))  # noqa: E731
        outcomes: list[Any] = [None, None]
        with writes_held(db):
            threads = [
                threading.Thread(target=lambda: outcomes.__setitem__(0, safely(mine))),
                threading.Thread(target=lambda: outcomes.__setitem__(1, safely(theirs))),
            ]
            for thread in threads:
                thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.dispose()

    assert [(o.new, o.duplicates) for o in outcomes] == [(1, 0), (1, 0)]
    everything = [*first, reply("e2", "T-1", mon(10)), reply("e3", "T-1", mon(11))]
    assert stored_clocks(db, "T-1") == core_clocks(db, configs, everything, "T-1")
    with db.read() as connection:
        row = stored.ticket(connection, "T-1")
    assert row is not None
    assert row.events == 3


def test_an_id_another_writer_stores_meanwhile_is_a_duplicate_and_stored_once(
    db, configs, append_path
):
    # PostgreSQL's writers look up which ids are stored and copy the rest in; an id another
    # process is storing at that moment is found only by the copy, which then waits for it.
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: nothing is stored between look-up and copy")
    other = Database(db.url.render_as_string(hide_password=False))
    theirs = created("e1", "T-1", mon(8))
    body = json.dumps(theirs, sort_keys=True)
    row = {
        "event_id": "e1",
        "ticket": "T-1",
        "at_us": 0,
        "type": theirs["type"],
        "body": body,
        "received_at_us": 0,
    }
    outcome: list[Any] = [None]
    mine = request(db, configs, [created("e1", "T-1", mon(9)), reply("e2", "T-1", mon(10))])
    try:
        with other.write() as connection:
            assert events.append_events(connection, [row]) == {"e1"}
            thread = threading.Thread(target=lambda: outcome.__setitem__(0, safely(mine)))
            thread.start()
            wait_until(lambda: waiting_for_a_lock(other))
        thread.join()
    finally:
        other.dispose()

    assert not isinstance(outcome[0], Exception), repr(outcome[0])
    assert (outcome[0].new, outcome[0].duplicates) == (1, 1)
    with db.read() as connection:
        assert events.event_bodies(connection, ["T-1"])["T-1"][0] == body
        assert events.count_events(connection) == 2


def waiting_for_a_lock(db: Database) -> bool:
    with db.read() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        return bool(connection.exec_driver_sql(query).scalar_one())
