"""Event files straight into columns, for the batch path over large histories.

``read_events`` validates every line in Python, which reads about 160,000 events a second: right
for an API request or a small export, slow for ten million events. Here Arrow parses the file
(Parquet, JSON Lines or CSV) in C++, the checks ``read_events`` makes are made on whole columns,
and the result is ``EventColumns`` without one Python object per event.

When a file holds anything the column checks cannot vouch for (an unknown column, a malformed
time, an unknown event type, a cleared field in JSON), ``read_columns`` returns None and the caller
reads it with ``read_events``, which reports each bad line with its number. Both give the same
events (tests hold them to it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, cast, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from duly.core.clock_table import Categorical
from duly.core.columns import EventColumns, FieldColumn
from duly.core.events import ACTORS, EVENT_TYPES, TICKET_FIELDS

__all__ = ["ColumnRead", "read_columns"]

_TOP: Final = ("id", "ticket", "at", "type", "actor", "public", "score")
_US_UTC: Final = pa.timestamp("us", tz="UTC")
# Text columns that take few values: Parquet stores them as dictionaries, and reading them as
# such skips making a string per event and hashing it again (ids, tickets and requesters take
# so many values that unifying each batch's dictionary would cost more).
_FEW_VALUES: Final = frozenset({"type", "actor", *TICKET_FIELDS} - {"requester", "tags"})
# A dictionary column whose batches hold more values than this is decoded and encoded afresh.
_SMALL_DICTIONARIES: Final = 1 << 16
# Bytes beyond an id's end are masked off: _MASKS[k] keeps the low k bytes of a word.
_MASKS: Final = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], np.uint64)


@dataclass
class ColumnRead:
    """A history read as columns, with the counts the reports print."""

    columns: EventColumns
    lines: int
    duplicates: int


class _Strings(Sequence[str]):
    """An Arrow string array seen as a sequence of ``str`` (read one at a time, for ties)."""

    def __init__(self, array: pa.Array) -> None:
        self._array = array

    def __len__(self) -> int:
        return len(self._array)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [str(v) for v in self._array[index].to_pylist()]
        return str(self._array[index].as_py())

    def __iter__(self) -> Iterator[str]:
        return (str(v) for v in self._array.to_pylist())


def read_columns(paths: Sequence[Path]) -> ColumnRead | None:
    """All files as one set of columns, or None if any file needs the line-by-line reader."""
    tables = []
    for path in paths:
        table = _read_table(Path(path))
        if table is None:
            return None
        tables.append(table)
    if not tables:
        return None
    if len(tables) > 1:  # another file's column may be plain text: concatenate text
        tables = [_decoded(t) for t in tables]
    table = pa.concat_tables(tables, promote_options="permissive")
    del tables
    read = _to_columns(table)
    del table
    pa.default_memory_pool().release_unused()  # give Arrow's parse buffers back to the system
    return read


def _read_table(path: Path) -> pa.Table | None:
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            schema = pq.read_schema(path)
            few = [
                f.name
                for f in schema
                if (f.name in _FEW_VALUES or f.name.startswith("custom.")) and _is_text(f.type)
            ]
            # ParquetFile rather than read_table: the latter goes through pyarrow.dataset, whose
            # import alone (it imports pandas) costs a third of a second.
            return _normalise(pq.ParquetFile(path, read_dictionary=few).read(), "parquet")
        if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
            if _mentions_null(path):
                return None  # a cleared field: JSON null and "absent" look alike to Arrow
            # "at" stays text so that its UTC offset is honoured when it is parsed below.
            options = pa_json.ParseOptions(
                explicit_schema=pa.schema([("at", pa.string())]), unexpected_field_behavior="infer"
            )
            table = pa_json.read_json(path, parse_options=options)
            return _normalise(_flatten_fields(table), "json")
        if name.endswith((".csv", ".csv.gz")):
            options = pa_csv.ConvertOptions(
                strings_can_be_null=True, column_types={"at": pa.string()}
            )
            table = pa_csv.read_csv(path, convert_options=options)
            strings = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
            return _normalise(strings, "csv")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError):
        return None
    return None


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_text_dictionary(kind: pa.DataType) -> bool:
    return bool(pa.types.is_dictionary(kind) and _is_text(kind.value_type))


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain text."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def _mentions_null(path: Path) -> bool:
    import gzip

    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as stream:
        while chunk := stream.read(1 << 24):
            if b"null" in chunk:
                return True
    return False


def _flatten_fields(table: pa.Table) -> pa.Table:
    """``fields.priority`` -> ``priority``, ``fields.custom.tier`` -> ``custom.tier``."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = []
    for name in table.column_names:
        if name.startswith("fields."):
            name = name[len("fields.") :]
        names.append(name)
    return table.rename_columns(names)


def _normalise(table: pa.Table, kind: str) -> pa.Table | None:
    """The columns ``read_events`` would accept, typed alike, or None when it would object."""
    names = table.column_names
    if len(set(names)) != len(names) or not {"id", "ticket", "at", "type"} <= set(names):
        return None
    for name in names:
        if name in _TOP or name in TICKET_FIELDS:
            continue
        if not (name.startswith("custom.") and len(name) > len("custom.")):
            return None  # unknown column (or the CSV/Parquet 'cleared' column): read line by line
    out: dict[str, pa.Array] = {}
    for key in ("id", "ticket"):
        column = table.column(key)
        if column.null_count:
            return None
        out[key] = column.cast(pa.string())
    at = table.column("at")
    if pa.types.is_timestamp(at.type):
        if at.type.tz is None:
            return None
        out["at"] = at.cast(_US_UTC)
    else:
        if at.null_count:
            return None
        out["at"] = pc.cast(at.cast(pa.string()), _US_UTC)  # raises without a UTC offset
    kinds = _as_text(table.column("type"))
    if kinds.null_count or not _all_in(kinds, EVENT_TYPES):
        return None
    out["type"] = _text_or_dictionary(table.column("type"), kinds)
    actor = (
        _as_text(table.column("actor")) if "actor" in names else pa.nulls(len(table), pa.string())
    )
    if not _all_in(actor, ACTORS, nulls=True):
        return None
    comments = _equal(kinds, "comment.added")
    if pc.any(pc.and_(comments, pc.is_null(actor))).as_py():
        return None
    out["actor"] = _text_or_dictionary(table.column("actor"), actor) if "actor" in names else actor
    public = table.column("public") if "public" in names else pa.nulls(len(table), pa.bool_())
    if not pa.types.is_boolean(public.type):
        if kind == "json" and public.null_count != len(public):
            return None
        words = pc.utf8_lower(public.cast(pa.string()))
        truthy = pc.is_in(words, pa.array(["true", "1", "yes"]))
        falsy = pc.is_in(words, pa.array(["false", "0", "no"]))
        if not pc.all(pc.or_(pc.or_(truthy, falsy), pc.is_null(words))).as_py():
            return None
        public = pc.if_else(pc.is_null(words), pa.scalar(None, pa.bool_()), truthy)
    # Comments are public unless marked otherwise, as read_events reads them.
    out["public"] = pc.if_else(pc.and_(comments, pc.is_null(public)), True, public)
    if "score" in names and table.column("score").null_count != len(table):
        return None  # ratings do not drive clocks; let the exact reader check their scores
    for name in names:
        if name in TICKET_FIELDS or name.startswith("custom."):
            column = table.column(name)
            if name == "tags":
                if kind == "csv":
                    column = pc.split_pattern(column, ";")
                elif not pa.types.is_list(column.type):
                    return None
            elif (
                name in TICKET_FIELDS
                and not pa.types.is_string(column.type)
                and not _is_text_dictionary(column.type)
            ):
                if not (pa.types.is_integer(column.type) or pa.types.is_null(column.type)):
                    return None
                column = column.cast(pa.string())
            out[name] = column
    return pa.table(out)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as text, or as it is when it is a dictionary of text (left encoded: checking
    a dictionary's few values is cheaper than decoding millions of rows)."""
    return column if _is_text_dictionary(column.type) else column.cast(pa.string())


def _all_in(column: pa.ChunkedArray, allowed: Sequence[str], nulls: bool = False) -> bool:
    """Whether every (non-null, if ``nulls``) value of a text column is one of ``allowed``.

    An empty column answers False, as ``pc.all`` of no values does.
    """
    if _is_text_dictionary(column.type):
        if len(column) == 0 or (not nulls and column.null_count):
            return False
        known = pa.array(allowed)
        if all(pc.all(pc.is_in(c.dictionary, known)).as_py() is not False for c in column.chunks):
            return True  # every value a dictionary holds is allowed, so every value used is
        used = [
            chunk.dictionary.take(pc.unique(chunk.indices).drop_null()) for chunk in column.chunks
        ]
        values = pa.chunked_array(used, column.type.value_type).unique()
        return len(values) == 0 or bool(pc.all(pc.is_in(values, pa.array(allowed))).as_py())
    if nulls:
        column = pc.fill_null(column, allowed[0])
    return bool(pc.all(pc.is_in(column, pa.array(allowed))).as_py())


def _equal(column: pa.ChunkedArray, value: str) -> pa.ChunkedArray:
    """Per row, whether a text column (or a dictionary of text) equals ``value``."""
    if not _is_text_dictionary(column.type):
        return pc.equal(column, value)
    chunks = []
    for chunk in column.chunks:
        hit = pc.equal(chunk.dictionary, value)  # per dictionary entry, then gathered per row
        chunks.append(hit.take(chunk.indices))
    return pa.chunked_array(chunks, pa.bool_())


def _text_or_dictionary(column: pa.ChunkedArray, text: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as read when it is a dictionary of text (encoded already), else as text."""
    return column if _is_text_dictionary(column.type) else text


def _encode(
    column: pa.ChunkedArray, values: bool = True
) -> tuple[npt.NDArray[np.int32], list[Any]]:
    """Dictionary codes (null -> -1) and the distinct values (skipped when not wanted: the
    distinct ids of ten million events would be ten million Python strings)."""
    if pa.types.is_dictionary(column.type):
        if sum(len(chunk.dictionary) for chunk in column.chunks) <= _SMALL_DICTIONARIES:
            # Read as a dictionary: unify the batches' dictionaries, no string is hashed.
            encoded = column.combine_chunks()
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
            return codes, encoded.dictionary.to_pylist() if values else []
        column = column.cast(column.type.value_type)
    # One chunk first: its codes then number values in order of first appearance.
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return codes, encoded.dictionary.to_pylist() if values else []


def _all_distinct(ids: pa.Array) -> bool:
    """Whether no two ids are equal, proved by distinct 64-bit hashes of their bytes.

    Equal ids have equal hashes, so distinct hashes prove distinct ids; a shared hash (a
    repeated id, or a rare collision) answers False and the caller checks exactly. Hashing with
    NumPy eight bytes at a time, then one sort, is several times faster than building a
    dictionary of ten million strings.
    """
    if len(ids) < 2:
        return True
    width = np.int64 if pa.types.is_large_string(ids.type) else np.int32
    buffer = np.frombuffer(ids.buffers()[1], dtype=width)
    offsets = cast("npt.NDArray[np.integer[Any]]", buffer[ids.offset : ids.offset + len(ids) + 1])
    raw = (
        np.frombuffer(ids.buffers()[2], dtype=np.uint8)
        if ids.buffers()[2]
        else np.zeros(0, np.uint8)
    )
    size = len(raw)
    if size > (1 << 31) - (1 << 16):
        offsets = offsets.astype(np.int64)  # room for the word offsets below
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    # The eight bytes from every offset, as overlapping items: one gather reads a word of each
    # id. Words that would run past the data are read from a zero-padded copy of its last bytes
    # (copying the whole buffer to pad it would cost more than the hashing).
    tail_from = max(size - 8, 0)
    tail = np.zeros(16, dtype=np.uint8)
    tail[: size - tail_from] = raw[tail_from:]
    tail_words = np.ndarray((9,), dtype="V8", buffer=tail, strides=(1,))
    words = np.ndarray((max(size - 7, 0),), dtype="V8", buffer=raw, strides=(1,))
    hashes = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for k in range(0, int(lengths.max()), 8):
        at = np.minimum(starts + k, size)  # past an id's end its bytes are masked off anyway
        near_end = np.flatnonzero(at > size - 8)
        if len(words):
            word = words[np.minimum(at, size - 8)].view(np.uint64)
        else:
            word = np.zeros(len(at), dtype=np.uint64)
        word[near_end] = tail_words[at[near_end] - tail_from].view(np.uint64)
        word &= _MASKS[np.clip(lengths - k, 0, 8)]
        hashes ^= word
        hashes *= np.uint64(0xBF58476D1CE4E5B9)
        hashes ^= hashes >> np.uint64(31)
    ordered = np.sort(hashes)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _to_columns(table: pa.Table) -> ColumnRead:
    n = table.num_rows
    names = [name for name in table.column_names if name not in _TOP]

    def encode(name: str) -> tuple[npt.NDArray[np.int32], list[Any]]:
        column = table.column(name)
        if name == "tags":
            codes, labels = _encode(pc.binary_join(column, "\x1f"))
            return codes, [tuple(v.split("\x1f")) if v else () for v in labels]
        if name == "id":
            # Usually every id differs, which 64-bit hashes prove quickly; only if two hashes
            # meet are the ids encoded exactly to find which rows repeat.
            ids = column.combine_chunks()
            if _all_distinct(ids):
                return np.arange(n, dtype=np.int32), []
            return _encode(column, values=False)
        return _encode(column)

    # Arrow's hashing releases the GIL: encode the columns on both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = dict(
            zip(
                ["id", "ticket", "type", "actor", *names],
                pool.map(encode, ["id", "ticket", "type", "actor", *names]),
                strict=True,
            )
        )
    id_codes, _ = encoded["id"]
    # Codes number ids in order of first appearance, so a row is a first copy exactly when its
    # code is new: greater than every code before it (no sort needed).
    seen = np.maximum.accumulate(np.r_[-1, id_codes[:-1]]) if n else id_codes
    first = id_codes > seen
    keep = None if first.all() else np.flatnonzero(first)
    ticket_codes, ticket_labels = encoded["ticket"]
    type_codes, type_labels = encoded["type"]
    type_map = np.array([EVENT_TYPES.index(t) for t in type_labels], dtype=np.int8)
    actor_codes, actor_labels = encoded["actor"]
    actor_map = np.array([ACTORS.index(a) for a in actor_labels] + [-1], dtype=np.int8)
    public = table.column("public").combine_chunks()
    public_values = pc.fill_null(public.cast(pa.int8()), -1).to_numpy(zero_copy_only=False)
    fields: dict[str, FieldColumn] = {}
    for name in names:
        codes, values = encoded[name]
        fields[name] = FieldColumn(
            present=codes >= 0, codes=np.clip(codes, 0, None).astype(np.int32), labels=tuple(values)
        )
    at = table.column("at").combine_chunks().cast(pa.int64()).to_numpy(zero_copy_only=False)
    ids = table.column("id").combine_chunks()
    columns = EventColumns(
        event_id=id_codes.astype(np.int64),
        id_text=_Strings(ids),
        ticket=Categorical(ticket_codes, tuple(ticket_labels)),  # text already (_normalise)
        at_us=at.astype(np.int64),
        type=type_map[type_codes],
        actor=actor_map[np.where(actor_codes >= 0, actor_codes, len(actor_labels))],
        public=public_values.astype(np.int8),
        fields=fields,
    )
    if keep is not None:  # repeated deliveries: keep the first copy of each id
        columns = columns.take(keep)
    return ColumnRead(
        columns=replace(columns, deduplicated=True), lines=n, duplicates=int(n - first.sum())
    )
