"""Business-hours calendars: when an SLA clock runs, and how much of it ran.

Every clock in duly stands on two questions: how much business time lies between two instants
(`between`) and when a given amount of business time will have passed (`add`). Both are answered
from one *timeline*: the calendar's open intervals turned into UTC epoch seconds with a running sum
of open time, so that ``B(t)``, the business seconds before ``t``, is a lookup and
``between(a, b) = B(b) - B(a)``.

Working hours are wall-clock hours in the calendar's zone. An instant is open when its local
wall-clock reading falls inside an interval of its local date (an interval that runs past midnight
belongs to the day it opens on). That single rule decides both DST cases: an opening time that
does not exist (spring forward) opens at the jump, and an hour that happens twice (fall back)
counts twice if the wall clock says it is working time both times. Time is counted in real
seconds, so a 09:00-17:00 day that spans a DST change holds 7 or 9 hours.

The timeline is built lazily for the years a call touches and kept; the vectorized paths add a
constant-time table over the same span (one slot per ``grain`` seconds, where ``grain`` is the
largest step that divides every interval boundary, an hour for most calendars), so a batch of
instants is answered with gathers instead of searches.

Instants inside the engine are integer microseconds since the Unix epoch, the resolution of
``datetime``: scalar and vectorized calls therefore give exactly the same results.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "WEEKDAYS",
    "BusinessReading",
    "Calendar",
    "Hours",
    "utc_offsets",
]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2100

#: One working interval of a local day, in minutes after local midnight: ``(start, end)``.
#: ``end`` may pass 1440 for an interval that runs past midnight (it belongs to its opening day).
Hours = tuple[tuple[int, int], ...]

_US: Final = 1_000_000
_DAY: Final = 86_400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
# Local dates whose intervals are built: one year either side of the supported range, so that
# instants at its very edges still see their neighbours' overnight intervals.
_FIRST_BUILD_YEAR: Final = MIN_YEAR - 1
_LAST_BUILD_YEAR: Final = MAX_YEAR + 1
_MIN_US: Final = 0
_MAX_US: Final = (date(MAX_YEAR + 1, 1, 1).toordinal() - _EPOCH_ORDINAL) * _DAY * _US
# An interval opening on a local date lies within two days of that date's midnight, and no zone is
# more than 26 hours from UTC: a three-day margin keeps a built span's edges exact.
_MARGIN: Final = 3 * _DAY
# Offsets are sampled this often to find a zone's transitions, then each is found to the second.
_SAMPLE_STEP: Final = 6 * 3600
# Above this many slots the constant-time table would cost more memory than it saves time; the
# vectorized paths then search the interval bounds instead.
_MAX_TABLE_SLOTS: Final = 1 << 23
# A uniform table up to this many slots stays in the CPU cache; beyond, a coarser slot table wins.
_UNIFORM_MAX_SLOTS: Final = 1 << 18
_SLOT_GRAINS: Final = (3600, 1800, 1200, 900, 600, 300, 120, 60)
# Batches are worked through in chunks this long, so the working buffers stay in the CPU cache.
_CHUNK: Final = 16_384

IntArray = npt.NDArray[np.int64]


def _check_hours(hours: Sequence[tuple[int, int]], where: str) -> Hours:
    """Reject intervals the timeline could not represent, naming the day they belong to."""
    result = tuple(sorted((int(s), int(e)) for s, e in hours))
    for start, end in result:
        if not 0 <= start < 1440:
            raise ValueError(f"{where}: interval start {start} is not a minute of the day")
        if end <= start:
            raise ValueError(f"{where}: interval {start}-{end} has zero or negative length")
        if end - start > 1440:
            raise ValueError(f"{where}: interval {start}-{end} is longer than a day")
    for (_, end), (start, _) in itertools.pairwise(result):
        if start < end:
            raise ValueError(f"{where}: intervals overlap")
    return result


@dataclass(frozen=True)
class _Timeline:
    """The open intervals of a span of local years, as UTC epoch seconds with a running sum.

    ``cum[i]`` is the business time before ``opens[i]``; only instants in
    ``[valid_lo, valid_hi]`` are answered from it, the rest make the calendar build a wider one.
    """

    first_year: int
    last_year: int
    valid_lo: int
    valid_hi: int
    opens: IntArray
    closes: IntArray
    cum: IntArray
    grain: int
    opens_us: list[int]
    closes_us: list[int]
    cum_us: list[int]
    table: list[_Table | _SlotTable | None] = field(default_factory=lambda: [None])

    @property
    def total(self) -> int:
        """Business seconds in the whole built span."""
        return int(self.cum[-1] + self.closes[-1] - self.opens[-1]) if len(self.opens) else 0


@dataclass(frozen=True)
class _Table:
    """Business seconds at each ``grain`` step of the timeline, and where each open step is.

    ``at[k]`` is ``B(base + k * grain)``; within a step the calendar is wholly open or wholly
    closed, so ``B(t) = min(at[k] + (t - start of step k), at[k + 1])``. ``open_steps[j]`` is the
    index of the j-th open step, which inverts ``B`` with one gather.
    """

    base: int
    grain: int
    at: IntArray
    nxt: IntArray
    open_steps: IntArray


@dataclass(frozen=True)
class _SlotTable:
    """Per slot of ``grain`` seconds: business before it, closed lead-in, open run length.

    The ``open_*`` arrays repeat those of the slots with an open run, in order, with
    ``open_end`` the business time at each run's end; ``first_after[b]`` is the first run ending
    after business time ``open_at[0] + b * grain``, from which at most ``max_steps`` runs need
    stepping over to invert ``B``.
    """

    base: int
    grain: int
    at: IntArray
    lead: IntArray
    span: IntArray
    open_slots: IntArray
    open_at: IntArray
    open_lead: IntArray
    open_end: IntArray
    first_after: IntArray
    max_steps: int


@dataclass(frozen=True, eq=False)
class Calendar:
    """A time zone, weekly working hours, holidays and dated exceptions.

    ``week`` holds seven entries, Monday first. A holiday closes the intervals that open on that
    local date; an exception replaces them (an exception on a holiday wins: it is the more
    specific statement). All public methods take timezone-aware datetimes and return aware UTC
    datetimes; a naive datetime is an error, not a guess.
    """

    timezone: str
    week: tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]
    holidays: frozenset[date] = frozenset()
    exceptions: Mapping[date, Hours] = field(default_factory=dict)
    name: str = ""
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _timeline: list[_Timeline | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if len(self.week) != 7:
            raise ValueError("week needs seven entries, Monday first")
        week = tuple(_check_hours(h, WEEKDAYS[i]) for i, h in enumerate(self.week))
        for i in range(7):
            tomorrow = week[(i + 1) % 7]
            spill = [e - 1440 for _, e in week[i] if e > 1440]
            if spill and tomorrow and tomorrow[0][0] < max(spill):
                raise ValueError(
                    f"{WEEKDAYS[i]}: an interval past midnight overlaps {WEEKDAYS[(i + 1) % 7]}"
                )
        exceptions = {d: _check_hours(h, d.isoformat()) for d, h in self.exceptions.items()}
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "exceptions", exceptions)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_timeline", [None])

    @classmethod
    def always_open(cls, timezone: str = "UTC", name: str = "24x7") -> Calendar:
        """The ``24x7`` calendar: every instant is business time."""
        whole_day: Hours = ((0, 1440),)
        return cls(timezone=timezone, week=(whole_day,) * 7, name=name)

    # ----------------------------------------------------------------------------- scalar API

    def between(self, start: datetime, end: datetime) -> float:
        """Business seconds in ``[start, end)``; ``-between(end, start)`` when reversed."""
        a, b = _to_us(start, "start"), _to_us(end, "end")
        tl = self._covering(min(a, b), max(a, b))
        return (_business_us(tl, b) - _business_us(tl, a)) / _US

    def add(self, start: datetime, seconds: float) -> datetime:
        """The latest instant ``u`` with ``between(start, u) == seconds``.

        Forward, that is when a clock with ``seconds`` of target passes it: a result that would fall
        on a closing time rolls to the next opening, because no business time passes in between.
        Backward it is the instant nearest ``start``.
        """
        return _from_us(self.add_us(_to_us(start, "start"), _seconds_to_us(seconds)))

    def business_before_us(self, instants: Sequence[int]) -> list[int]:
        """Business microseconds before each of ``instants`` (epoch microseconds, ascending),
        all counted from one origin: the difference of two answers is ``between`` of the two.

        The clock engine cuts a clock into pieces at its ticket's events; one call answers every
        cut with one timeline and searches that start where the previous one stopped, where
        ``between`` per piece would convert and search both ends each time.
        """
        return self.reading_us(instants).before

    def reading_us(self, instants: Sequence[int]) -> BusinessReading:
        """``business_before_us``, kept with the timeline it was read from, so that adding
        business time to one of the instants can start from its answer (``BusinessReading``)."""
        if not instants:
            return BusinessReading([], self, None)
        tl = self._covering(instants[0], instants[-1])
        opens, closes, cum = tl.opens_us, tl.closes_us, tl.cum_us
        found: list[int] = []
        i = 0
        for t in instants:
            i = bisect.bisect_right(opens, t, i) - 1
            if i < 0:
                found.append(0)
                i = 0
                continue
            open_at = opens[i]
            inside = t - open_at
            length = closes[i] - open_at
            found.append(cum[i] + (inside if inside < length else length))
        return BusinessReading(found, self, tl)

    def add_us(self, start_us: int, delta_us: int) -> int:
        """``add`` on integers: epoch and business microseconds (the clock engine's units)."""
        a = start_us
        delta = delta_us
        tl = self._timeline[0]
        if tl is None or not (
            _MIN_US <= a < _MAX_US and tl.valid_lo * _US <= a <= tl.valid_hi * _US
        ):
            tl = self._covering(a, a)
        while True:
            target = _business_us(tl, a) + delta
            u = _inverse_us(tl, target)
            if u is not None:
                return _in_range(u, _US)
            tl = self._widen(tl, forward=delta >= 0, reach_us=abs(delta))

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is business time."""
        t = _to_us(at, "at")
        tl = self._covering(t, t)
        i = bisect.bisect_right(tl.opens_us, t) - 1
        return i >= 0 and t < tl.closes_us[i]

    def next_open(self, at: datetime) -> datetime:
        """The earliest instant at or after ``at`` that is business time (``at`` itself if open)."""
        return self.add(at, 0)

    def next_close(self, at: datetime) -> datetime:
        """The earliest instant at or after ``at`` that is not business time (``at`` if closed)."""
        t = _to_us(at, "at")
        tl = self._covering(t, t)
        while True:
            i = bisect.bisect_right(tl.opens_us, t) - 1
            if i < 0 or t >= tl.closes_us[i]:
                return _from_us(t)
            close = tl.closes_us[i]
            if close < tl.valid_hi * _US:
                return _from_us(_in_range(close, _US))
            if tl.last_year >= _LAST_BUILD_YEAR:
                raise ValueError(
                    f"calendar {self.name or self.timezone!r} never closes after {at.isoformat()} "
                    f"(supported up to {MAX_YEAR}-12-31)"
                )
            tl = self._widen(tl, forward=True, reach_us=max(tl.total, 1) * _US)  # double it

    # ------------------------------------------------------------------------- vectorized API

    def between_many(self, starts: npt.ArrayLike, ends: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``between`` over arrays of UTC epoch seconds (int or float), element by element."""
        a, b, unit = _common_ticks(_as_ticks(starts, "starts"), _as_ticks(ends, "ends"))
        if a.shape != b.shape:
            raise ValueError(f"starts and ends differ in shape: {a.shape} and {b.shape}")
        if a.size == 0:
            return np.zeros(a.shape, dtype=np.float64)
        lo = min(int(a.min()), int(b.min()))
        hi = max(int(a.max()), int(b.max()))
        tl = self._covering(*_span_us(lo, hi, unit, "starts and ends"))
        return _between_many(tl, a, b, unit)

    def add_many(self, starts: npt.ArrayLike, seconds: npt.ArrayLike) -> npt.NDArray[np.generic]:
        """``add`` over arrays: UTC epoch seconds in and out.

        The result is int64 when both inputs are integer arrays (whole seconds in give whole
        seconds out), float64 otherwise.
        """
        a, delta, unit = _common_ticks(_as_ticks(starts, "starts"), _as_ticks(seconds, "seconds"))
        a, delta = np.broadcast_arrays(a, delta)
        if a.size == 0:
            return np.zeros(a.shape, dtype=np.int64 if unit == 1 else np.float64)
        tl = self._covering(*_span_us(int(a.min()), int(a.max()), unit, "starts"))
        while True:
            u = _add_many(tl, a, delta, unit)
            if u is not None:
                if u.size:
                    _in_range(int(u.min()), unit)
                    _in_range(int(u.max()), unit)
                return u if unit == 1 else u / unit
            tl = self._widen_for(tl, delta, unit)

    # --------------------------------------------------------------------------- the timeline

    def _covering(self, lo_us: int, hi_us: int) -> _Timeline:
        """A timeline whose valid span holds ``[lo_us, hi_us]``, built or widened as needed."""
        if lo_us < _MIN_US or hi_us >= _MAX_US:
            raise ValueError(f"instants must lie in {MIN_YEAR}-01-01..{MAX_YEAR}-12-31 UTC")
        tl = self._timeline[0]
        if tl is not None and tl.valid_lo * _US <= lo_us and hi_us <= tl.valid_hi * _US:
            return tl
        first = _utc_year(lo_us // _US - _MARGIN)
        last = _utc_year(hi_us // _US + _MARGIN)
        if tl is not None:
            first, last = min(first, tl.first_year), max(last, tl.last_year)
        return self._build(first, last)

    def _widen_for(self, tl: _Timeline, delta: IntArray, unit: int) -> _Timeline:
        """Widen towards whichever sides a batch of ``add`` reaches: back for negative amounts,
        ahead for the others, each by a guess of the years its largest amount needs."""
        scale = _US // unit
        back, ahead = int(delta.min()), int(delta.max())
        can_back = back < 0 and tl.first_year > _FIRST_BUILD_YEAR
        can_ahead = ahead >= 0 and tl.last_year < _LAST_BUILD_YEAR
        if not can_back and not can_ahead:
            return self._widen(tl, forward=ahead >= 0, reach_us=0)  # raises: nothing to widen
        if can_back:
            tl = self._widen(tl, forward=False, reach_us=-back * scale)
        if can_ahead:
            tl = self._widen(tl, forward=True, reach_us=ahead * scale)
        return tl

    def _widen(self, tl: _Timeline, forward: bool, reach_us: int) -> _Timeline:
        """Widen the timeline on the side an ``add`` ran off, by a guess of the years it needs."""
        years = tl.last_year - tl.first_year + 1
        per_year = max(tl.total / years, 1.0)
        step = max(1, min(math.ceil(reach_us / _US / per_year) + 1, MAX_YEAR - MIN_YEAR + 2))
        name = self.name or self.timezone
        if forward:
            if tl.last_year >= _LAST_BUILD_YEAR:
                raise ValueError(
                    f"calendar {name!r} has no business time that far ahead "
                    f"(supported up to {MAX_YEAR}-12-31)"
                )
            return self._build(tl.first_year, tl.last_year + step)
        if tl.first_year <= _FIRST_BUILD_YEAR:
            raise ValueError(
                f"calendar {name!r} has no business time that far back "
                f"(supported from {MIN_YEAR}-01-01)"
            )
        return self._build(tl.first_year - step, tl.last_year)

    def _build(self, first_year: int, last_year: int) -> _Timeline:
        first_year = max(first_year, _FIRST_BUILD_YEAR)
        last_year = min(last_year, _LAST_BUILD_YEAR)
        day0 = date(first_year, 1, 1).toordinal()
        day1 = date(last_year + 1, 1, 1).toordinal()
        local_lo = (day0 - _EPOCH_ORDINAL) * _DAY
        local_hi = (day1 - _EPOCH_ORDINAL + 2) * _DAY
        pieces = _offset_pieces(self._zone, local_lo - 2 * _DAY, local_hi + 2 * _DAY)
        piece_starts = [p[0] for p in pieces]
        spans: list[tuple[int, int]] = []
        for ordinal in range(day0, day1):
            day = date.fromordinal(ordinal)
            if day in self.exceptions:
                hours = self.exceptions[day]
            elif day in self.holidays:
                continue
            else:
                hours = self.week[day.weekday()]
            midnight = (ordinal - _EPOCH_ORDINAL) * _DAY
            for start_min, end_min in hours:
                _wall_to_utc(
                    midnight + start_min * 60, midnight + end_min * 60, pieces, piece_starts, spans
                )
        opens, closes = _merge(spans)
        lengths = closes - opens
        cum = (
            np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) if len(opens) else opens
        )
        bounds = np.concatenate((opens, closes, [_DAY]))
        grain = int(np.gcd.reduce(bounds)) if len(bounds) else _DAY
        grain = math.gcd(grain, _DAY) or _DAY
        valid_lo = local_lo + _MARGIN
        valid_hi = (day1 - _EPOCH_ORDINAL) * _DAY - _MARGIN
        tl = _Timeline(
            first_year=first_year,
            last_year=last_year,
            valid_lo=valid_lo,
            valid_hi=valid_hi,
            opens=opens,
            closes=closes,
            cum=cum,
            grain=grain,
            opens_us=[int(x) * _US for x in opens],
            closes_us=[int(x) * _US for x in closes],
            cum_us=[int(x) * _US for x in cum],
        )
        self._timeline[0] = tl
        return tl


class BusinessReading:
    """Business microseconds before some instants (``before``), from one timeline.

    ``add_us(start_us, before_start, delta_us)`` is ``calendar.add_us(start_us, delta_us)`` for
    one of those instants, with ``before_start`` its answer: the search for the start is
    already done. When the answer lies beyond the timeline the calendar itself is asked.
    """

    __slots__ = ("_calendar", "_timeline", "before")

    def __init__(self, before: list[int], calendar: Calendar, timeline: _Timeline | None) -> None:
        self.before = before
        self._calendar = calendar
        self._timeline = timeline

    def add_us(self, start_us: int, before_start: int, delta_us: int) -> int:
        tl = self._timeline
        if tl is not None:
            u = _inverse_us(tl, before_start + delta_us)
            if u is not None:
                return _in_range(u, _US)
        return self._calendar.add_us(start_us, delta_us)


# ------------------------------------------------------------------------------ conversions


def _to_us(value: datetime, what: str) -> int:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime ({value.isoformat()}); give it a time zone")
    return (value - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _seconds_to_us(seconds: float) -> int:
    if isinstance(seconds, timedelta):
        return seconds // _ONE_US
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds}")
    return round(seconds * _US)


def _as_ticks(values: npt.ArrayLike, what: str) -> tuple[IntArray, int]:
    """Epoch seconds as int64 ticks and their unit: whole seconds stay seconds (the fast path),
    fractional seconds become microseconds, the resolution scalar calls work in."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False), 1
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError(f"{what} holds NaN or infinite values")
        return np.rint(arr.astype(np.float64) * _US).astype(np.int64), _US
    raise TypeError(f"{what} must be an int or float array of epoch seconds, got {arr.dtype}")


def _common_ticks(
    x: tuple[IntArray, int], y: tuple[IntArray, int]
) -> tuple[IntArray, IntArray, int]:
    """Bring two tick arrays to one unit (microseconds if either is)."""
    (xa, xu), (ya, yu) = x, y
    if xu == yu:
        return xa, ya, xu
    return xa * (_US // xu), ya * (_US // yu), _US


def _span_us(lo: int, hi: int, unit: int, what: str) -> tuple[int, int]:
    scale = _US // unit
    if lo < _MIN_US // scale or hi >= _MAX_US // scale:
        raise ValueError(f"{what} must lie in {MIN_YEAR}-01-01..{MAX_YEAR}-12-31 UTC")
    return lo * scale, hi * scale


def _in_range(ticks: int, unit: int) -> int:
    """An answer must lie in the supported range too, or later calls could not use it."""
    scale = _US // unit
    if ticks < _MIN_US // scale or ticks >= _MAX_US // scale:
        raise ValueError(
            f"the answer {_from_us(ticks * scale).isoformat()} lies outside the supported range "
            f"{MIN_YEAR}-01-01..{MAX_YEAR}-12-31 UTC"
        )
    return ticks


def _utc_year(epoch_seconds: int) -> int:
    days = epoch_seconds // _DAY
    ordinal = min(max(days + _EPOCH_ORDINAL, 1), date.max.toordinal())
    return date.fromordinal(ordinal).year


# --------------------------------------------------------------------- wall clock to UTC


def _offset_at(zone: ZoneInfo, epoch_seconds: int) -> int:
    offset = datetime.fromtimestamp(epoch_seconds, tz=zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _offset_pieces(zone: ZoneInfo, local_lo: int, local_hi: int) -> list[tuple[int, int]]:
    """The zone's UTC offsets over a span, as ``(utc_start, offset)`` pieces in order.

    zoneinfo does not expose its transitions, so the offset is sampled and every change is
    located to the second by bisection.
    """
    lo = local_lo - _DAY
    hi = local_hi + _DAY
    pieces = [(lo, _offset_at(zone, lo))]
    prev_t, prev_off = lo, pieces[0][1]
    t = lo + _SAMPLE_STEP
    while t <= hi + _SAMPLE_STEP:
        off = _offset_at(zone, t)
        if off != prev_off:
            a, b = prev_t, t  # offset(a) == prev_off, offset(b) == off
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_at(zone, mid) == prev_off:
                    a = mid
                else:
                    b = mid
            pieces.append((b, off))
            prev_off = off
        prev_t = t
        t += _SAMPLE_STEP
    return pieces


def _wall_to_utc(
    wall_start: int,
    wall_end: int,
    pieces: list[tuple[int, int]],
    piece_starts: list[int],
    out: list[tuple[int, int]],
) -> None:
    """Append the UTC instants whose wall-clock reading lies in ``[wall_start, wall_end)``.

    Within each offset piece the wall clock is ``utc + offset``; the preimage is the interval
    shifted by that offset and cut to the piece. A gap (spring forward) leaves part of it empty,
    a fold (fall back) can yield it twice; both are what the wall clock says.
    """
    i = max(bisect.bisect_right(piece_starts, wall_start - 2 * _DAY) - 1, 0)
    n = len(pieces)
    while i < n:
        p_start, offset = pieces[i]
        if p_start >= wall_end + 2 * _DAY:
            break
        p_end = pieces[i + 1][0] if i + 1 < n else 2**62
        lo = max(wall_start - offset, p_start)
        hi = min(wall_end - offset, p_end)
        if lo < hi:
            out.append((lo, hi))
        i += 1


def _merge(spans: list[tuple[int, int]]) -> tuple[IntArray, IntArray]:
    """Sort intervals and fuse those that touch or overlap (overnight hours meeting a new day)."""
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    spans.sort()
    opens: list[int] = []
    closes: list[int] = []
    for lo, hi in spans:
        if closes and lo <= closes[-1]:
            closes[-1] = max(closes[-1], hi)
        else:
            opens.append(lo)
            closes.append(hi)
    return np.asarray(opens, dtype=np.int64), np.asarray(closes, dtype=np.int64)


# ------------------------------------------------------------------------ scalar lookups


def _business_us(tl: _Timeline, t: int) -> int:
    """``B(t)``: business microseconds before ``t`` since the timeline began."""
    i = bisect.bisect_right(tl.opens_us, t) - 1
    if i < 0:
        return 0
    return tl.cum_us[i] + min(t - tl.opens_us[i], tl.closes_us[i] - tl.opens_us[i])


def _inverse_us(tl: _Timeline, target: int) -> int | None:
    """The latest ``u`` with ``B(u) == target``, or None when the timeline is too short."""
    j = bisect.bisect_right(tl.cum_us, target) - 1
    if j < 0:
        return None
    u = tl.opens_us[j] + (target - tl.cum_us[j])
    if u >= tl.closes_us[j] or u >= tl.valid_hi * _US or u < tl.valid_lo * _US:
        return None
    return u


# -------------------------------------------------------------------- vectorized lookups


def _table(tl: _Timeline) -> _Table | _SlotTable | None:
    """The constant-time table for ``tl``, built on first use; None when it would be too big.

    A calendar whose boundaries all fall on a coarse grain gets the uniform table. One odd
    boundary (an exception closing at 15:53) would shrink that grain to a minute for the whole
    span and the table past the CPU cache; such calendars get a slot table at the largest grain
    where each slot holds at most one open run, which stays small whatever the minutes.
    """
    cached = tl.table[0]
    if cached is not None:
        return cached
    table: _Table | _SlotTable | None = None
    if _slot_count(tl, tl.grain) <= _UNIFORM_MAX_SLOTS:
        table = _uniform_table(tl)
    else:
        for grain in _SLOT_GRAINS:
            if grain <= tl.grain or grain % tl.grain or not _one_run_per_slot(tl, grain):
                continue
            if _slot_count(tl, grain) <= _MAX_TABLE_SLOTS:
                table = _slot_table(tl, grain)
            break
        else:
            if _slot_count(tl, tl.grain) <= _MAX_TABLE_SLOTS:
                table = _uniform_table(tl)
    tl.table[0] = table
    return table


def _slot_count(tl: _Timeline, grain: int) -> int:
    return (-(-tl.valid_hi // grain) - tl.valid_lo // grain) + 1


def _slot_edges(tl: _Timeline, grain: int) -> IntArray:
    base = (tl.valid_lo // grain) * grain
    return base + grain * np.arange(_slot_count(tl, grain) + 1, dtype=np.int64)


def _uniform_table(tl: _Timeline) -> _Table:
    edges = _slot_edges(tl, tl.grain)
    at = _business_searched(tl, edges, 1)
    return _Table(
        base=int(edges[0]),
        grain=tl.grain,
        at=at[:-1],
        nxt=at[1:],
        open_steps=np.flatnonzero(at[1:] > at[:-1]).astype(np.int64),
    )


def _one_run_per_slot(tl: _Timeline, grain: int) -> bool:
    """Whether no slot of ``grain`` holds a closing followed by another opening."""
    closes, opens = tl.closes[:-1], tl.opens[1:]
    return not bool(((closes % grain != 0) & (closes // grain == opens // grain)).any())


def _slot_table(tl: _Timeline, grain: int) -> _SlotTable:
    edges = _slot_edges(tl, grain)
    at_all = _business_searched(tl, edges, 1)
    at, span = at_all[:-1], np.diff(at_all)
    starts = edges[:-1]
    i = np.searchsorted(tl.opens, starts, side="right") - 1
    inside = np.clip(i, 0, None)
    open_at_start = (i >= 0) & (starts < tl.closes[inside])
    following = np.clip(i + 1, 0, max(len(tl.opens) - 1, 0))
    lead = np.where(open_at_start | (span == 0), 0, tl.opens[following] - starts)
    open_slots = np.flatnonzero(span > 0).astype(np.int64)
    open_at, open_end = at[open_slots], at[open_slots] + span[open_slots]
    first = int(open_at[0]) if len(open_slots) else 0
    buckets = (int(open_end[-1]) - first) // grain + 2 if len(open_slots) else 1
    first_after = np.searchsorted(
        open_end, first + grain * np.arange(buckets, dtype=np.int64), side="right"
    ).astype(np.int64)
    return _SlotTable(
        base=int(edges[0]),
        grain=grain,
        at=at,
        lead=lead.astype(np.int64),
        span=span,
        open_slots=open_slots,
        open_at=open_at,
        open_lead=lead[open_slots].astype(np.int64),
        open_end=open_end,
        first_after=first_after,
        max_steps=int(np.diff(first_after).max()) + 1 if buckets > 1 else 1,
    )


class _Kernel:
    """``B`` and its inverse over one chunk of ticks at a time, in reused buffers.

    Working through a batch in chunks that fit the CPU cache, with no temporary arrays, runs the
    same NumPy operations about twice as fast as whole-array expressions.
    """

    def __init__(self, table: _Table, unit: int) -> None:
        self.table = table
        self.unit = unit
        self.grain = table.grain * unit
        self.base = table.base * unit
        self.k = np.empty(_CHUNK, dtype=np.int64)
        self.tmp = np.empty(_CHUNK, dtype=np.int64)

    def business(self, t: IntArray, into: IntArray) -> IntArray:
        m = len(t)
        x, k, tmp = into[:m], self.k[:m], self.tmp[:m]
        np.subtract(t, self.base, out=x)
        np.floor_divide(x, self.grain, out=k)
        np.multiply(k, self.grain, out=tmp)
        x -= tmp
        np.take(self.table.at, k, out=tmp)
        if self.unit != 1:
            tmp *= self.unit
        x += tmp
        np.take(self.table.nxt, k, out=tmp)
        if self.unit != 1:
            tmp *= self.unit
        np.minimum(x, tmp, out=x)
        return x

    def inverse(self, target: IntArray, into: IntArray, lo: int, hi: int) -> bool:
        """Write the latest ``u`` with ``B(u) == target`` into ``into``; False if out of span."""
        m = len(target)
        j, tmp, out = self.k[:m], self.tmp[:m], into[:m]
        steps = self.table.open_steps
        target -= int(self.table.at[0]) * self.unit
        np.floor_divide(target, self.grain, out=j)
        if m and (int(j.min()) < 0 or int(j.max()) >= len(steps)):
            return False
        np.multiply(j, self.grain, out=tmp)
        target -= tmp
        np.take(steps, j, out=out)
        out *= self.grain
        out += target
        out += self.base
        return not m or (int(out.min()) >= lo and int(out.max()) < hi)


class _SlotKernel:
    """``B`` and its inverse over a slot table: like ``_Kernel``, with a run inside each slot.

    In slot ``k`` the calendar is closed for ``lead[k]``, then open for ``span[k]``, then closed,
    so ``B(t) = at[k] + clip(r - lead[k], 0, span[k])`` with ``r`` the time into the slot. The
    inverse finds the business-time bucket's first candidate run and steps over the few partial
    runs that share the bucket.
    """

    def __init__(self, table: _SlotTable, unit: int) -> None:
        self.table = table
        self.unit = unit
        self.grain = table.grain * unit
        self.base = table.base * unit
        self.k = np.empty(_CHUNK, dtype=np.int64)
        self.tmp = np.empty(_CHUNK, dtype=np.int64)
        self.rel = np.empty(_CHUNK, dtype=np.int64)
        self.more = np.empty(_CHUNK, dtype=np.bool_)

    def _gather(self, source: IntArray, index: IntArray, out: IntArray) -> IntArray:
        np.take(source, index, out=out)
        if self.unit != 1:
            out *= self.unit
        return out

    def business(self, t: IntArray, into: IntArray) -> IntArray:
        m = len(t)
        x, k, tmp = into[:m], self.k[:m], self.tmp[:m]
        np.subtract(t, self.base, out=x)
        np.floor_divide(x, self.grain, out=k)
        np.multiply(k, self.grain, out=tmp)
        x -= tmp
        x -= self._gather(self.table.lead, k, tmp)
        np.maximum(x, 0, out=x)
        np.minimum(x, self._gather(self.table.span, k, tmp), out=x)
        x += self._gather(self.table.at, k, tmp)
        return x

    def inverse(self, target: IntArray, into: IntArray, lo: int, hi: int) -> bool:
        """Write the latest ``u`` with ``B(u) == target`` into ``into``; False if out of span."""
        m = len(target)
        if not m:
            return True
        table = self.table
        n_open = len(table.open_slots)
        j, tmp, rel, more, out = self.k[:m], self.tmp[:m], self.rel[:m], self.more[:m], into[:m]
        np.subtract(target, int(table.open_at[0]) * self.unit, out=rel)
        np.floor_divide(rel, self.grain, out=j)
        if int(j.min()) < 0 or int(j.max()) >= len(table.first_after):
            return False
        np.take(table.first_after, j, out=j)  # the first run ending after the bucket starts
        for _ in range(table.max_steps):
            if int(j.max()) >= n_open:
                return False
            np.less_equal(self._gather(table.open_end, j, tmp), target, out=more)
            if not more.any():
                break
            j += more
        else:
            return False
        np.subtract(target, self._gather(table.open_at, j, tmp), out=out)
        out += self._gather(table.open_lead, j, tmp)
        np.take(table.open_slots, j, out=tmp)
        tmp *= self.grain
        out += tmp
        out += self.base
        return int(out.min()) >= lo and int(out.max()) < hi


def _between_many(tl: _Timeline, a: IntArray, b: IntArray, unit: int) -> npt.NDArray[np.float64]:
    table = _table(tl)
    if table is None:
        diff = _business_searched(tl, b, unit) - _business_searched(tl, a, unit)
        return diff / unit
    flat_a, flat_b = a.ravel(), b.ravel()
    out = np.empty(flat_a.shape, dtype=np.float64)
    kernel = _Kernel(table, unit) if isinstance(table, _Table) else _SlotKernel(table, unit)
    x = np.empty(_CHUNK, dtype=np.int64)
    y = np.empty(_CHUNK, dtype=np.int64)
    for i in range(0, len(flat_a), _CHUNK):
        j = i + _CHUNK
        end = kernel.business(flat_b[i:j], x)
        end -= kernel.business(flat_a[i:j], y)
        if unit == 1:
            out[i:j] = end
        else:
            np.divide(end, unit, out=out[i:j])
    return out.reshape(a.shape)


def _add_many(tl: _Timeline, a: IntArray, delta: IntArray, unit: int) -> IntArray | None:
    """Vectorized ``add`` in ticks; None when an answer lies outside the timeline."""
    table = _table(tl)
    if table is None:
        return _inverse_searched(tl, _business_searched(tl, a, unit) + delta, unit)
    if isinstance(table, _Table) and len(table.open_steps) == 0:
        return None
    if isinstance(table, _SlotTable) and len(table.open_slots) == 0:
        return None
    flat_a, flat_d = a.ravel(), delta.ravel()
    out = np.empty(flat_a.shape, dtype=np.int64)
    kernel = _Kernel(table, unit) if isinstance(table, _Table) else _SlotKernel(table, unit)
    x = np.empty(_CHUNK, dtype=np.int64)
    lo, hi = tl.valid_lo * unit, tl.valid_hi * unit
    for i in range(0, len(flat_a), _CHUNK):
        j = i + _CHUNK
        target = kernel.business(flat_a[i:j], x)
        target += flat_d[i:j]
        if not kernel.inverse(target, out[i:j], lo, hi):
            return None
    return out.reshape(a.shape)


def _business_searched(tl: _Timeline, t: IntArray, unit: int) -> IntArray:
    i = np.searchsorted(tl.opens * unit, t, side="right") - 1
    inside = np.clip(i, 0, None)
    opens = tl.opens[inside] * unit
    lengths = (tl.closes[inside] - tl.opens[inside]) * unit
    b = tl.cum[inside] * unit + np.minimum(t - opens, lengths)
    return np.where(i >= 0, b, 0).astype(np.int64)


def _inverse_searched(tl: _Timeline, target: IntArray, unit: int) -> IntArray | None:
    if len(tl.opens) == 0:
        return None
    cum = tl.cum * unit
    j = np.searchsorted(cum, target, side="right") - 1
    if int(j.min()) < 0:
        return None
    u = tl.opens[j] * unit + (target - cum[j])
    if (
        bool((u >= tl.closes[j] * unit).any())
        or int(u.max()) >= tl.valid_hi * unit
        or int(u.min()) < tl.valid_lo * unit
    ):
        return None
    return u


def utc_offsets(timezone: str, epoch_seconds: npt.ArrayLike) -> IntArray:
    """The zone's UTC offset in seconds at each instant (whole epoch seconds), vectorized.

    Reports use it to put millions of instants on their local dates without converting each.
    """
    instants = np.asarray(epoch_seconds, dtype=np.int64)
    if instants.size == 0:
        return np.zeros(0, dtype=np.int64)
    zone = ZoneInfo(timezone)
    pieces = _offset_pieces(zone, int(instants.min()), int(instants.max()))
    starts = np.array([p[0] for p in pieces], dtype=np.int64)
    offsets = np.array([p[1] for p in pieces], dtype=np.int64)
    index = np.clip(np.searchsorted(starts, instants, side="right") - 1, 0, None)
    result: IntArray = offsets[index]
    return result
