"""Help-desk audit logs turned into duly events (what ``duly import-log`` runs).

An audit log is a snapshot of a ticket after every change: one row per update, every field
repeated. duly wants the opposite: one event per fact, carrying only what changed. An importer
reads such a log as a stream and yields events; ``import_log`` writes them to an event file that
``read_events`` (and ``duly import``) reads back.

**ServiceNow** (``kind="servicenow"``): an export of the ``incident`` table's history, with the
columns of the public *Incident management process enriched event log* (Amaral, Fantinato &
Peres, 2018, UCI Machine Learning Repository, doi:10.24432/C57S4H). Plain CSV or gzip-compressed
CSV (recognised by its content, not its name). ``?`` or an empty cell is a missing value.

Each incident becomes:

- one ``ticket.created`` at ``opened_at``, actor ``customer`` (the caller opened it), with the
  ticket as the incident's first row shows it: ``status`` (``incident_state``), ``priority``,
  ``group`` (``assignment_group``), ``assignee`` (``assigned_to``), ``channel``
  (``contact_type``), ``requester`` (``caller_id``), ``custom.category``, ``custom.impact`` and
  ``custom.urgency``. Missing values are left out.
- one ``ticket.updated`` per later row that changed any of those fields, at the row's
  ``sys_updated_at``, carrying only the fields that changed; a value that became missing is
  cleared (``None``). Rows that change nothing give no event (``ImportStats.unchanged``).
- one ``comment.added`` (actor ``agent``, public) the first time the incident is in a state other
  than ``New`` -- at creation if it was opened already ``Active`` or ``Resolved``. The log holds
  no comments, so this is the proxy that makes ``first_reply`` measurable: leaving ``New`` is when
  an agent takes the incident on, which is what an ITIL response target measures.

Choices, each for a reason a user of the log will meet:

- **Priority, impact and urgency** are ITIL codes such as ``3 - Moderate``; they are given by
  their name in lower case (``moderate``; impact and urgency ``high``, ``medium``, ``low``), so a
  config names priorities the way people say them. A value not of that shape is kept as it is.
  Status, group, assignee, channel, requester and category keep the log's text: the config's
  ``statuses`` table maps states such as ``Awaiting User Info`` onto duly's.
- **Order.** Rows are taken in the file's order within an incident, which is the log's own
  order (by ``sys_mod_count``). They are not re-sorted: the five incidents of the UCI log whose
  ``sys_mod_count`` runs out of order or repeats all open with a stale snapshot (four of them
  dated before the incident was opened), which re-sorting would replay in the middle of the
  incident's life. An incident's rows must be together; rows of an incident seen earlier in the
  file are skipped.
- **Times** have no zone in the log: they are read as wall-clock times in ``timezone`` (default
  UTC) and stored in UTC. A time in the hour skipped when clocks go forward is read with the
  offset before the change, and a time in the hour that repeats when they go back is its first
  occurrence (Python's ``fold=0``). Day first (``29/2/2016 01:16``) or ISO (``2016-02-29
  01:16``); seconds are optional.
- **Time never runs backwards within an incident.** The first row's own time is not used: its
  state is the ticket's at ``opened_at`` (in five incidents of the UCI log the first row is dated
  before ``opened_at``). A later row dated before ``opened_at``, or before the row above it, is
  moved forward to that time and counted (``ImportStats.clamped``), so that every change is
  replayed in the order it was computed in.
- **Ids** are stable, so importing the same log again gives the same ids and a store keeps no
  duplicates: ``INC0000045/opened`` (created), ``INC0000045/0003`` (the update of the row with
  ``sys_mod_count`` 3, padded to four digits), ``INC0000045/response`` (the proxy comment). The
  padding matters: events at the same instant replay in id order, and the log is in minutes, so
  ``/9`` and ``/10`` in the same minute must sort as 9 before 10. A ``sys_mod_count`` that repeats
  among an incident's later rows gets ``.2``, ``.3``, ... from its second row on.
- **Skipped rows** are counted with their reason and first line numbers: ``incident_state``
  ``-100`` (the log's junk state), a missing state or incident number, an unreadable time or
  ``sys_mod_count``, a row of the wrong width, an incident's rows not kept together.
- Updates carry no actor: the log names who saved a row (anonymised) but not whether it was an
  agent, the caller or an automation such as the closing of resolved incidents after five days.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Final, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from duly.core.events import Event
from duly.service.event_files import PROGRESS_EVERY, write_events

__all__ = [
    "IMPORT_KINDS",
    "AuditLogError",
    "ImportStats",
    "import_log",
    "import_servicenow_log",
]

#: How many line numbers ``ImportStats`` keeps per reason a row was skipped.
EXAMPLE_LINES: Final = 5

_MISSING: Final = frozenset({"", "?"})
_JUNK_STATE: Final = "-100"
_NEW_STATE: Final = "New"
_REQUIRED: Final = ("number", "incident_state", "sys_mod_count", "opened_at", "sys_updated_at")
_ITIL_LEVEL: Final = re.compile(r"\s*\d+\s*-\s*(\S.*?)\s*")
_DAY_FIRST: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_GZIP_MAGIC: Final = b"\x1f\x8b"
_MOD_WIDTH: Final = 4

# Reasons a row is skipped, as ImportStats names them.
JUNK_STATE: Final = "incident_state is -100 (a junk state of the log)"
NO_STATE: Final = "incident_state is missing"
NO_NUMBER: Final = "number is missing"
BAD_OPENED: Final = "opened_at is missing or not a date"
BAD_UPDATED: Final = "sys_updated_at is missing or not a date"
BAD_MOD_COUNT: Final = "sys_mod_count is not a whole number"
WRONG_WIDTH: Final = "the row has a different number of cells than the header"
NOT_TOGETHER: Final = "the incident's rows are not together (it appeared earlier in the file)"
# Reasons a row's time is moved forward.
BEFORE_OPENED: Final = "sys_updated_at before opened_at"
BEFORE_PREVIOUS: Final = "sys_updated_at before the row above"


class AuditLogError(ValueError):
    """An audit log that cannot be imported at all: unreadable, empty or without its columns."""


@dataclass
class ImportStats:
    """What an import read and made.

    ``rows`` counts data rows (not the header); each is either skipped (``skipped``, by reason),
    the first row of an incident (one per ``incidents``), an update (``events_by_type
    ['ticket.updated']``) or ``unchanged``.
    """

    incidents: int = 0
    rows: int = 0
    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)
    clamped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_rows(self) -> int:
        """Rows left out, whatever the reason."""
        return sum(self.skipped.values())

    def _skip(self, reason: str, line: int) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        lines = self.skipped_lines.setdefault(reason, [])
        if len(lines) < EXAMPLE_LINES:
            lines.append(line)

    def _count(self, event: Event) -> None:
        self.events += 1
        self.events_by_type[event.type] = self.events_by_type.get(event.type, 0) + 1


class _Importer(Protocol):
    def __call__(
        self,
        source: Path,
        *,
        timezone: str = ...,
        stats: ImportStats | None = ...,
        progress: Callable[[int], None] | None = ...,
    ) -> Iterator[Event]: ...


def import_log(
    source: Path,
    destination: Path,
    *,
    kind: str = "servicenow",
    timezone: str = "UTC",
    progress: Callable[[int], None] | None = None,
) -> ImportStats:
    """Import the audit log ``source`` of help desk ``kind`` into the event file ``destination``.

    The format of ``destination`` follows its suffix (``.jsonl``, ``.csv``, ``.parquet``, ...,
    see ``write_events``); the file appears complete or not at all. ``progress`` is called with
    the number of rows read so far, every ``PROGRESS_EVERY`` rows and once at the end. Raises
    ``ValueError`` for an unknown kind or time zone, ``AuditLogError`` for a log that cannot be
    read, ``EventFileError`` for a destination of unknown type.
    """
    importer = IMPORT_KINDS.get(kind)
    if importer is None:
        raise ValueError(f"unknown kind of log {kind!r} (expected {', '.join(IMPORT_KINDS)})")
    stats = ImportStats()
    write_events(
        Path(destination),
        importer(Path(source), timezone=timezone, stats=stats, progress=progress),
    )
    return stats


def import_servicenow_log(
    source: Path,
    *,
    timezone: str = "UTC",
    stats: ImportStats | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Event]:
    """The events of a ServiceNow incident audit log (CSV, or CSV in gzip), as they are read.

    ``timezone`` is the IANA zone the log's times are wall-clock times in. ``stats``, if given,
    is filled in as the events are yielded. Raises ``ValueError`` at once for an unknown time
    zone; ``AuditLogError`` when the log turns out unreadable or lacks a required column.
    """
    zone = _zone(timezone)
    return _servicenow_events(Path(source), zone, stats or ImportStats(), progress)


IMPORT_KINDS: Final[Mapping[str, _Importer]] = {"servicenow": import_servicenow_log}


# --------------------------------------------------------------------------- ServiceNow

# duly field <- log column, and whether the value is an ITIL "N - Name" code.
_FIELDS: Final = (
    ("status", "incident_state", False),
    ("priority", "priority", True),
    ("group", "assignment_group", False),
    ("assignee", "assigned_to", False),
    ("channel", "contact_type", False),
    ("requester", "caller_id", False),
    ("custom.category", "category", False),
    ("custom.impact", "impact", True),
    ("custom.urgency", "urgency", True),
)


@dataclass
class _Incident:
    """The incident being read: what its last row said, for the next row to be compared with."""

    number: str
    opened_at: datetime
    last_at: datetime
    fields: dict[str, str]
    responded: bool
    mod_counts: dict[int, int] = field(default_factory=dict)


def _servicenow_events(
    source: Path,
    zone: tzinfo,
    stats: ImportStats,
    progress: Callable[[int], None] | None,
) -> Iterator[Event]:
    with _open_text(source) as text:
        reader = csv.reader(text)
        try:
            header = next(reader, None)
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise _unreadable(source, exc) from exc
        if header is None:
            raise AuditLogError(f"{source}: the file is empty (expected a CSV header)")
        columns = {name.strip(): i for i, name in enumerate(header)}
        missing = [name for name in _REQUIRED if name not in columns]
        if missing:
            raise AuditLogError(
                f"{source}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(a ServiceNow incident log needs {', '.join(_REQUIRED)})"
            )
        reading = _Reader(zone, stats, columns, len(header))
        rows = iter(reader)
        while True:
            try:
                row = next(rows, None)
            except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(source, exc, reader.line_num) from exc
            if row is None:
                break
            if not row:
                continue
            stats.rows += 1
            if progress is not None and not stats.rows % PROGRESS_EVERY:
                progress(stats.rows)
            yield from reading.row(row, reader.line_num)
        yield from reading.finish()
        if progress is not None and (stats.rows % PROGRESS_EVERY or not stats.rows):
            progress(stats.rows)


class _Reader:
    """Turns rows into events, one incident at a time."""

    def __init__(
        self, zone: tzinfo, stats: ImportStats, columns: Mapping[str, int], width: int
    ) -> None:
        self.stats = stats
        self.width = width
        self.parse = _time_parser(zone)
        self.col = {name: columns[name] for name in _REQUIRED}
        self.fields = [(name, columns.get(column), itil) for name, column, itil in _FIELDS]
        self.incident: _Incident | None = None
        self.group = ""  # the incident number of the rows being read
        self.scattered = False  # whether they are rows of an incident seen before
        self.seen: set[str] = set()
        self.pending: Event | None = None  # the proxy comment, held until time moves on

    def row(self, row: list[str], line: int) -> Iterator[Event]:
        stats = self.stats
        if len(row) != self.width:
            stats._skip(WRONG_WIDTH, line)
            return
        number = row[self.col["number"]].strip()
        if number in _MISSING:
            stats._skip(NO_NUMBER, line)
            return
        if number != self.group:
            # the rows of another incident begin; the one before is over
            yield from self.finish()
            self.group = number
            self.incident = None
            self.scattered = number in self.seen
            self.seen.add(number)
        if self.scattered:
            stats._skip(NOT_TOGETHER, line)
            return
        incident = self.incident
        state = row[self.col["incident_state"]].strip()
        if state == _JUNK_STATE:
            stats._skip(JUNK_STATE, line)
            return
        if state in _MISSING:
            stats._skip(NO_STATE, line)
            return
        if incident is None:
            yield from self._open(number, row, line)
            return
        updated_at = self.parse(row[self.col["sys_updated_at"]].strip())
        if updated_at is None:
            stats._skip(BAD_UPDATED, line)
            return
        mod_text = row[self.col["sys_mod_count"]].strip()
        if not mod_text.isdigit():
            stats._skip(BAD_MOD_COUNT, line)
            return
        yield from self._update(incident, row, updated_at, int(mod_text))

    def finish(self) -> Iterator[Event]:
        """The incident is over: release the comment still held back."""
        if self.pending is not None:
            yield self._emit(self.pending)
            self.pending = None

    def _open(self, number: str, row: list[str], line: int) -> Iterator[Event]:
        opened_at = self.parse(row[self.col["opened_at"]].strip())
        if opened_at is None:
            self.stats._skip(BAD_OPENED, line)
            return
        self.stats.incidents += 1
        values = self._values(row)
        incident = _Incident(number, opened_at, opened_at, values, responded=False)
        self.incident = incident
        yield self._emit(
            Event(
                id=f"{number}/opened",
                ticket=number,
                at=opened_at,
                type="ticket.created",
                actor="customer",
                fields=values,
            )
        )
        self._respond(incident, opened_at)

    def _update(
        self, incident: _Incident, row: list[str], updated_at: datetime, mod_count: int
    ) -> Iterator[Event]:
        at = self._clamped(updated_at, incident.opened_at, incident.last_at)
        if self.pending is not None and at > self.pending.at:
            yield from self.finish()
        incident.last_at = at
        # stable ids: the nth row with one sys_mod_count gets ".n" from the second on
        seen = incident.mod_counts.get(mod_count, 0) + 1
        incident.mod_counts[mod_count] = seen
        values = self._values(row)
        before = incident.fields
        changed: dict[str, Any] = {
            name: value for name, value in values.items() if before.get(name) != value
        }
        changed.update((name, None) for name in before.keys() - values.keys())
        incident.fields = values
        if not changed:
            self.stats.unchanged += 1
            return
        event_id = f"{incident.number}/{mod_count:0{_MOD_WIDTH}d}"
        if seen > 1:
            event_id += f".{seen}"
        yield self._emit(
            Event(id=event_id, ticket=incident.number, at=at, type="ticket.updated", fields=changed)
        )
        self._respond(incident, at)

    def _respond(self, incident: _Incident, at: datetime) -> None:
        """Hold back the proxy comment when the incident first leaves New.

        It is released once time moves past ``at``, so that the events come out in the order
        the engine replays them in (a comment after every update of the same instant).
        """
        if incident.responded or incident.fields.get("status") == _NEW_STATE:
            return
        incident.responded = True
        self.pending = Event(
            id=f"{incident.number}/response",
            ticket=incident.number,
            at=at,
            type="comment.added",
            actor="agent",
            public=True,
        )

    def _values(self, row: list[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, column, itil in self.fields:
            if column is None:
                continue
            text = row[column].strip()
            if text in _MISSING:
                continue
            values[name] = _itil_name(text) if itil else text
        return values

    def _clamped(self, at: datetime, opened_at: datetime, previous: datetime) -> datetime:
        if at >= previous:
            return at
        reason = BEFORE_OPENED if at < opened_at else BEFORE_PREVIOUS
        self.stats.clamped[reason] = self.stats.clamped.get(reason, 0) + 1
        return previous

    def _emit(self, event: Event) -> Event:
        self.stats._count(event)
        return event


def _itil_name(text: str) -> str:
    """``3 - Moderate`` -> ``moderate``; other text as it is."""
    match = _ITIL_LEVEL.fullmatch(text)
    return match.group(1).lower() if match else text


# --------------------------------------------------------------------------- reading helpers


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone: unknown time zone {name!r} (use an IANA name like Europe/Stockholm)"
        ) from None


def _time_parser(zone: tzinfo) -> Callable[[str], datetime | None]:
    """A cached reader of the log's naive times, as aware UTC datetimes in ``zone``."""

    @lru_cache(maxsize=1 << 16)
    def parse(text: str) -> datetime | None:
        match = _DAY_FIRST.fullmatch(text)
        try:
            if match:
                day, month, year, hour, minute, second = match.groups()
                naive = datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
                )
            else:
                naive = datetime.fromisoformat(text)
        except ValueError:
            return None
        if naive.tzinfo is not None:
            return None  # the log's times are naive; an offset means another format
        return naive.replace(tzinfo=zone).astimezone(UTC)

    return parse


@contextmanager
def _open_text(source: Path) -> Iterator[IO[str]]:
    """The log as text, whether plain or gzip-compressed (told by its first bytes)."""
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(source.open("rb"))
        except OSError as exc:
            raise AuditLogError(f"{source}: cannot read file: {exc.strerror}") from exc
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: IO[bytes] = raw
        if compressed:
            # a GzipFile reads like any binary file; typeshed just does not call it IO[bytes]
            stream = cast("IO[bytes]", stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))
        yield stack.enter_context(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))


def _unreadable(source: Path, exc: BaseException, line: int = 0) -> AuditLogError:
    where = f"{source}:{line}" if line else str(source)
    if isinstance(exc, UnicodeDecodeError):
        return AuditLogError(f"{where}: the file is not UTF-8 text")
    if isinstance(exc, csv.Error):
        return AuditLogError(f"{where}: not valid CSV: {exc}")
    return AuditLogError(f"{where}: cannot read the file ({exc})")
