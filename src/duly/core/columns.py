"""A history of events as columns: the input of the batch clock engine.

One row per event, text as integer codes into shared label tables, times as int64
microseconds: what a reader builds without one Python object per event, and what the batch
engine sorts, deduplicates and replays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt

from duly.core.clock_table import Categorical
from duly.core.events import ACTORS, EVENT_TYPES, Event

__all__ = ["EventColumns", "FieldColumn"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FieldColumn:
    """One ticket field over all events: whether each event sets it, and to what.

    ``codes`` index ``labels`` (tags are tuples); where ``present`` is False the code is unused.
    """

    present: BoolArray
    codes: npt.NDArray[np.int32]
    labels: tuple[Any, ...]


@dataclass(frozen=True)
class EventColumns:
    """A history of events as columns (one row per event, in any order, duplicates allowed).

    ``event_id`` holds equal integers for equal ids; ``id_text`` the ids themselves (read only
    to order events of one ticket at one instant, as the per-ticket path does). ``actor`` and
    ``public`` are -1 when absent.
    """

    event_id: IntArray
    id_text: Sequence[str]
    ticket: Categorical
    at_us: IntArray
    type: npt.NDArray[np.int8]
    actor: npt.NDArray[np.int8]
    public: npt.NDArray[np.int8]
    fields: Mapping[str, FieldColumn] = field(default_factory=dict)
    #: True when no id repeats (a reader already dropped repeated deliveries).
    deduplicated: bool = False

    def take(self, rows: IntArray) -> EventColumns:
        """The events at ``rows`` (label tables are shared, not copied)."""
        return EventColumns(
            event_id=self.event_id[rows],
            id_text=_Picked(self.id_text, rows),
            ticket=self.ticket.take(rows),
            at_us=self.at_us[rows],
            type=self.type[rows],
            actor=self.actor[rows],
            public=self.public[rows],
            fields={
                name: FieldColumn(c.present[rows], c.codes[rows], c.labels)
                for name, c in self.fields.items()
            },
            deduplicated=self.deduplicated,
        )

    @classmethod
    def from_events(cls, events: Sequence[Event]) -> EventColumns:
        """Columns of ``Event`` objects (tests and small histories; readers build columns)."""
        ids: dict[str, int] = {}
        n = len(events)
        names: dict[str, None] = {}
        for e in events:
            for k in e.fields:
                names.setdefault(k, None)
        columns: dict[str, FieldColumn] = {}
        for name in names:
            lookup: dict[Any, int] = {}
            present = np.zeros(n, dtype=bool)
            codes = np.zeros(n, dtype=np.int32)
            for i, e in enumerate(events):
                if name in e.fields:
                    present[i] = True
                    codes[i] = lookup.setdefault(_hashable(e.fields[name]), len(lookup))
            columns[name] = FieldColumn(present, codes, tuple(lookup))
        return cls(
            event_id=np.fromiter((ids.setdefault(e.id, len(ids)) for e in events), np.int64, n),
            id_text=[e.id for e in events],
            ticket=Categorical.from_values([e.ticket for e in events]),
            at_us=np.fromiter(
                ((e.at - _EPOCH) // timedelta(microseconds=1) for e in events), np.int64, n
            ),
            type=np.fromiter((EVENT_TYPES.index(e.type) for e in events), np.int8, n),
            actor=np.fromiter(
                (-1 if e.actor is None else ACTORS.index(e.actor) for e in events), np.int8, n
            ),
            public=np.fromiter(
                (-1 if e.public is None else int(e.public) for e in events), np.int8, n
            ),
            fields=columns,
        )


class _Picked(Sequence[str]):
    """Some items of a sequence, by index, without copying them."""

    def __init__(self, items: Sequence[str], rows: IntArray) -> None:
        self._items = items
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._items[int(r)] for r in self._rows[index]]
        return self._items[int(self._rows[index])]


def _hashable(value: Any) -> Any:
    if isinstance(value, list | set | frozenset):
        return tuple(value)
    return value
