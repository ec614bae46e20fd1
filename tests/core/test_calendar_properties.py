"""Property-based tests of the business-hours calendar engine (`duly.core.calendar`).

The calendars are generated to be realistic but adversarial: zones with half-hour and
quarter-hour offsets, a 30-minute DST (Lord Howe), Ramadan DST (Casablanca) and abolished DST
(Tehran); one to three intervals a day on minute boundaries, some running past midnight, closed
days, sparse weeks, holidays and dated exceptions near the instants under test. Instants are
mostly 2015-2030, sometimes anywhere in 1971-2099, often exactly at an opening or closing time, and
deliberately near the zone's DST transitions.

Every result is compared in integer microseconds, the engine's own resolution: the properties hold
exactly, not approximately. ``DULY_PROPERTY_EXAMPLES`` (default 60) sets how many examples the
scalar properties try; raise it for a deeper search.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from duly.core.calendar import Calendar, Hours

T = TypeVar("T")

ZONES = (
    "Europe/Stockholm",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/London",
    "UTC",
    "Africa/Casablanca",
    "Asia/Tehran",
)

US = 1_000_000
DAY_S = 86_400
DAY_US = DAY_S * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
CHUNK = 16_384  # the vectorized paths work through batches this long (calendar._CHUNK)


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (moment - EPOCH) // ONE_US


def dt(us: int, tz: tzinfo = UTC) -> datetime:
    """The aware datetime ``us`` microseconds after the epoch, shown in ``tz``."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(tz)


def us_of(seconds: float) -> int:
    """Seconds (a ``between`` result or an ``add`` duration) in whole microseconds."""
    return round(seconds * US)


# The range the engine supports (calendar.MIN_YEAR..MAX_YEAR), and the narrower one instants under
# test are drawn from.
SUPPORTED_FIRST_US = to_us(datetime(1970, 1, 1, tzinfo=UTC))
SUPPORTED_END_US = to_us(datetime(2101, 1, 1, tzinfo=UTC))
FIRST_US = to_us(datetime(1971, 1, 1, tzinfo=UTC))
LAST_US = to_us(datetime(2100, 1, 1, tzinfo=UTC))
COMMON_FIRST_US = to_us(datetime(2015, 1, 1, tzinfo=UTC))
COMMON_LAST_US = to_us(datetime(2031, 1, 1, tzinfo=UTC))
# Instants, holidays and exceptions are drawn within this many days of a scenario's anchor.
WINDOW_DAYS = 40
MAX_DURATION_S = 30 * DAY_S

EXAMPLES = int(os.environ.get("DULY_PROPERTY_EXAMPLES", "60"))
COMMON = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# ------------------------------------------------------------------------------ scenarios

Week = tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]


@dataclass(frozen=True)
class Scenario:
    """A calendar definition and the instant the generated instants cluster around."""

    zone: str
    week: Week
    holidays: frozenset[date]
    exceptions: dict[date, Hours]
    anchor_us: int

    def calendar(self) -> Calendar:
        """A fresh calendar, with its own empty timeline cache."""
        return Calendar(
            timezone=self.zone,
            week=self.week,
            holidays=self.holidays,
            exceptions=dict(self.exceptions),
            name="property",
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def anchor_date(self) -> date:
        return dt(self.anchor_us, self.tz).date()

    def hours_on(self, day: date) -> Hours:
        if day in self.exceptions:
            return self.exceptions[day]
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]


@functools.cache
def transitions(zone: str, year: int) -> tuple[int, ...]:
    """The zone's UTC-offset changes in a UTC year, as epoch seconds (found to the second)."""
    tz = ZoneInfo(zone)

    def offset(t: int) -> timedelta | None:
        return datetime.fromtimestamp(t, tz=tz).utcoffset()

    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    stop = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    found: list[int] = []
    prev_t, prev_off = start, offset(start)
    for t in range(start + DAY_S, stop + DAY_S, DAY_S):
        off = offset(t)
        if off != prev_off:
            lo, hi = prev_t, t
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        prev_t, prev_off = t, off
    return tuple(found)


# Minute granularity of a calendar's boundaries: on the hour (the constant-time table covers the
# whole range), quarter hours, or any minute (long spans fall back to searching).
STEPS = st.sampled_from([60, 30, 15, 1])


@st.composite
def dense_day(draw: st.DrawFn, step: int) -> list[tuple[int, int]]:
    """Up to three sorted, non-overlapping intervals inside one day (nothing overnight yet)."""
    n = draw(st.integers(0, 3))
    cuts = draw(st.lists(st.integers(0, 1440 // step), min_size=2 * n, max_size=2 * n, unique=True))
    points = sorted(c * step for c in cuts)
    day = [(points[2 * i], points[2 * i + 1]) for i in range(n)]
    split = draw(st.booleans())
    if day and split:
        # A break of one or two steps inside an interval: a closing and the next opening in the
        # same slot of every coarser grain, which keeps the vectorized paths off their tables.
        i = draw(st.integers(0, len(day) - 1))
        start, end = day[i]
        gap = draw(st.integers(1, 2)) * step
        if end - start > gap + step:
            cut = start + draw(st.integers(1, (end - start - gap) // step - 1)) * step
            day[i : i + 1] = [(start, cut), (cut + gap, end)]
    return day


@st.composite
def sparse_day(draw: st.DrawFn, step: int) -> list[tuple[int, int]]:
    """Mostly closed; otherwise one short interval (so 30 business days can take years)."""
    if draw(st.integers(0, 2)):
        return []
    start = draw(st.integers(0, 1440 // step - 1)) * step
    length = draw(st.integers(1, max(1, 120 // step))) * step
    return [(start, min(start + length, 1440))]


def overnight(draw: st.DrawFn, day: list[tuple[int, int]], next_first: int, step: int) -> Hours:
    """Maybe stretch the day's last interval past midnight, up to ``next_first`` of the next day."""
    stretch = draw(st.booleans())
    if day and stretch:
        start, _ = day[-1]
        limit = min(next_first, start)  # no overlap with tomorrow, at most 1440 minutes long
        if limit >= step:
            day[-1] = (start, 1440 + draw(st.integers(1, limit // step)) * step)
    return tuple(day)


@st.composite
def weeks(draw: st.DrawFn, step: int) -> Week:
    day = sparse_day(step) if draw(st.integers(0, 3)) == 0 else dense_day(step)
    raw = [draw(day) for _ in range(7)]
    if not any(raw):
        raw[draw(st.integers(0, 6))] = [(9 * 60, 17 * 60)]  # some business time, so add ends
    days = [
        overnight(draw, raw[i], raw[(i + 1) % 7][0][0] if raw[(i + 1) % 7] else 1440, step)
        for i in range(7)
    ]
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


@st.composite
def exception_hours(draw: st.DrawFn, step: int) -> Hours:
    day = draw(dense_day(step))
    # The constructor does not check an exception against the next day: let it overlap.
    return overnight(draw, day, 1440, step)


ANCHOR_KINDS = ("common", "transition", "season", "wide", "edge")


@st.composite
def anchors(draw: st.DrawFn, zone: str, kinds: Sequence[str] = ANCHOR_KINDS) -> int:
    """An instant (UTC microseconds) that the scenario's instants and dates cluster around."""
    kind = draw(st.sampled_from(kinds))
    tz = ZoneInfo(zone)
    year = draw(st.integers(2015, 2030) | st.integers(1971, 2099))
    if kind == "transition" and transitions(zone, year):
        t = draw(st.sampled_from(transitions(zone, year)))
        us = t * US + draw(st.integers(-3 * DAY_S, 3 * DAY_S)) * US
    elif kind in ("transition", "season"):
        # Local dates on which DST changes in one hemisphere or the other.
        month, first, last = draw(
            st.sampled_from([(3, 20, 31), (10, 20, 31), (11, 1, 10), (4, 1, 10), (9, 20, 30)])
        )
        local = datetime(year, month, draw(st.integers(first, last))) + timedelta(
            minutes=draw(st.integers(0, 1439))
        )
        us = to_us(local.replace(tzinfo=tz, fold=draw(st.integers(0, 1))))
    elif kind == "common":
        us = draw(st.integers(COMMON_FIRST_US, COMMON_LAST_US - 1))
    elif kind == "wide":
        us = draw(st.integers(FIRST_US, LAST_US - 1))
    else:  # the ends of the range instants are drawn from
        us = draw(
            st.integers(FIRST_US, FIRST_US + 45 * DAY_US)
            | st.integers(LAST_US - 45 * DAY_US, LAST_US - 1)
        )
    return min(max(us, FIRST_US), LAST_US - 1)


@st.composite
def scenarios(draw: st.DrawFn, kinds: Sequence[str] = ANCHOR_KINDS) -> Scenario:
    zone = draw(st.sampled_from(ZONES))
    step = draw(STEPS)
    week = draw(weeks(step))
    anchor_us = draw(anchors(zone, kinds))
    anchor_day = dt(anchor_us, ZoneInfo(zone)).date()
    near = st.integers(-WINDOW_DAYS - 2, WINDOW_DAYS + 2).map(lambda k: anchor_day + timedelta(k))
    holidays = draw(st.frozensets(near, max_size=8))
    exceptions = draw(st.dictionaries(near, exception_hours(step), max_size=4))
    return Scenario(zone, week, holidays, exceptions, anchor_us)


# Instants are multiples of one of these: whole seconds, minutes, microseconds, hours, quarters.
UNITS = st.sampled_from([US, 60 * US, 1, 3600 * US, 900 * US])


@st.composite
def instants(draw: st.DrawFn, sc: Scenario, unit: int | None = None) -> int:
    """An instant in UTC microseconds near the anchor: anywhere, close by, or at a boundary."""
    kind = draw(st.sampled_from(["near", "boundary", "far"]))
    if unit is None:
        unit = draw(UNITS)
    if kind == "boundary":
        # An opening or closing time read off the definition and converted with either fold (so
        # possibly a wall time the zone skips), give or take a microsecond or a second.
        day = sc.anchor_date + timedelta(draw(st.integers(-WINDOW_DAYS, WINDOW_DAYS)))
        ends = [m for interval in sc.hours_on(day) for m in interval]
        minute = draw(st.sampled_from(ends)) if ends else draw(st.integers(0, 1439))
        local = datetime.combine(day, time()) + timedelta(minutes=minute)
        us = to_us(local.replace(tzinfo=sc.tz, fold=draw(st.integers(0, 1))))
        us += draw(st.sampled_from([0, 0, 0, -1, 1, -US, US]))
        if unit >= US:
            us -= us % US
    else:
        span = (2 * DAY_US if kind == "near" else WINDOW_DAYS * DAY_US) // unit
        us = (sc.anchor_us // unit + draw(st.integers(-span, span))) * unit
    return min(max(us, FIRST_US), LAST_US - 1)


def durations(whole: bool = False) -> st.SearchStrategy[float]:
    """Non-negative business seconds up to 30 days, whole or with microsecond fractions."""
    ints: st.SearchStrategy[float] = st.integers(0, 4 * 3600) | st.integers(0, MAX_DURATION_S)
    if whole:
        return ints
    fractions = st.integers(0, 3 * 3600 * US) | st.integers(0, MAX_DURATION_S * US)
    return ints | fractions.map(lambda k: k / US)


def signed(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    return st.tuples(strategy, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


VIEWS = st.sampled_from(["utc", "zone", "fixed"])


def view(sc: Scenario, kind: str) -> tzinfo:
    """The zone the test hands its datetimes over in (the engine must not care)."""
    if kind == "zone":
        return sc.tz
    if kind == "fixed":
        return timezone(timedelta(hours=-7, minutes=-13))
    return UTC


# What the engine says when an answer would lie outside the years it supports.
RANGE_ERRORS = ("no business time that far", "outside the supported range", "never closes")


def out_of_range(exc: ValueError) -> bool:
    return any(words in str(exc) for words in RANGE_ERRORS)


def answer_or_none(ask: Callable[[], T]) -> T | None:
    """``ask()``, or None when the engine says the answer lies beyond the supported years."""
    try:
        return ask()
    except ValueError as exc:
        if out_of_range(exc):
            return None
        raise


def add_or_none(cal: Calendar, start: datetime, seconds: float) -> datetime | None:
    return answer_or_none(lambda: cal.add(start, seconds))


def require(checked: int) -> None:
    """Reject an example in which every case was out of the supported range."""
    if not checked:
        reject()


# ----------------------------------------------------------------------------- add and between


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_measuring_a_forward_add_gives_back_the_duration(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    cal, tz = sc.calendar(), view(sc, tz_kind)
    checked = 0
    for a, d in data.draw(st.lists(st.tuples(instants(sc), durations()), min_size=1, max_size=6)):
        u = add_or_none(cal, dt(a, tz), d)
        if u is None:
            continue
        checked += 1
        assert us_of(cal.between(dt(a, tz), u)) == us_of(d), (dt(a), d, u)
    require(checked)


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_measuring_a_backward_add_gives_back_the_negative_duration(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    cal, tz = sc.calendar(), view(sc, tz_kind)
    checked = 0
    for a, d in data.draw(st.lists(st.tuples(instants(sc), durations()), min_size=1, max_size=6)):
        u = add_or_none(cal, dt(a, tz), -d)
        if u is None:
            continue
        checked += 1
        if us_of(d) > 0:  # (minus zero seconds is a forward add: the next opening)
            assert to_us(u) < a, (dt(a), -d, u)
        assert us_of(cal.between(dt(a, tz), u)) == -us_of(d), (dt(a), -d, u)
    require(checked)


@COMMON
@given(data=st.data(), sc=scenarios())
def test_add_returns_the_latest_instant_with_that_much_business_time(
    data: st.DataObject, sc: Scenario
) -> None:
    # For the latest u with between(a, u) == d, a microsecond later a microsecond more has passed:
    # u is open, whatever the sign of d.
    cal = sc.calendar()
    checked = 0
    for a, d in data.draw(
        st.lists(st.tuples(instants(sc), signed(durations())), min_size=1, max_size=6)
    ):
        u = add_or_none(cal, dt(a), d)
        if u is None:
            continue
        checked += 1
        assert us_of(cal.between(dt(a), u + ONE_US)) == us_of(d) + 1, (dt(a), d, u)
    require(checked)


@COMMON
@given(data=st.data(), sc=scenarios())
def test_a_positive_add_lands_on_an_open_instant(data: st.DataObject, sc: Scenario) -> None:
    cal = sc.calendar()
    checked = 0
    cases = data.draw(st.lists(st.tuples(instants(sc), durations()), min_size=1, max_size=6))
    for a, d in cases:
        if us_of(d) <= 0:
            continue
        u = add_or_none(cal, dt(a), d)
        if u is None:
            continue
        checked += 1
        assert cal.is_open(u), (dt(a), d, u)
    require(checked)


@COMMON
@given(data=st.data(), sc=scenarios())
def test_add_is_monotone_in_the_duration(data: st.DataObject, sc: Scenario) -> None:
    cal = sc.calendar()
    a = data.draw(instants(sc))
    ds = data.draw(st.lists(signed(durations()), min_size=2, max_size=6))
    results = [(d, add_or_none(cal, dt(a), d)) for d in sorted(ds, key=us_of)]
    reached = [(d, u) for d, u in results if u is not None]
    require(len(reached) > 1)
    for (d1, u1), (d2, u2) in itertools.pairwise(reached):
        assert u1 <= u2, (dt(a), d1, u1, d2, u2)


@COMMON
@given(data=st.data(), sc=scenarios())
def test_add_is_monotone_in_the_start(data: st.DataObject, sc: Scenario) -> None:
    cal = sc.calendar()
    d = data.draw(signed(durations()))
    starts = sorted(data.draw(st.lists(instants(sc), min_size=2, max_size=6)))
    results = [(a, add_or_none(cal, dt(a), d)) for a in starts]
    reached = [(a, u) for a, u in results if u is not None]
    require(len(reached) > 1)
    for (a1, u1), (a2, u2) in itertools.pairwise(reached):
        assert u1 <= u2, (d, dt(a1), u1, dt(a2), u2)


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_adding_the_business_time_up_to_an_instant_reaches_its_next_opening(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    # B(u) == B(b) holds from b's previous close to its next opening, so the latest such u is
    # next_open(b): b itself when b is open. Either sign, either order of a and b.
    cal, tz = sc.calendar(), view(sc, tz_kind)
    checked = 0
    for a, b in data.draw(st.lists(st.tuples(instants(sc), instants(sc)), min_size=1, max_size=6)):
        u = add_or_none(cal, dt(a, tz), cal.between(dt(a, tz), dt(b, tz)))
        nxt = answer_or_none(functools.partial(cal.next_open, dt(b, tz)))
        if u is None or nxt is None:
            continue
        checked += 1
        assert u == nxt, (dt(a), dt(b), u, nxt)
        if cal.is_open(dt(b)):
            assert to_us(u) == b
    require(checked)


# One 09:00-09:01 minute a week: 60 minutes of business time take 60 weeks, so from the end of
# 2099 the answer lies in 2101, and from early 1971 back in 1969 (worked out by hand).
ONE_MINUTE_A_WEEK = Scenario("UTC", (((540, 541),), (), (), (), (), (), ()), frozenset(), {}, 0)
EDGE_INSTANTS = (
    st.integers(SUPPORTED_FIRST_US, SUPPORTED_FIRST_US + 60 * DAY_US)
    | st.integers(SUPPORTED_END_US - 60 * DAY_US, SUPPORTED_END_US - 1)
    | st.integers(FIRST_US, FIRST_US + 60 * DAY_US)
    | st.integers(LAST_US - 60 * DAY_US, LAST_US - 1)
).map(lambda us: us - us % US)


@settings(COMMON, max_examples=EXAMPLES * 2 // 3)
@given(sc=scenarios(kinds=("edge",)), a=EDGE_INSTANTS, d=signed(durations(whole=True)))
@example(sc=ONE_MINUTE_A_WEEK, a=to_us(datetime(2099, 11, 30, tzinfo=UTC)), d=3600)
@example(sc=ONE_MINUTE_A_WEEK, a=to_us(datetime(1971, 1, 5, tzinfo=UTC)), d=-3600)
def test_answers_near_the_ends_of_the_range_lie_inside_it_or_are_refused(
    sc: Scenario, a: int, d: float
) -> None:
    # Every method refuses instants outside 1970-01-01..2100-12-31 UTC, so an answer outside it
    # could not be used again: add, next_open and next_close must refuse to give one instead.
    cal = sc.calendar()
    added = add_or_none(cal, dt(a), d)
    opened = answer_or_none(lambda: cal.next_open(dt(a)))
    closed = answer_or_none(lambda: cal.next_close(dt(a)))
    for u in (added, opened, closed):
        assert u is None or SUPPORTED_FIRST_US <= to_us(u) < SUPPORTED_END_US, (dt(a), d, u)
    if added is not None:
        assert us_of(cal.between(dt(a), added)) == us_of(d)

    # add_many refuses exactly when add does, and otherwise agrees with it.
    many = answer_or_none(lambda: sc.calendar().add_many(np.array([a // US]), np.array([int(d)])))
    if added is None:
        assert many is None, (dt(a), d, many)
    else:
        assert many is not None, (dt(a), d, added)
        assert many.tolist() == [to_us(added) // US]


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_between_is_additive_over_adjacent_spans(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    cal, tz = sc.calendar(), view(sc, tz_kind)
    for a, b, c in data.draw(
        st.lists(st.tuples(instants(sc), instants(sc), instants(sc)), min_size=1, max_size=6)
    ):
        ab = us_of(cal.between(dt(a, tz), dt(b, tz)))
        bc = us_of(cal.between(dt(b, tz), dt(c, tz)))
        ac = us_of(cal.between(dt(a, tz), dt(c, tz)))
        assert ab + bc == ac, (dt(a), dt(b), dt(c))


@COMMON
@given(data=st.data(), sc=scenarios())
def test_the_integer_calls_of_the_clock_engine_answer_as_between_and_add(
    data: st.DataObject, sc: Scenario
) -> None:
    # A fresh calendar for each side: the integer calls may meet a timeline the other built.
    cal, ref = sc.calendar(), sc.calendar()
    points = sorted(data.draw(st.lists(instants(sc), min_size=1, max_size=8)))
    before = cal.business_before_us(points)
    assert len(before) == len(points)
    for (a, x), (b, y) in itertools.pairwise(zip(points, before, strict=True)):
        assert y - x == us_of(ref.between(dt(a), dt(b))), (dt(a), dt(b))
    reading = cal.reading_us(points)
    assert reading.before == before
    for a, at_a in zip(points, before, strict=True):
        d = data.draw(signed(durations()))
        want = answer_or_none(functools.partial(ref.add, dt(a), d))
        want_us = None if want is None else to_us(want)
        assert answer_or_none(functools.partial(cal.add_us, a, us_of(d))) == want_us, (dt(a), d)
        # From the reading's own timeline, which the calls above may have widened since.
        got = answer_or_none(functools.partial(reading.add_us, a, at_a, us_of(d)))
        assert got == want_us, (dt(a), d)
    assert cal.business_before_us([]) == []


@COMMON
@given(data=st.data(), sc=scenarios())
def test_between_is_antisymmetric_and_bounded_by_the_elapsed_time(
    data: st.DataObject, sc: Scenario
) -> None:
    cal = sc.calendar()
    for a, b in data.draw(st.lists(st.tuples(instants(sc), instants(sc)), min_size=1, max_size=8)):
        forward, backward = cal.between(dt(a), dt(b)), cal.between(dt(b), dt(a))
        assert forward == -backward, (dt(a), dt(b))
        lo, hi = min(a, b), max(a, b)
        span = cal.between(dt(lo), dt(hi))
        assert 0 <= us_of(span) <= hi - lo, (dt(lo), dt(hi))
        assert span <= (dt(hi) - dt(lo)).total_seconds()


# ------------------------------------------------------------------------ is_open, next_*


@COMMON
@given(data=st.data(), sc=scenarios())
def test_is_open_says_whether_the_next_microsecond_is_business_time(
    data: st.DataObject, sc: Scenario
) -> None:
    cal = sc.calendar()
    for t in data.draw(st.lists(instants(sc), min_size=1, max_size=8)):
        assert cal.is_open(dt(t)) == (us_of(cal.between(dt(t), dt(t + 1))) == 1), dt(t)


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_next_open_is_open_and_no_business_time_comes_before_it(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    cal, tz = sc.calendar(), view(sc, tz_kind)
    checked = 0
    for t in data.draw(st.lists(instants(sc), min_size=1, max_size=8)):
        u = answer_or_none(functools.partial(cal.next_open, dt(t, tz)))
        if u is None:
            continue
        checked += 1
        assert to_us(u) >= t
        assert cal.is_open(u), (dt(t), u)
        assert cal.between(dt(t, tz), u) == 0, (dt(t), u)
    require(checked)


@COMMON
@given(data=st.data(), sc=scenarios(), tz_kind=VIEWS)
def test_next_close_is_closed_and_everything_before_it_is_business_time(
    data: st.DataObject, sc: Scenario, tz_kind: str
) -> None:
    cal, tz = sc.calendar(), view(sc, tz_kind)
    checked = 0
    for t in data.draw(st.lists(instants(sc), min_size=1, max_size=8)):
        c = answer_or_none(functools.partial(cal.next_close, dt(t, tz)))
        if c is None:
            continue  # open without a break up to the end of the supported range
        checked += 1
        assert to_us(c) >= t
        assert not cal.is_open(c), (dt(t), c)
        assert us_of(cal.between(dt(t, tz), c)) == to_us(c) - t, (dt(t), c)
    require(checked)


# ------------------------------------------------------------------ vectorized == scalar


def scalar_between(cal: Calendar, starts: Sequence[int], ends: Sequence[int]) -> list[float]:
    return [cal.between(dt(a), dt(b)) for a, b in zip(starts, ends, strict=True)]


def scalar_add(cal: Calendar, cases: Sequence[tuple[int, float]]) -> list[tuple[int, float, int]]:
    """``(start, seconds, answer)`` in microseconds for the cases ``add`` can answer."""
    out = []
    for a, d in cases:
        u = add_or_none(cal, dt(a), d)
        if u is not None:
            out.append((a, d, to_us(u)))
    return out


ANYWHERE = st.integers(FIRST_US, LAST_US - 1)


@settings(COMMON, max_examples=EXAMPLES * 2 // 3)
@given(data=st.data(), sc=scenarios(), whole_range=st.integers(0, 4))
def test_between_many_equals_between_exactly_for_int_and_float_epochs(
    data: st.DataObject, sc: Scenario, whole_range: int
) -> None:
    pairs = data.draw(st.lists(st.tuples(instants(sc), instants(sc)), min_size=1, max_size=12))
    if whole_range == 0:
        # A pair across the whole range: a timeline too long for the constant-time table when the
        # calendar's boundaries are on odd minutes, so the searched path answers.
        pairs.append((data.draw(ANYWHERE), data.draw(ANYWHERE)))
    starts = [a for a, _ in pairs]
    ends = [b for _, b in pairs]
    whole_starts = [a - a % US for a in starts]
    whole_ends = [b - b % US for b in ends]
    vectorized, scalar = sc.calendar(), sc.calendar()

    def ints(values: Sequence[int]) -> np.ndarray:
        return np.array([v // US for v in values], dtype=np.int64)

    def floats(values: Sequence[int]) -> np.ndarray:
        return np.array([v / US for v in values], dtype=np.float64)

    got = vectorized.between_many(ints(whole_starts), ints(whole_ends))
    assert got.dtype == np.float64
    assert got.tolist() == scalar_between(scalar, whole_starts, whole_ends)

    got = vectorized.between_many(floats(starts), floats(ends))
    assert got.dtype == np.float64
    assert got.tolist() == scalar_between(scalar, starts, ends)

    # One side whole seconds, the other with microseconds.
    got = vectorized.between_many(ints(whole_starts), floats(ends))
    assert got.tolist() == scalar_between(scalar, whole_starts, ends)
    got = vectorized.between_many(floats(starts), ints(whole_ends))
    assert got.tolist() == scalar_between(scalar, starts, whole_ends)

    # And from the timeline the scalar calls built (another span, maybe another kind of table).
    got = scalar.between_many(floats(starts), floats(ends))
    assert got.tolist() == scalar_between(scalar, starts, ends)


def check_add_many(
    cal: Calendar, starts: np.ndarray, seconds: np.ndarray, want: Sequence[float]
) -> None:
    """``cal.add_many`` gives ``want``: the forward cases, then the backward ones, then all at once.

    (A batch mixing signs whose backward answers lie before the timeline built so far widens it
    forward to 2101 before it widens backward, seconds of work; split by sign first, every batch
    widens only as far as it needs, and the mixed batch is still checked.)
    """
    integer = np.issubdtype(starts.dtype, np.integer) and np.issubdtype(seconds.dtype, np.integer)
    starts, seconds = np.broadcast_arrays(starts, seconds)
    forward = seconds >= 0
    for part in (forward, ~forward, np.ones_like(forward)):
        if part.any():
            got = cal.add_many(starts[part], seconds[part])
            assert got.dtype == (np.int64 if integer else np.float64)
            assert got.tolist() == [w for w, p in zip(want, part, strict=True) if p]


@settings(COMMON, max_examples=EXAMPLES // 2)
@given(data=st.data(), sc=scenarios(), whole_range=st.integers(0, 4))
def test_add_many_equals_add_exactly_for_int_and_float_epochs(
    data: st.DataObject, sc: Scenario, whole_range: int
) -> None:
    vectorized, scalar = sc.calendar(), sc.calendar()
    extra: list[int] = [data.draw(ANYWHERE)] if whole_range == 0 else []

    # Whole seconds in: whole seconds out, as int64.
    starts = data.draw(st.lists(instants(sc, unit=US), min_size=1, max_size=12)) + extra
    seconds = data.draw(
        st.lists(signed(durations(whole=True)), min_size=len(starts), max_size=len(starts))
    )
    whole = scalar_add(scalar, [(a - a % US, d) for a, d in zip(starts, seconds, strict=True)])
    if whole:
        assert all(u % US == 0 for _, _, u in whole)
        for cal in (vectorized, scalar):  # (scalar: on the timeline its add calls built)
            check_add_many(
                cal,
                np.array([a // US for a, _, _ in whole], dtype=np.int64),
                np.array([d for _, d, _ in whole], dtype=np.int64),
                [u // US for _, _, u in whole],
            )

    # Microsecond fractions in: float64 out, exactly the scalar instant.
    starts = data.draw(st.lists(instants(sc), min_size=1, max_size=12)) + extra
    seconds = data.draw(st.lists(signed(durations()), min_size=len(starts), max_size=len(starts)))
    fractional = scalar_add(scalar, list(zip(starts, seconds, strict=True)))
    if fractional:
        check_add_many(
            vectorized,
            np.array([a / US for a, _, _ in fractional], dtype=np.float64),
            np.array([float(d) for _, d, _ in fractional], dtype=np.float64),
            [u / US for _, _, u in fractional],
        )

    # Whole-second starts with one fractional duration for them all (broadcast).
    mixed = scalar_add(scalar, [(a - a % US, seconds[0]) for a, _, _ in fractional])
    if mixed:
        check_add_many(
            vectorized,
            np.array([a // US for a, _, _ in mixed], dtype=np.int64),
            np.asarray(seconds[0], dtype=np.float64),
            [u / US for _, _, u in mixed],
        )
    require(len(whole) + len(fractional))


@settings(COMMON, max_examples=max(EXAMPLES // 10, 1))
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1), size=st.integers(CHUNK - 2, 2 * CHUNK + 3))
def test_batches_longer_than_a_chunk_equal_the_scalar_answers(
    sc: Scenario, seed: int, size: int
) -> None:
    rng = np.random.default_rng(seed)
    window = WINDOW_DAYS * DAY_US
    lo, hi = max(sc.anchor_us - window, FIRST_US), min(sc.anchor_us + window, LAST_US)
    starts = rng.integers(lo, hi, size).tolist()
    ends = rng.integers(lo, hi, size).tolist()
    seconds = rng.integers(-3 * DAY_S, 3 * DAY_S, size).tolist()
    whole_starts = [a - a % US for a in starts]
    vectorized, scalar = sc.calendar(), sc.calendar()

    got = vectorized.between_many(np.array(starts) / US, np.array(ends) / US)
    assert got.tolist() == scalar_between(scalar, starts, ends)

    cases = scalar_add(scalar, list(zip(whole_starts, seconds, strict=True)))
    check_add_many(
        vectorized,
        np.array([a // US for a, _, _ in cases], dtype=np.int64),
        np.array([d for _, d, _ in cases], dtype=np.int64),
        [u // US for _, _, u in cases],
    )
