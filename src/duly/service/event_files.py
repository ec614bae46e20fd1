"""Event files: help-desk exports read into core events, and events written back out.

The canonical format is JSON Lines, one event object per line::

    {"id": "e-1", "ticket": "T-100", "at": "2026-03-02T08:15:00+01:00", "type": "ticket.created",
     "actor": "customer", "fields": {"priority": "high", "tags": ["vip"], "custom.tier": "gold"}}

The same events may come as one JSON array, as CSV or as Parquet (one column per top-level key and
one per field), and JSON Lines and CSV may be gzip-compressed. The format is chosen by the file's
suffix. Exports are messy, so a bad line does not stop the read: every bad line is reported with its
line number and the reason, and the good ones are kept (``strict=True`` stops at the first).

Choices a reader of an export needs to know:

- ``at`` must carry a UTC offset (a naive time is an error, never a guess) and is stored in UTC.
- A ``comment.added`` event needs an ``actor``; without ``public`` it is public, because every help
  desk treats a comment as public unless it is marked internal.
- ``score`` is required on ``ticket.rated`` (an integer from 1 to 5) and refused on other types.
- Fields are the ticket fields the condition language knows (``priority``, ``status``, ``group``,
  ``assignee``, ``organization``, ``requester``, ``channel``, ``tags``) and custom fields, given as
  ``"custom": {"NAME": value}`` or ``"custom.NAME": value``; both become ``custom.NAME`` keys. Any
  other field name is an error, as it is most likely a typo that would silently match nothing.
- A field set to ``null`` was cleared: the key is kept with ``None``.
- Ids given as numbers (``"id": 17``, an assignee id) are read as text.
- In CSV and Parquet an empty cell means the field is not in the event (it did not change); a field
  that was cleared is named in the ``cleared`` column (``;``-separated in CSV). Tags in a CSV cell
  are ``;``-separated (a cell of just ``;`` is an empty list). CSV is text, so custom values read
  from CSV are strings.
- An event whose id was already read is a duplicate: counted, and the first copy kept.
- Events are kept in the order of the file; sorting into replay order is the engine's job.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Final, Literal, cast

import pyarrow as pa
import pyarrow.parquet as pq

from duly.core.events import ACTORS, EVENT_TYPES, TICKET_FIELDS, Event
from duly.service.collector import collector_paused

__all__ = [
    "PROGRESS_EVERY",
    "EventBatch",
    "EventFileError",
    "EventProblem",
    "event_from_mapping",
    "event_to_mapping",
    "iter_event_files",
    "read_events",
    "write_events",
]

#: ``read_events`` reports progress after every this many lines or rows (and once at the end).
PROGRESS_EVERY: Final = 10_000

_Format = Literal["json", "csv", "parquet"]
_SUFFIXES: Final[tuple[tuple[str, _Format], ...]] = (
    (".jsonl", "json"),
    (".ndjson", "json"),
    (".json", "json"),
    (".csv", "csv"),
    (".parquet", "parquet"),
)
_SUFFIX_LIST: Final = ".jsonl, .ndjson, .json, .csv or .parquet; all but .parquet may end in .gz"

_KEYS: Final = ("id", "ticket", "at", "type", "actor", "public", "score", "fields")
_KEY_SET: Final = frozenset(_KEYS)
_TYPE_SET: Final = frozenset(EVENT_TYPES)
_ACTOR_SET: Final = frozenset(ACTORS)
_TEXT_FIELDS: Final = frozenset(TICKET_FIELDS) - {"tags"}
_KNOWN_FIELDS: Final = frozenset(TICKET_FIELDS)
_CUSTOM_PREFIX: Final = "custom."
_FIELD_LIST: Final = ", ".join(TICKET_FIELDS) + " or custom.NAME"

# Tabular files: the top-level keys become columns, ``fields`` is spread over one column per field.
_TOP_COLUMNS: Final = ("id", "ticket", "at", "type", "actor", "public", "score")
_REQUIRED_COLUMNS: Final = ("id", "ticket", "at", "type")
_CLEARED: Final = "cleared"
_NO_FIELDS: Final[Mapping[str, Any]] = MappingProxyType({})
_TRUE_WORDS: Final = frozenset({"true", "1", "yes"})
_FALSE_WORDS: Final = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class EventProblem:
    """One line (or row) of an event file that could not be read, and why.

    ``line`` is 1-based: the file's line for JSON Lines and CSV (the header is line 1), the row
    number for Parquet; 0 means the file as a whole.
    """

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.reason}"
            if self.line
            else f"{self.file}: {self.reason}"
        )


class EventFileError(ValueError):
    """An event file that cannot be used: unreadable, of unknown type, or bad under ``strict``."""

    def __init__(self, problems: list[EventProblem] | EventProblem) -> None:
        self.problems = [problems] if isinstance(problems, EventProblem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class EventBatch:
    """What one file gave: its events in file order (duplicates dropped) and its bad lines.

    ``lines`` counts the records looked at (non-blank lines, rows or array elements), so
    ``len(events) + duplicates + (problems about records) == lines``.
    """

    events: list[Event] = field(default_factory=list)
    problems: list[EventProblem] = field(default_factory=list)
    lines: int = 0
    duplicates: int = 0


# --------------------------------------------------------------------------- one event


def event_from_mapping(obj: Mapping[str, Any]) -> Event:
    """The event a JSON-shaped mapping describes; a ``ValueError`` names the field and why."""
    # Fast paths (``type(x) is ...`` before the general checks) matter: this runs once per line.
    if type(obj) is not dict and not isinstance(obj, Mapping):
        raise ValueError(f"event: must be an object, not {_kind(obj)}")
    if not obj.keys() <= _KEY_SET:
        unknown = sorted(str(k) for k in obj.keys() - _KEY_SET)[0]
        raise ValueError(f"{unknown}: unknown key (expected {', '.join(_KEYS)})")
    event_id = obj.get("id")
    if type(event_id) is not str or not event_id or event_id.isspace():
        event_id = _name(obj, "id")
    ticket = obj.get("ticket")
    if type(ticket) is not str or not ticket or ticket.isspace():
        ticket = _name(obj, "ticket")
    at = _instant(obj.get("at"))

    event_type = obj.get("type")
    if event_type is None:
        raise ValueError("type: missing")
    if type(event_type) is not str or event_type not in _TYPE_SET:
        raise ValueError(
            f"type: unknown event type {event_type!r} (expected one of {', '.join(EVENT_TYPES)})"
        )

    actor = obj.get("actor")
    if actor is None:
        if event_type == "comment.added":
            raise ValueError(
                f"actor: missing; a comment.added event needs one of {', '.join(ACTORS)}"
            )
    elif type(actor) is not str or actor not in _ACTOR_SET:
        raise ValueError(f"actor: unknown actor {actor!r} (expected one of {', '.join(ACTORS)})")

    public = obj.get("public")
    if public is None:
        if event_type == "comment.added":
            public = True
    elif type(public) is not bool:
        raise ValueError(f"public: must be true or false, not {_kind(public)}")

    score = obj.get("score")
    if event_type == "ticket.rated":
        if type(score) is not int or not 1 <= score <= 5:
            raise ValueError("score: must be an integer from 1 to 5")
    elif score is not None:
        raise ValueError(f"score: only ticket.rated events carry a score, not {event_type}")

    raw_fields = obj.get("fields")
    # A read-only view of a dict nobody else holds: Event keeps it as it is instead of copying.
    fields = _NO_FIELDS if raw_fields is None else MappingProxyType(_fields(raw_fields))
    return Event(event_id, ticket, at, event_type, actor, public, fields, score)


def _name(obj: Mapping[str, Any], key: str) -> str:
    """An identifier (event id, ticket id): non-empty text; a number is read as its digits."""
    value = obj.get(key)
    if isinstance(value, str):
        if value and not value.isspace():
            return value
        raise ValueError(f"{key}: must not be empty")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        raise ValueError(f"{key}: missing")
    raise ValueError(f"{key}: must be a non-empty string, not {_kind(value)}")


def _instant(value: Any) -> datetime:
    """``at`` as an aware UTC datetime; naive times are refused rather than guessed."""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"at: {value!r} is not an ISO 8601 date-time") from None
    elif isinstance(value, datetime):
        at = value
    elif value is None:
        raise ValueError("at: missing")
    else:
        raise ValueError(f"at: must be an ISO 8601 date-time string, not {_kind(value)}")
    if at.tzinfo is None or at.utcoffset() is None:
        shown = value if isinstance(value, str) else at.isoformat()
        raise ValueError(f"at: {shown!r} has no UTC offset")
    return at.astimezone(UTC)


def _fields(value: Any) -> dict[str, Any]:
    """Validated fields with custom fields flattened to ``custom.NAME`` keys."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise ValueError(f"fields: must be a mapping of field names to values, not {_kind(value)}")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key in _TEXT_FIELDS:
            fields[key] = item if type(item) is str else _text_field(key, item)
        elif key == "tags":
            fields[key] = _tags(item)
        elif key == "custom":
            if not isinstance(item, Mapping):
                raise ValueError(
                    "fields.custom: must be a mapping of custom field names to values, "
                    f"not {_kind(item)}"
                )
            for name, custom_value in item.items():
                _put_custom(fields, f"{_CUSTOM_PREFIX}{name}", custom_value)
        elif isinstance(key, str) and key.startswith(_CUSTOM_PREFIX):
            _put_custom(fields, key, item)
        else:
            raise ValueError(f"fields.{key}: unknown field (expected {_FIELD_LIST})")
    return fields


def _text_field(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"fields.{key}: must be a string or null, not {_kind(value)}")


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return value
    raise ValueError("fields.tags: must be a list of strings")


def _put_custom(fields: dict[str, Any], key: str, value: Any) -> None:
    if not isinstance(key, str) or key == _CUSTOM_PREFIX:
        raise ValueError(f"fields.{key}: a custom field needs a name")
    if key in fields:
        raise ValueError(f"fields.{key}: given twice")
    scalar = value is None or isinstance(value, str | int | float | bool)
    if not scalar and not (isinstance(value, list) and all(isinstance(i, str) for i in value)):
        raise ValueError(
            f"fields.{key}: must be a string, number, true/false, list of strings or null, "
            f"not {_kind(value)}"
        )
    fields[key] = value


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages a user of the export understands."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------- reading files


def read_events(
    path: Path,
    *,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> EventBatch:
    """Every event of one file, in file order; bad lines become problems (or raise if ``strict``).

    Raises ``EventFileError`` when the file cannot be used at all (missing, unknown suffix, not
    the format its suffix says, a table without the ``id``/``ticket``/``at``/``type`` columns),
    and under ``strict`` at the first bad line. ``progress`` gets the number of records read so
    far every ``PROGRESS_EVERY`` records and once at the end.
    """
    path = Path(path)
    file_format, compressed = _format_of(path)
    sink = _Sink(str(path), strict, progress)
    try:
        with collector_paused():
            if file_format == "parquet":
                _read_parquet(path, sink)
            else:
                with _open_binary(path, compressed) as stream:
                    if file_format == "json":
                        _read_json(stream, sink)
                    else:
                        _read_csv(stream, sink)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise EventFileError(EventProblem(str(path), sink.line, f"cannot read: {reason}")) from exc
    return sink.batch()


def iter_event_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to read for the given paths: a directory stands for its event files, by name.

    Files named explicitly are passed through (``read_events`` reports an unknown suffix);
    inside a directory, files of other types (a README, a ``.tmp``) are skipped.
    """
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and not child.name.startswith(".") and _known(child):
                    yield child
        else:
            yield path


class _Sink:
    """Collects one file's events: dedup by id, problems (or raise if strict), progress."""

    def __init__(self, file: str, strict: bool, progress: Callable[[int], None] | None) -> None:
        self.file = file
        self.strict = strict
        self.progress = progress
        self.events: list[Event] = []
        self.problems: list[EventProblem] = []
        self.seen: set[str] = set()
        self.records = 0
        self.duplicates = 0
        self.line = 0  # the line being read, for errors that end the read
        self.reported = 0

    def take(self, line: int, obj: Any) -> None:
        self.records += 1
        if self.progress is not None and not self.records % PROGRESS_EVERY:
            self._report()
        try:
            event = event_from_mapping(obj)
        except ValueError as exc:
            self.problem(line, str(exc))
            return
        if event.id in self.seen:
            self.duplicates += 1
        else:
            self.seen.add(event.id)
            self.events.append(event)

    def reject(self, line: int, reason: str) -> None:
        self.records += 1
        if self.progress is not None and not self.records % PROGRESS_EVERY:
            self._report()
        self.problem(line, reason)

    def problem(self, line: int, reason: str) -> None:
        problem = EventProblem(self.file, line, reason)
        if self.strict:
            raise EventFileError(problem)
        self.problems.append(problem)

    def _report(self) -> None:
        assert self.progress is not None
        self.progress(self.records)
        self.reported = self.records

    def batch(self) -> EventBatch:
        if self.progress is not None and (self.reported != self.records or not self.records):
            self._report()
        return EventBatch(self.events, self.problems, self.records, self.duplicates)


def _format_of(path: Path) -> tuple[_Format, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    for suffix, file_format in _SUFFIXES:
        if name.endswith(suffix) and not (compressed and file_format == "parquet"):
            return file_format, compressed
    raise EventFileError(
        EventProblem(str(path), 0, f"unknown type of event file (expected {_SUFFIX_LIST})")
    )


def _known(path: Path) -> bool:
    try:
        _format_of(path)
    except EventFileError:
        return False
    return True


def _open_binary(path: Path, compressed: bool) -> IO[bytes]:
    if compressed:
        # a GzipFile reads like any binary file; typeshed just does not call it IO[bytes]
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def _read_json(stream: IO[bytes], sink: _Sink) -> None:
    """JSON Lines, or a file that is one JSON array (recognised by its first character)."""
    # The C scanner behind json.loads, called directly: half the cost per line. Anything it does
    # not take cleanly (a BOM, leading blanks, bad JSON) goes to json.loads for the real verdict.
    scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
    loads = json.loads
    take = sink.take
    for line, raw in enumerate(stream, 1):
        if raw.isspace():
            continue
        sink.line = line
        if sink.records == 0 and raw.lstrip(b"\xef\xbb\xbf \t").startswith(b"["):
            rest = raw + stream.read()
            _read_json_array(rest.decode("utf-8-sig"), line, sink)
            return
        try:
            text = raw.decode()
            obj, end = scan(text, 0)
            if end != len(text) and not text[end:].isspace():
                raise ValueError("extra data")
        except (ValueError, StopIteration):
            try:
                obj = loads(raw)
            except ValueError as exc:
                sink.reject(line, _json_reason(exc))
                continue
        take(line, obj)


def _read_json_array(text: str, first_line: int, sink: _Sink) -> None:
    """A JSON array, element by element, so each bad element is reported at its own line."""
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    pos = len(text) - len(text.lstrip(ws)) + 1  # just after the "["
    line, counted, elements = first_line, 0, 0

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    while True:
        pos = _skip(text, pos, ws)
        if not elements and text.startswith("]", pos) and not text[pos + 1 :].strip(ws):
            return
        start = line_at(pos)
        sink.line = start
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            sink.reject(first_line - 1 + exc.lineno, _json_reason(exc))
            return
        sink.take(start, obj)
        elements += 1
        pos = _skip(text, pos, ws)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        if pos < len(text) and text[pos] == "]" and not text[pos + 1 :].strip(ws):
            return
        sink.reject(line_at(pos), "not valid JSON: expected ',' or ']' after an array element")
        return


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    return f"not valid JSON: {exc}"


# --------------------------------------------------------------------------- tabular files


_Kind = Literal["key", "public", "score", "tags", "cleared", "field"]
_SPECIAL_COLUMNS: Final[dict[str, _Kind]] = {
    "public": "public",
    "score": "score",
    "tags": "tags",
    _CLEARED: "cleared",
}


@dataclass(frozen=True, slots=True)
class _Column:
    """How one CSV or Parquet column goes into an event mapping."""

    name: str
    kind: _Kind


def _columns(names: Sequence[str], sink: _Sink, header_line: int) -> list[_Column | None]:
    """One entry per column; ``None`` for a column that is reported and ignored."""
    missing = [name for name in _REQUIRED_COLUMNS if name not in names]
    if missing:
        raise EventFileError(
            EventProblem(
                sink.file,
                header_line,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(an event file needs {', '.join(_REQUIRED_COLUMNS)})",
            )
        )
    columns: list[_Column | None] = []
    seen: set[str] = set()
    for name in names:
        column: _Column | None = None
        if name in seen:
            sink.problem(header_line, f"column {name!r} appears twice; the second is ignored")
        elif name in _SPECIAL_COLUMNS:
            column = _Column(name, _SPECIAL_COLUMNS[name])
        elif name in _TOP_COLUMNS:
            column = _Column(name, "key")
        elif name in _KNOWN_FIELDS or (name.startswith(_CUSTOM_PREFIX) and name != _CUSTOM_PREFIX):
            column = _Column(name, "field")
        else:
            sink.problem(
                header_line,
                f"unknown column {name!r} is ignored (expected {', '.join(_TOP_COLUMNS)}, "
                f"{_FIELD_LIST} or {_CLEARED})",
            )
        seen.add(name)
        columns.append(column)
    return columns


def _tabular_mapping(columns: Sequence[_Column | None], row: Sequence[Any]) -> dict[str, Any]:
    """A row as the mapping ``event_from_mapping`` reads; empty cells are left out."""
    obj: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for column, value in zip(columns, row, strict=False):
        if column is None or value is None or (isinstance(value, str) and _blank(value)):
            continue
        kind = column.kind
        if kind == "field":
            fields[column.name] = value
        elif kind == "key":
            obj[column.name] = value
        elif kind == "tags":
            fields["tags"] = _split(value) if isinstance(value, str) else value
        elif kind == "public":
            obj["public"] = _cell_bool(value)
        elif kind == "score":
            obj["score"] = _cell_int(value)
        else:
            for name in _split(value) if isinstance(value, str) else value:
                fields[name] = None
    if fields:
        obj["fields"] = fields
    return obj


def _blank(text: str) -> bool:
    return not text or text.isspace()


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part and not part.isspace()]


def _cell_bool(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError(f"public: {value!r} is not one of true, false, 1, 0, yes, no")
    if type(value) is int and value in (0, 1):
        return bool(value)
    return value  # a real boolean, or something event_from_mapping will name


def _cell_int(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError("score: must be an integer from 1 to 5") from None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_csv(stream: IO[bytes], sink: _Sink) -> None:
    with io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        columns = _columns([name.strip() for name in header], sink, 1)
        width = len(columns)
        take = sink.take
        next_line = reader.line_num + 1
        for row in reader:
            # a quoted cell may span lines: a row starts where the previous one ended
            line, next_line = next_line, reader.line_num + 1
            sink.line = line
            if not row or (len(row) == 1 and _blank(row[0])):
                continue
            if len(row) > width and any(not _blank(cell) for cell in row[width:]):
                sink.reject(line, f"the row has {len(row)} cells but the header has {width}")
                continue
            try:
                obj = _tabular_mapping(columns, row)
            except ValueError as exc:
                sink.reject(line, str(exc))
            else:
                take(line, obj)


def _read_parquet(path: Path, sink: _Sink) -> None:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowIOError) as exc:
        raise EventFileError(EventProblem(sink.file, 0, f"not a Parquet file: {exc}")) from exc
    names = list(parquet.schema_arrow.names)
    columns = _columns(names, sink, 0)
    wanted = [name for name, column in zip(names, columns, strict=True) if column is not None]
    used = [column for column in columns if column is not None]
    row_number = 0
    for batch in parquet.iter_batches(batch_size=PROGRESS_EVERY, columns=wanted):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*values, strict=True):
            row_number += 1
            sink.line = row_number
            try:
                obj = _tabular_mapping(used, row)
            except ValueError as exc:
                sink.reject(row_number, str(exc))
            else:
                sink.take(row_number, obj)


# --------------------------------------------------------------------------- writing files


def write_events(path: Path, events: Iterable[Event]) -> None:
    """Write events as JSON Lines, CSV or Parquet (by suffix), so ``read_events`` gives them back.

    The file appears complete or not at all: it is written beside the target and moved into
    place. Raises ``ValueError`` for a value the format cannot hold (a CSV tag containing ``;``,
    an empty text value that CSV would read as "not in the event", mixed types in a Parquet
    column).
    """
    path = Path(path)
    file_format, compressed = _format_of(path)
    events = list(events)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if file_format == "parquet":
            pq.write_table(_arrow_table(events), partial)
        else:
            with _open_text(partial, compressed) as stream:
                if file_format == "json":
                    _write_json_lines(stream, events)
                else:
                    _write_csv(stream, events)
        os.replace(partial, path)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()


def _open_text(path: Path, compressed: bool) -> IO[str]:
    if compressed:
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def event_to_mapping(event: Event) -> dict[str, Any]:
    """The JSON-shaped mapping of an event (``event_from_mapping`` reads it back unchanged)."""
    obj: dict[str, Any] = {
        "id": event.id,
        "ticket": event.ticket,
        "at": event.at.astimezone(UTC).isoformat(),
        "type": event.type,
    }
    if event.actor is not None:
        obj["actor"] = event.actor
    if event.public is not None:
        obj["public"] = event.public
    if event.score is not None:
        obj["score"] = event.score
    if event.fields:
        obj["fields"] = dict(event.fields)
    return obj


def _write_json_lines(stream: IO[str], events: list[Event]) -> None:
    dumps = json.dumps
    for event in events:
        stream.write(dumps(event_to_mapping(event), ensure_ascii=False))
        stream.write("\n")


def _field_columns(events: list[Event]) -> tuple[list[str], bool]:
    """The field columns the events need (ticket fields first, then custom by name), and
    whether any field was cleared."""
    used: set[str] = set()
    cleared = False
    for event in events:
        for name, value in event.fields.items():
            if value is None:
                cleared = True
            else:
                used.add(name)
    known = [name for name in TICKET_FIELDS if name in used]
    return known + sorted(used - _KNOWN_FIELDS), cleared


def _write_csv(stream: IO[str], events: list[Event]) -> None:
    field_names, any_cleared = _field_columns(events)
    header = [*_TOP_COLUMNS, *field_names] + ([_CLEARED] if any_cleared else [])
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for event in events:
        fields = event.fields
        row = [
            event.id,
            event.ticket,
            event.at.astimezone(UTC).isoformat(),
            event.type,
            event.actor or "",
            "" if event.public is None else ("true" if event.public else "false"),
            "" if event.score is None else str(event.score),
        ]
        for name in field_names:
            value = fields.get(name)
            row.append("" if value is None else _csv_cell(event, name, value))
        if any_cleared:
            row.append(";".join(name for name, value in fields.items() if value is None))
        writer.writerow(row)


def _csv_cell(event: Event, name: str, value: Any) -> str:
    if isinstance(value, list):
        for item in value:
            text = str(item)
            if ";" in text or _blank(text) or text != text.strip():
                raise ValueError(
                    f"event {event.id}: fields.{name}: {text!r} cannot be written to a CSV "
                    "list cell (items are ';'-separated and trimmed)"
                )
        return ";".join(str(item) for item in value) if value else ";"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _blank(text):
        raise ValueError(
            f"event {event.id}: fields.{name}: an empty value cannot be written to CSV "
            "(an empty cell means the field is not in the event)"
        )
    return text


def _arrow_table(events: list[Event]) -> pa.Table:
    field_names, any_cleared = _field_columns(events)
    data: dict[str, pa.Array] = {
        "id": pa.array([e.id for e in events], pa.string()),
        "ticket": pa.array([e.ticket for e in events], pa.string()),
        "at": pa.array([e.at.astimezone(UTC) for e in events], pa.timestamp("us", tz="UTC")),
        "type": pa.array([e.type for e in events], pa.string()),
        "actor": pa.array([e.actor for e in events], pa.string()),
        "public": pa.array([e.public for e in events], pa.bool_()),
        "score": pa.array([e.score for e in events], pa.int64()),
    }
    for name in field_names:
        values = [e.fields.get(name) for e in events]
        if name == "tags":
            arrow_type = pa.list_(pa.string())
        elif name in _TEXT_FIELDS:
            arrow_type = pa.string()
        else:
            arrow_type = None  # custom: whatever the values are
        try:
            data[name] = pa.array(values, arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(
                f"fields.{name}: the values cannot share one Parquet column ({exc})"
            ) from exc
    if any_cleared:
        data[_CLEARED] = pa.array(
            [[n for n, v in e.fields.items() if v is None] or None for e in events],
            pa.list_(pa.string()),
        )
    return pa.table(data)
