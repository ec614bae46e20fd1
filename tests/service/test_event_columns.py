"""The column reader gives the events the line reader gives, or steps aside for it."""

import random
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from duly.config import load_config
from duly.core.batch import EventColumns, evaluate_batch
from duly.service import event_columns
from duly.service.event_columns import read_columns
from duly.service.event_files import read_events, write_events
from duly.service.history import read_history, read_history_columns
from duly.service.simulation import synthetic_history, write_history

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "benchmarks" / "clocks_config.yaml")
NOW = datetime(2026, 10, 15, 12, tzinfo=UTC)


def log(table) -> list[str]:
    return sorted(repr(sorted(row.items())) for row in table.rows())


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_synthetic_history_gives_the_same_clocks_through_columns_and_lines(tmp_path, suffix):
    path = tmp_path / f"history{suffix}"
    write_history(synthetic_history(400, seed=9), path)
    fast = read_columns([path])
    assert fast is not None
    exact = read_history([path])
    assert fast.lines == exact.lines
    by_columns = evaluate_batch(fast.columns, CONFIG, NOW)
    by_lines = evaluate_batch(EventColumns.from_events(exact.events), CONFIG, NOW)
    assert len(by_columns) > 1000
    assert log(by_columns) == log(by_lines)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_the_example_history_reads_the_same_through_columns_in_every_format(tmp_path, suffix):
    events = read_events(ROOT / "examples" / "events.jsonl").events
    path = tmp_path / f"events{suffix}"
    write_events(path, events)
    config = load_config(ROOT / "examples" / "sla.yaml")
    now = datetime(2026, 3, 16, 12, tzinfo=UTC)
    fast = read_history_columns([path])
    exact = read_history([path])
    assert log(fast.clocks(config, now)) == log(exact.clocks(config, now))


def test_duplicate_ids_are_counted_once_kept(tmp_path):
    path = tmp_path / "dup.jsonl"
    line = '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00Z", "type": "ticket.created"}'
    path.write_text(line + "\n" + line + "\n")
    read = read_columns([path])
    assert read is not None
    assert (read.lines, read.duplicates) == (2, 1)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (
            '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00", "type": "ticket.created"}',
            "naive time",
        ),
        (
            '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00Z", "type": "ticket.exploded"}',
            "unknown type",
        ),
        (
            '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00Z", "type": "ticket.created",'
            ' "fields": {"status": null}}',
            "a cleared field",
        ),
        (
            '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00Z", "type": "ticket.created",'
            ' "fields": {"colour": "red"}}',
            "an unknown field",
        ),
        (
            '{"id": "e1", "ticket": "T1", "at": "2026-03-02T08:00:00Z", "type": "comment.added"}',
            "a comment without actor",
        ),
    ],
)
def test_a_file_the_columns_cannot_vouch_for_is_left_to_the_line_reader(tmp_path, line, why):
    path = tmp_path / "odd.jsonl"
    path.write_text(line + "\n")
    assert read_columns([path]) is None, why
    history = read_history_columns([path])
    assert history.columns is None  # read line by line: problems come with line numbers


def test_parquet_and_json_lines_read_together_as_line_by_line(tmp_path):
    # Parquet's text columns arrive as dictionaries, JSON Lines' as text: both make one history.
    table = synthetic_history(60, seed=3)
    first, second = tmp_path / "a.parquet", tmp_path / "b.jsonl"
    write_history(table.slice(0, 200), first)
    write_history(table.slice(200), second)
    fast = read_columns([first, second])
    assert fast is not None
    exact = read_history([first, second])
    assert fast.lines == exact.lines == table.num_rows
    assert log(evaluate_batch(fast.columns, CONFIG, NOW)) == log(
        evaluate_batch(EventColumns.from_events(exact.events), CONFIG, NOW)
    )


def test_parquet_text_with_many_values_is_encoded_afresh(tmp_path, monkeypatch):
    monkeypatch.setattr(event_columns, "_SMALL_DICTIONARIES", 0)
    path = tmp_path / "history.parquet"
    write_history(synthetic_history(100, seed=5), path)
    fast = read_columns([path])
    assert fast is not None
    exact = read_history([path])
    assert log(evaluate_batch(fast.columns, CONFIG, NOW)) == log(
        evaluate_batch(EventColumns.from_events(exact.events), CONFIG, NOW)
    )


@pytest.mark.parametrize(
    ("ids", "distinct"),
    [
        (["e1", "e2", "e10", ""], True),
        (["event-000001-x", "event-000001-y", "event-000001"], True),
        (["event-000001-x", "event-000001-y", "event-000001-x"], False),
        # Equal ids followed by different bytes in the buffer: only their own bytes count.
        (["ab", "c", "ab", "d"], False),
        (["abcdefgh", "i", "abcdefgh", "j"], False),
        (["abcdefgh", "abcdefghi"], True),
    ],
)
def test_repeated_ids_are_told_from_distinct_ones(ids, distinct):
    assert event_columns._all_distinct(pa.array(ids)) is distinct


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"type": "ticket.exploded"}, "unknown type"),
        ({"actor": "robot"}, "unknown actor"),
        ({"type": None}, "no type"),
        ({"type": "comment.added", "actor": None}, "a comment without actor"),
    ],
)
def test_a_parquet_file_the_columns_cannot_vouch_for_is_left_to_the_line_reader(
    tmp_path, change, why
):
    # Parquet's type and actor columns are read as dictionaries and checked as such.
    table = synthetic_history(30, seed=4)
    for name, value in change.items():
        values = table.column(name).to_pylist()
        values[17] = value
        index = table.column_names.index(name)
        table = table.set_column(index, name, pa.array(values, pa.string()))
    path = tmp_path / "odd.parquet"
    write_history(table, path)
    assert read_columns([path]) is None, why


def test_a_parquet_file_without_comments_or_actors_reads_through_columns(tmp_path):
    table = synthetic_history(30, seed=5)
    kept = [i for i, t in enumerate(table.column("type").to_pylist()) if t != "comment.added"]
    table = table.take(kept)
    index = table.column_names.index("actor")
    table = table.set_column(index, "actor", pa.nulls(len(table), pa.string()))
    path = tmp_path / "quiet.parquet"
    write_history(table, path)
    fast = read_columns([path])
    assert fast is not None
    exact = read_history([path])
    assert log(evaluate_batch(fast.columns, CONFIG, NOW)) == log(
        evaluate_batch(EventColumns.from_events(exact.events), CONFIG, NOW)
    )


@pytest.mark.parametrize("seed", range(6))
def test_ids_are_proved_distinct_exactly_when_they_are(seed):
    # Short and empty ids, ids ending at the very end of the data, slices of a larger array.
    rng = random.Random(seed)
    alphabet = "ab/Ü0"
    ids = [
        "".join(rng.choices(alphabet, k=rng.choice([0, 1, 3, 7, 8, 9, 16, 17]))) for _ in range(300)
    ]
    for start, stop in [(0, 300), (5, 300), (0, 2), (298, 300), (100, 140)]:
        values = ids[start:stop]
        array = pa.array(ids, pa.string()).slice(start, stop - start)
        for kind in (pa.string(), pa.large_string()):
            assert event_columns._all_distinct(array.cast(kind)) == (
                len(set(values)) == len(values)
            ), (start, stop, kind)
    distinct = sorted(set(ids))
    assert event_columns._all_distinct(pa.array(distinct)) is True
    assert event_columns._all_distinct(pa.array([*distinct, distinct[-1]])) is False
