"""``compliance`` against a plain reference on random tables: same groups, order and bits.

The reference is the report's earlier, straightforward form (unique on combined codes, a sort of
the groups' keys in Python, one percentile at a time per group); the report itself works on all
groups at once, and must not change a single figure doing so.
"""

from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pytest

from duly.core.clock_table import CATEGORICAL, INSTANTS, NAT, NUMBERS, Categorical, ClockTable
from duly.core.reports import DATE_KEYS, _date_labels, compliance

STATS = ("avg", "median", "p90", "min", "max")
STATES = ("met", "breached", "active", "paused", "cancelled", None)


def _sortable(value: str | None) -> tuple[int, str]:
    return (1, "") if value is None else (0, value)


def reference_group(
    table: ClockTable, by: tuple[str, ...], rows: npt.NDArray[np.intp], tz: tzinfo
) -> tuple[npt.NDArray[np.intp], list[dict[str, str | None]]]:
    columns = [
        _date_labels(table.instants["start"][rows], k, tz)
        if k in DATE_KEYS
        else table.text[k].take(rows)
        for k in by
    ]
    if not columns:
        return np.zeros(len(rows), dtype=np.intp), [{}]
    combined = np.zeros(len(rows), dtype=np.int64)
    for column in columns:
        combined = combined * max(len(column.labels), 1) + column.codes
    distinct, inverse = np.unique(combined, return_inverse=True)
    keys = []
    for value in distinct.tolist():
        codes = []
        for column in reversed(columns):
            width = max(len(column.labels), 1)
            codes.append(value % width)
            value //= width
        codes.reverse()
        keys.append({by[j]: columns[j].labels[codes[j]] for j in range(len(by))})
    order = sorted(range(len(keys)), key=lambda g: tuple(_sortable(keys[g][k]) for k in by))
    rank = np.empty(len(order), dtype=np.intp)
    rank[np.asarray(order, dtype=np.intp)] = np.arange(len(order))
    return rank[inverse.reshape(-1)], [keys[g] for g in order]


def reference_percentile(values: npt.NDArray[np.float64], a: int, b: int, q: float) -> float:
    position = q * (b - a - 1)
    low = int(np.floor(position))
    high = min(low + 1, b - a - 1)
    weight = position - low
    return float(values[a + low] * (1 - weight) + values[a + high] * weight)


def reference_stats(
    values: npt.NDArray[np.float64], groups: npt.NDArray[np.intp], n: int
) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {s: [None] * n for s in STATS}
    if len(values) == 0:
        return out
    by_value = np.argsort(values)
    order = by_value[np.argsort(groups[by_value], kind="stable")]
    v, g = values[order], groups[order]
    counts = np.bincount(g, minlength=n)
    ends = np.cumsum(counts)
    sums = np.bincount(g, weights=v, minlength=n)
    for i in np.flatnonzero(counts).tolist():
        a, b = int(ends[i] - counts[i]), int(ends[i])
        out["avg"][i] = float(sums[i] / (b - a))
        out["median"][i] = reference_percentile(v, a, b, 0.5)
        out["p90"][i] = reference_percentile(v, a, b, 0.9)
        out["min"][i] = float(v[a])
        out["max"][i] = float(v[b - 1])
    return out


def reference_compliance(
    table: ClockTable, by: tuple[str, ...], tz: tzinfo = UTC
) -> list[dict[str, Any]]:
    met = table.state_is("met")
    missed = table.state_is("breached")
    open_ = table.state_is("active", "paused")
    rows = np.flatnonzero(met | missed | open_)
    g, keys = reference_group(table, by, rows, tz)
    n = len(keys)
    met_r, missed_r, open_r = met[rows], missed[rows], open_[rows]
    count_met = np.bincount(g[met_r], minlength=n)
    count_missed = np.bincount(g[missed_r], minlength=n)
    count_open = np.bincount(g[open_r], minlength=n)
    blocks = {
        f"{outcome}_{measure}": reference_stats(
            table.numbers[f"{measure}_elapsed_s"][rows][mask], g[mask], n
        )
        for outcome, mask in (("met", met_r), ("missed", missed_r))
        for measure in ("business", "calendar")
    }
    result = []
    for i, key in enumerate(keys):
        total = int(count_met[i] + count_missed[i])
        row: dict[str, Any] = dict(key)
        row.update(
            total=total,
            met=int(count_met[i]),
            missed=int(count_missed[i]),
            met_pct=round(100.0 * int(count_met[i]) / total, 2) if total else None,
            open=int(count_open[i]),
        )
        for block, stats in blocks.items():
            for stat in STATS:
                row[f"{block}_{stat}_s"] = stats[stat][i]
        if total or row["open"]:
            result.append(row)
    return result


def random_table(seed: int, size: int, repeated_labels: bool = False) -> ClockTable:
    """Clocks with few labels (None among them), tied and zero times, unset starts."""
    rng = np.random.default_rng(seed)

    def categorical(labels: tuple[str | None, ...]) -> Categorical:
        return Categorical(rng.integers(0, len(labels), size).astype(np.int32), labels)

    text = {name: categorical(("b", None, "a", "c", "B")) for name in CATEGORICAL}
    text["state"] = categorical(STATES)
    if repeated_labels:  # two codes of one label stay two groups
        text["priority"] = categorical(("high", "low", "high", None, None))
    start = rng.integers(1_600_000_000, 1_800_000_000, size) * 1_000_000
    start[rng.random(size) < 0.05] = NAT
    instants = {name: start.copy() for name in INSTANTS}
    numbers = {
        name: np.where(
            rng.random(size) < 0.2,
            0.0,
            np.round(rng.exponential(7200.0, size), int(rng.integers(0, 3))),
        )
        for name in NUMBERS
    }
    return ClockTable(
        text=text,
        instants=instants,
        numbers=numbers,
        cycle=np.ones(size, dtype=np.int32),
        held_row=np.zeros(0, dtype=np.int64),
        held_group=Categorical(np.zeros(0, dtype=np.int32), ()),
        held_assignee=Categorical(np.zeros(0, dtype=np.int32), ()),
        held_s=np.zeros(0, dtype=np.float64),
    )


BYS = [
    (),
    ("agreement",),
    ("month", "agreement"),
    ("week", "metric", "priority"),
    ("day", "priority", "channel"),
    ("priority", "group", "assignee", "organization"),
    ("metric", "metric"),
]


@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compliance_matches_the_reference_to_the_bit(by: tuple[str, ...], seed: int) -> None:
    table = random_table(seed, 3000)
    for tz in (UTC, ZoneInfo("America/St_Johns")):
        expected = reference_compliance(table, by, tz)
        got = compliance(table, by, tz)
        assert [list(r.items()) for r in got] == [list(r.items()) for r in expected]
        assert repr(got) == repr(expected)  # floats to the bit, None where None


@pytest.mark.parametrize("by", [("priority",), ("month", "priority")])
def test_repeated_labels_keep_their_groups_as_the_reference_does(by: tuple[str, ...]) -> None:
    table = random_table(4, 2000, repeated_labels=True)
    assert repr(compliance(table, by)) == repr(reference_compliance(table, by))


@pytest.mark.parametrize("size", [0, 1, 2])
def test_tiny_tables_match_the_reference(size: int) -> None:
    table = random_table(5, size)
    for by in BYS:
        assert repr(compliance(table, by)) == repr(reference_compliance(table, by))


@pytest.mark.parametrize("by", [(), ("agreement",)])
def test_negative_zeros_and_nans_sort_as_the_reference_sorts_them(by: tuple[str, ...]) -> None:
    table = random_table(6, 3000)
    for name in ("business_elapsed_s", "calendar_elapsed_s"):
        column = table.numbers[name]
        column[::7] = -0.0
        column[::97] = np.nan
    assert repr(compliance(table, by)) == repr(reference_compliance(table, by))


@pytest.mark.parametrize("by", [("metric",), ("agreement", "metric"), ("month",)])
def test_few_large_groups_match_the_reference(by: tuple[str, ...]) -> None:
    # Many values per group: each group's values are sorted in place rather than argsorted.
    table = random_table(7, 20_000)
    assert repr(compliance(table, by)) == repr(reference_compliance(table, by))
