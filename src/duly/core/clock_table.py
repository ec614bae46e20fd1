"""Clocks as columns: the form reports and the batch engine work in.

A million tickets give several million clocks; as Python objects they would take longer to build
than to compute. Here every text column is a categorical (integer codes into a tuple of labels),
every instant int64 microseconds since the epoch (``NAT`` for none), every duration float64
seconds, so that grouping and percentiles are NumPy operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from duly.core.clocks import Clock

__all__ = ["CATEGORICAL", "INSTANTS", "NAT", "NUMBERS", "Categorical", "ClockTable"]

NAT: Final = np.iinfo(np.int64).min
CATEGORICAL: Final = (
    "ticket",
    "agreement",
    "policy",
    "metric",
    "priority",
    "group",
    "assignee",
    "organization",
    "channel",
    "calendar",
    "state",
)
INSTANTS: Final = ("start", "due", "stop", "breached_at")
NUMBERS: Final = (
    "target_s",
    "business_elapsed_s",
    "calendar_elapsed_s",
    "paused_s",
    "remaining_s",
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Categorical:
    """Integer codes into ``labels``; ``None`` may be a label (a field never set)."""

    codes: npt.NDArray[np.int32]
    labels: tuple[str | None, ...]

    def values(self) -> list[str | None]:
        labels = self.labels
        return [labels[c] for c in self.codes.tolist()]

    def take(self, index: npt.NDArray[np.intp]) -> Categorical:
        return Categorical(self.codes[index], self.labels)

    @classmethod
    def from_values(cls, values: Sequence[str | None]) -> Categorical:
        lookup: dict[str | None, int] = {}
        codes = np.fromiter(
            (lookup.setdefault(v, len(lookup)) for v in values), dtype=np.int32, count=len(values)
        )
        return cls(codes, tuple(lookup))


@dataclass(frozen=True)
class ClockTable:
    """Columns of equal length, one row per clock."""

    text: dict[str, Categorical]
    instants: dict[str, IntArray]
    numbers: dict[str, FloatArray]
    cycle: npt.NDArray[np.int32]
    #: Attribution rows: which clock (row index), held by whom, for how much business time.
    held_row: IntArray
    held_group: Categorical
    held_assignee: Categorical
    held_s: FloatArray

    def __len__(self) -> int:
        return len(self.cycle)

    @classmethod
    def from_clocks(cls, clocks: Iterable[Clock]) -> ClockTable:
        rows = list(clocks)
        text = {
            name: Categorical.from_values([getattr(c, name) for c in rows]) for name in CATEGORICAL
        }
        instants = {
            name: np.fromiter(
                (_to_us(getattr(c, name)) for c in rows), dtype=np.int64, count=len(rows)
            )
            for name in INSTANTS
        }
        numbers = {
            name: np.fromiter((getattr(c, name) for c in rows), dtype=np.float64, count=len(rows))
            for name in NUMBERS
        }
        held = [(i, a) for i, c in enumerate(rows) for a in c.attribution]
        return cls(
            text=text,
            instants=instants,
            numbers=numbers,
            cycle=np.fromiter((c.cycle for c in rows), dtype=np.int32, count=len(rows)),
            held_row=np.fromiter((i for i, _ in held), dtype=np.int64, count=len(held)),
            held_group=Categorical.from_values([a.group for _, a in held]),
            held_assignee=Categorical.from_values([a.assignee for _, a in held]),
            held_s=np.fromiter((a.business_s for _, a in held), dtype=np.float64, count=len(held)),
        )

    def state_is(self, *states: str) -> npt.NDArray[np.bool_]:
        """Rows whose state is one of ``states``."""
        column = self.text["state"]
        wanted = [i for i, label in enumerate(column.labels) if label in states]
        return np.isin(column.codes, wanted)

    def rows(self) -> Iterable[dict[str, object]]:
        """Each clock as a mapping (instants as aware UTC datetimes)."""
        texts = {k: v.values() for k, v in self.text.items()}
        instants = {k: v.tolist() for k, v in self.instants.items()}
        numbers = {k: v.tolist() for k, v in self.numbers.items()}
        cycles = self.cycle.tolist()
        for i in range(len(self)):
            row: dict[str, object] = {k: texts[k][i] for k in CATEGORICAL}
            row["cycle"] = cycles[i]
            for k in INSTANTS:
                row[k] = from_us(instants[k][i])
            for k in NUMBERS:
                row[k] = numbers[k][i]
            yield row


def _to_us(value: datetime | None) -> int:
    return NAT if value is None else (value - _EPOCH) // _ONE_US


def from_us(value: int) -> datetime | None:
    """An instant column's value as an aware UTC datetime (None for ``NAT``)."""
    return None if value == NAT else _EPOCH + timedelta(microseconds=value)


def concat_categoricals(parts: Sequence[Categorical]) -> Categorical:
    """One categorical over the union of the parts' labels, codes remapped.

    The parts' largest label space is kept as it is (same object) and the others are mapped into
    it, so concatenating chunks of one history never rebuilds the million-ticket label table.
    """
    if not parts:
        return Categorical(np.zeros(0, dtype=np.int32), ())
    base = max((p.labels for p in parts), key=len)
    if all(p.labels is base for p in parts):
        return Categorical(np.concatenate([p.codes for p in parts]), base)
    lookup = _index_of(base)
    extra: dict[str | None, int] = {}
    pieces = []
    for part in parts:
        if part.labels is base:
            pieces.append(part.codes)
            continue
        remap = np.array(
            [
                lookup[label]
                if label in lookup
                else extra.setdefault(label, len(base) + len(extra))
                for label in part.labels
            ]
            or [0],
            dtype=np.int32,
        )
        pieces.append(remap[part.codes] if len(part.codes) else part.codes)
    labels = base if not extra else (*base, *extra)
    return Categorical(np.concatenate(pieces).astype(np.int32), labels)


_INDEXES: dict[int, tuple[tuple[str | None, ...], dict[str | None, int]]] = {}


def _index_of(labels: tuple[str | None, ...]) -> dict[str | None, int]:
    """Label -> code for a label table, remembered for the few large tables in use."""
    cached = _INDEXES.get(id(labels))
    if cached is not None and cached[0] is labels:
        return cached[1]
    index = {label: i for i, label in enumerate(labels)}
    if len(labels) >= 1024:  # only large tables are worth keeping (tickets, not groups)
        if len(_INDEXES) >= 4:
            _INDEXES.clear()
        _INDEXES[id(labels)] = (labels, index)
    return index


def concat_tables(tables: Sequence[ClockTable]) -> ClockTable:
    """Rows of several tables in one (attribution rows follow their clocks)."""
    offsets = np.cumsum([0] + [len(t) for t in tables])
    return ClockTable(
        text={k: concat_categoricals([t.text[k] for t in tables]) for k in CATEGORICAL},
        instants={k: np.concatenate([t.instants[k] for t in tables]) for k in INSTANTS},
        numbers={k: np.concatenate([t.numbers[k] for t in tables]) for k in NUMBERS},
        cycle=np.concatenate([t.cycle for t in tables]).astype(np.int32),
        held_row=np.concatenate([t.held_row + o for t, o in zip(tables, offsets, strict=False)]),
        held_group=concat_categoricals([t.held_group for t in tables]),
        held_assignee=concat_categoricals([t.held_assignee for t in tables]),
        held_s=np.concatenate([t.held_s for t in tables]),
    )


def take_rows(table: ClockTable, rows: npt.NDArray[np.intp]) -> ClockTable:
    """The table restricted to ``rows`` (attribution rows of the kept clocks follow them)."""
    keep = np.zeros(len(table), dtype=bool)
    keep[rows] = True
    new_index = np.cumsum(keep) - 1
    held = keep[table.held_row] if len(table.held_row) else np.zeros(0, dtype=bool)
    return ClockTable(
        text={k: v.take(rows) for k, v in table.text.items()},
        instants={k: v[rows] for k, v in table.instants.items()},
        numbers={k: v[rows] for k, v in table.numbers.items()},
        cycle=table.cycle[rows],
        held_row=new_index[table.held_row[held]],
        held_group=table.held_group.take(np.flatnonzero(held)),
        held_assignee=table.held_assignee.take(np.flatnonzero(held)),
        held_s=table.held_s[held],
    )


def only(table: ClockTable, column: str, values: Sequence[str] | None) -> ClockTable:
    """The rows whose text ``column`` is one of ``values`` (all rows when ``values`` is empty)."""
    if not values:
        return table
    categorical = table.text[column]
    wanted = [i for i, label in enumerate(categorical.labels) if label in set(values)]
    return take_rows(table, np.flatnonzero(np.isin(categorical.codes, wanted)))
