"""Deriving behind ingestion: queued tickets become the clocks an inline derive would store.

Times as in ``test_ingest_service``: Monday 2 March 2026 in Stockholm, an office calendar
09:00-17:00, first reply within 2 office hours and resolution within 8. Races (an event or a
config arriving while a deriver computes) are staged by running the real ingest or config change
from inside the deriver's compute step, so the interleaving is exactly the one under test.
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from databases import fresh_database
from duly.service import deriver
from duly.service.clock_rows import to_us
from duly.service.config_changes import put_config
from duly.service.configs import ConfigCache
from duly.service.deriver import Deriver, drain_once, settle
from duly.service.ingest import ingest
from duly.service.queries import clock_queue, ticket_view
from duly.store import clocks as stored
from duly.store import derive_queue
from duly.store.clocks import ClockFilter
from duly.store.database import Database
from service.test_ingest_service import (
    CONFIG,
    comparable,
    created,
    event,
    mon,
    reply,
    snapshot,
    story,
)


@pytest.fixture
def configs(db: Database) -> ConfigCache:
    cache = ConfigCache()
    put_config(db, cache, CONFIG, "alice", mon(8))
    return cache


def queued(db: Database) -> int:
    with db.read() as connection:
        return derive_queue.backlog(connection)


def stored_clocks(db: Database, ticket: str) -> list[tuple]:
    with db.read() as connection:
        return sorted(comparable(c) for c in stored.clocks_of(connection, ticket))


def ticket_row(db: Database, ticket: str) -> Any:
    with db.read() as connection:
        return stored.ticket(connection, ticket)


def inline(folder: Path, items: list[dict], now: datetime) -> dict[str, list[tuple]]:
    """What ``derive_now`` stores for ``items`` in a database of its own: the reference."""
    folder.mkdir()
    with fresh_database("sqlite", folder) as other:
        cache = ConfigCache()
        put_config(other, cache, CONFIG, "alice", mon(8))
        ingest(other, cache, items, now, derive_now=True)
        return {name: stored_clocks(other, name) for name in {e["ticket"] for e in items}}


@pytest.fixture
def reference(tmp_path: Path) -> Callable[[list[dict], datetime], list[tuple]]:
    """The clocks an inline derive stores for one ticket's events."""
    count = iter(range(1000))

    def clocks(items: list[dict], now: datetime) -> list[tuple]:
        return inline(tmp_path / f"reference-{next(count)}", items, now)[items[0]["ticket"]]

    return clocks


# --- queued, then derived ------------------------------------------------------------------------


def test_a_deferred_ingest_stores_the_events_and_queues_the_ticket_without_clocks(db, configs):
    result = ingest(db, configs, story("T-1"), mon(14), derive_now=False)

    assert (result.new, result.duplicates, result.tickets) == (5, 0, 1)
    assert queued(db) == 1
    assert stored_clocks(db, "T-1") == []
    assert ticket_row(db, "T-1") is None


def test_draining_stores_exactly_what_an_inline_derive_stores(db, configs, reference):
    ingest(db, configs, story("T-1"), mon(14), derive_now=False)

    assert drain_once(db, configs, mon(14)) == 1

    assert queued(db) == 0
    assert stored_clocks(db, "T-1") == reference(story("T-1"), mon(14))
    assert ticket_row(db, "T-1").status == "solved"
    assert ticket_row(db, "T-1").events == 5


def test_duplicates_queue_nothing(db, configs):
    ingest(db, configs, story("T-1"), mon(14))
    before = snapshot(db)

    result = ingest(db, configs, story("T-1"), mon(15), derive_now=False)

    assert (result.new, result.duplicates) == (0, 5)
    assert queued(db) == 0
    assert snapshot(db) == before


def test_a_ticket_queued_by_several_requests_is_derived_once_from_all_its_events(
    db, configs, reference
):
    for item in story("T-1"):
        ingest(db, configs, [item], mon(14), derive_now=False)
    assert queued(db) == 5

    assert drain_once(db, configs, mon(14)) == 5

    assert queued(db) == 0
    assert stored_clocks(db, "T-1") == reference(story("T-1"), mon(14))


def test_a_drain_takes_at_most_its_limit_oldest_first(db, configs):
    for n in range(5):
        ingest(db, configs, [created(f"e{n}", f"T-{n}", mon(9))], mon(10), derive_now=False)

    assert drain_once(db, configs, mon(10), limit=2) == 2

    assert queued(db) == 3
    assert [n for n in range(5) if ticket_row(db, f"T-{n}") is not None] == [0, 1]


# --- reads see every accepted event --------------------------------------------------------------


def test_reading_a_ticket_derives_it_first(db, configs, reference):
    ingest(db, configs, story("T-1"), mon(14), derive_now=False)
    ingest(db, configs, [created("x1", "T-2", mon(9))], mon(14), derive_now=False)

    view = ticket_view(db, configs, "T-1", mon(14))

    assert view["status"] == "solved"
    assert len(view["clocks"]) == len(reference(story("T-1"), mon(14)))
    # Only the ticket asked for was derived.
    assert queued(db) == 1
    assert ticket_row(db, "T-2") is None


def test_reading_the_queue_derives_everything_queued_before(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)
    ingest(db, configs, [created("e2", "T-2", mon(9, 30))], mon(10), derive_now=False)

    page = clock_queue(db, configs, ClockFilter(), mon(10))

    # Soonest breach first: first replies due 11:00 and 11:30, resolutions 17:00 and 17:30.
    assert [(c["ticket"], c["metric"]) for c in page["clocks"]] == [
        ("T-1", "first_reply"),
        ("T-2", "first_reply"),
        ("T-1", "resolution"),
        ("T-2", "resolution"),
    ]
    assert queued(db) == 0


def test_settle_does_not_wait_for_rows_queued_after_it_began(db, configs, monkeypatch):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)
    real = deriver.derive
    late: list[int] = []

    def derive_then_ingest(*args: Any, **kwargs: Any) -> Any:
        # Another request arrives while the first row is being derived.
        if not late:
            late.append(1)
            ingest(db, configs, [created("e2", "T-2", mon(9))], mon(10), derive_now=False)
        return real(*args, **kwargs)

    monkeypatch.setattr(deriver, "derive", derive_then_ingest)

    assert settle(db, configs, mon(10)) == 0

    assert ticket_row(db, "T-1") is not None
    assert ticket_row(db, "T-2") is None
    assert queued(db) == 1


# --- races: nothing stale is ever stored ---------------------------------------------------------


def test_an_event_arriving_while_a_ticket_is_derived_keeps_the_stale_result_out(
    db, configs, reference, monkeypatch
):
    first = [created("e1", "T-1", mon(9))]
    ingest(db, configs, first, mon(14), derive_now=False)
    real = deriver.derive

    def derive_then_ingest(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        monkeypatch.setattr(deriver, "derive", real)
        # The reply is stored after the deriver read T-1's events but before it stores.
        ingest(db, configs, [reply("e2", "T-1", mon(9, 30))], mon(14), derive_now=False)
        return outcome

    monkeypatch.setattr(deriver, "derive", derive_then_ingest)

    assert drain_once(db, configs, mon(14)) == 1

    # Not stored: it would have shown the first reply as still missing.
    assert ticket_row(db, "T-1") is None
    assert queued(db) == 1
    assert drain_once(db, configs, mon(14)) == 1
    both = [*first, reply("e2", "T-1", mon(9, 30))]
    assert stored_clocks(db, "T-1") == reference(both, mon(14))


def test_an_inline_derive_during_a_deferred_one_wins(db, configs, reference, monkeypatch):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(14), derive_now=False)
    real = deriver.derive

    def derive_then_ingest_inline(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        monkeypatch.setattr(deriver, "derive", real)
        ingest(db, configs, [reply("e2", "T-1", mon(9, 30))], mon(14), derive_now=True)
        return outcome

    monkeypatch.setattr(deriver, "derive", derive_then_ingest_inline)
    drain_once(db, configs, mon(14))

    both = [created("e1", "T-1", mon(9)), reply("e2", "T-1", mon(9, 30))]
    assert stored_clocks(db, "T-1") == reference(both, mon(14))
    assert queued(db) == 0


def test_a_config_stored_while_deriving_sends_the_tickets_round_again(db, configs, monkeypatch):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)
    real = deriver.derive
    stricter = CONFIG.replace("first_reply: {within: 2h", "first_reply: {within: 1h")

    def derive_then_change_config(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        monkeypatch.setattr(deriver, "derive", real)
        put_config(db, ConfigCache(), stricter, "bob", mon(10))
        return outcome

    monkeypatch.setattr(deriver, "derive", derive_then_change_config)
    drain_once(db, configs, mon(10))
    settle(db, configs, mon(10))

    with db.read() as connection:
        clocks = {c.metric: c for c in stored.clocks_of(connection, "T-1")}
    assert clocks["first_reply"].config_version == 2
    assert clocks["first_reply"].target_s == 3600
    assert queued(db) == 0


def test_a_new_config_derives_queued_tickets_that_have_no_state_yet(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)
    stricter = CONFIG.replace("first_reply: {within: 2h", "first_reply: {within: 1h")

    accepted = put_config(db, configs, stricter, "bob", mon(10))

    assert accepted.tickets == 1
    assert queued(db) == 0
    with db.read() as connection:
        clocks = {c.metric: c for c in stored.clocks_of(connection, "T-1")}
    assert clocks["first_reply"].config_version == 2


# --- leases and failures -------------------------------------------------------------------------


def test_rows_a_dead_deriver_leased_are_taken_again_once_the_lease_runs_out(db, configs):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)
    with db.write() as connection:
        taken = derive_queue.claim(connection, to_us(mon(10)), int(deriver.LEASE_S * 1e6), 10)
    assert taken.tickets == ("T-1",)
    # The deriver holding the row died: nobody else takes it while its lease runs...
    assert drain_once(db, configs, mon(10)) == 0
    # ...and the next deriver does once it has run out (claims count from ``now``).
    later = mon(10) + timedelta(seconds=deriver.LEASE_S + 1)
    assert drain_once(db, configs, later) == 1
    assert ticket_row(db, "T-1") is not None


def test_a_failure_while_deriving_stores_nothing_and_hands_the_rows_back(db, configs, monkeypatch):
    ingest(db, configs, [created("e1", "T-1", mon(9))], mon(10), derive_now=False)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the core failed")

    monkeypatch.setattr(deriver, "derive", broken)
    with pytest.raises(RuntimeError):
        drain_once(db, configs, mon(10))

    assert ticket_row(db, "T-1") is None
    monkeypatch.undo()
    # Handed back at once, not after the lease.
    assert drain_once(db, configs, mon(10)) == 1
    assert ticket_row(db, "T-1") is not None


# --- the thread and concurrent derivers ----------------------------------------------------------


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_deriver_thread_derives_what_ingestion_queues(db, configs, reference):
    worker = Deriver(db, configs, lambda: mon(14), poll_s=30).start()
    try:
        ingest(db, configs, story("T-1"), mon(14), derive_now=False)
        # Woken by the ingest: long before its 30 s poll.
        wait_until(lambda: queued(db) == 0, seconds=20)
    finally:
        worker.stop()
    assert worker.derived == 1
    assert stored_clocks(db, "T-1") == reference(story("T-1"), mon(14))


def test_derivers_running_at_once_store_what_one_inline_derive_stores(db, configs, tmp_path):
    """Four derivers drain while four writers ingest 60 tickets a step at a time."""
    stories = {f"T-{n}": story(f"T-{n}") for n in range(60)}
    workers = [Deriver(db, configs, lambda: mon(14), poll_s=0.05).start() for _ in range(4)]
    errors: list[BaseException] = []

    def write(names: list[str]) -> None:
        try:
            for step in range(5):
                for name in names:
                    ingest(db, configs, [stories[name][step]], mon(14), derive_now=False)
        except BaseException as exc:
            errors.append(exc)

    names = sorted(stories)
    writers = [threading.Thread(target=write, args=(names[i::4],)) for i in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    wait_until(lambda: queued(db) == 0)
    for worker in workers:
        worker.stop()

    assert errors == []
    expected = inline(tmp_path / "reference", [e for s in stories.values() for e in s], mon(14))
    for name in names:
        assert stored_clocks(db, name) == expected[name], name


def test_an_event_for_a_solved_ticket_reopens_it_once_derived(db, configs):
    ingest(db, configs, story("T-1"), mon(14))
    assert ticket_row(db, "T-1").status == "solved"
    again = event("T-1-6", "T-1", mon(14), "ticket.updated", fields={"status": "open"})

    ingest(db, configs, [again], mon(15), derive_now=False)

    assert ticket_row(db, "T-1").status == "solved"
    assert ticket_view(db, configs, "T-1", mon(15))["status"] == "open"
