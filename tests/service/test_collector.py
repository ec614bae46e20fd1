"""The cycle collector is paused only for the block, and left as it was found."""

import gc
from datetime import UTC, datetime

import pytest

from duly.service.collector import collector_paused, freeze_startup_heap
from duly.service.ingest import MAX_BATCH, _job


def test_the_collector_is_off_inside_and_back_on_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_even_when_the_block_fails():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_start_up_built_is_left_out_of_later_collections():
    built_at_start_up = [object() for _ in range(3)] + [{"kept": [1]}]
    try:
        freeze_startup_heap()
        tracked = {id(o) for o in gc.get_objects()}
        assert id(built_at_start_up[-1]) not in tracked
        assert gc.get_freeze_count() > 0
        made_later = {"new": [2]}
        assert id(made_later) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()


def test_validating_a_full_request_sets_off_one_collection_at_most():
    # Unpaused, its 60,000 new objects set off about a hundred; paused, one may run as the
    # collector comes back.
    collections: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    items = [
        {
            "id": f"e{i}",
            "ticket": f"T-{i // 8}",
            "at": "2026-03-02T09:00:00+01:00",
            "type": "comment.added",
            "actor": "customer",
        }
        for i in range(MAX_BATCH)
    ]
    gc.callbacks.append(count)
    try:
        job = _job(items, datetime(2026, 3, 2, 12, tzinfo=UTC), derive_now=False)
    finally:
        gc.callbacks.remove(count)
    assert len(job.rows) == MAX_BATCH
    assert len(collections) <= 1
