"""Benchmark duly's business-hours calendar against the libraries and recipes people use instead.

Run from the repository root::

    python benchmarks/calendar_bench.py            # sizes 1e3..1e6, median of 5 runs
    python benchmarks/calendar_bench.py --quick    # smoke run: sizes 1e3, 1e4, median of 2

Workload: ticket-like spans over 2021-2026 on a Europe/Stockholm office calendar (Mon-Fri
08:00-12:00 and 13:00-17:00, Swedish public and de facto holidays). Starts are uniform random
instants in 2021-01-01..2026-10-31 (local), the spans lognormal (median one day, capped at 30 days),
and the business durations to add uniform in 1 minute..40 business hours. Every contender gets the
same pairs; each one's answers are checked against duly's and the share that agrees is printed.

This is a benchmark, not a test: it prints tables and ratios, and asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from duly.core.calendar import Calendar, Hours

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

TZ_NAME = "Europe/Stockholm"
TZ = ZoneInfo(TZ_NAME)
HARD_TZ_NAME = "America/New_York"
HOLIDAY_YEARS = range(2021, 2028)
SEED = 20260509

H = 3600
DAY = 86_400
WORKDAY = 8 * H  # 08:00-12:00 + 13:00-17:00
MORNING = (8 * H, 12 * H)
AFTERNOON = (13 * H, 17 * H)
LUNCH_START = MORNING[1] - MORNING[0]  # business seconds into the day at which lunch starts

OFFICE_DAY: Hours = ((8 * 60, 12 * 60), (13 * 60, 17 * 60))
CLOSED: Hours = ()

# For the agreement checks: results are in whole seconds, durations in whole seconds.
TOL = 1e-6


# ------------------------------------------------------------------------------- utilities


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` (garbage collected before each)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def call(fn: Callable[..., object], *args: object) -> Callable[[], object]:
    """``fn`` with its arguments bound now (a lambda in a loop would bind them late)."""
    return lambda: fn(*args)


def loop_rate(
    fn: Callable[[Any, Any], Any], xs: Sequence[Any], ys: Sequence[Any], repeat: int
) -> tuple[float, list[Any]]:
    """Calls per second of ``fn`` over the pairs (median of ``repeat`` loops) and its answers."""
    results: list[Any] = []

    def loop() -> None:
        results[:] = [fn(x, y) for x, y in zip(xs, ys, strict=True)]

    return len(xs) / median_time(loop, repeat), results


def to_epochs(values: Sequence[Any]) -> IntArray:
    """Aware datetimes or pandas Timestamps to integer UTC epoch seconds."""
    return np.array([int(v.timestamp()) for v in values], dtype=np.int64)


def fmt_rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M/s"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f} k/s"
    return f"{per_second:.0f} /s"


def fmt_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.1f}x"


def fmt_secs(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_size(n: int) -> str:
    exp = len(str(n)) - 1
    if n == 10**exp:
        return f"1e{exp}"
    return f"{n:,}"


def fmt_share(agree: int, total: int) -> str:
    return f"{100.0 * agree / total:.2f}% ({agree:,}/{total:,})" if total else "n/a"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(
        h.rjust(w) if i else h.ljust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu n/a"


def heading(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def local_str(epoch: int, zone: ZoneInfo = TZ) -> str:
    return datetime.fromtimestamp(epoch, tz=zone).strftime("%Y-%m-%d %a %H:%M:%S%z")


def aware_utc(epochs: IntArray) -> list[datetime]:
    return [datetime.fromtimestamp(int(x), tz=UTC) for x in epochs]


# ------------------------------------------------------------------------ calendars, workload


def swedish_holidays() -> frozenset[date]:
    import holidays

    se = holidays.country_holidays("SE", years=HOLIDAY_YEARS, categories=("public", "de_facto"))
    return frozenset(se.keys())


def office_calendar(hols: frozenset[date]) -> Calendar:
    week = (OFFICE_DAY,) * 5 + (CLOSED, CLOSED)
    return Calendar(timezone=TZ_NAME, week=week, holidays=hols, name="stockholm_office")


def hard_calendar(odd_minutes: bool = True) -> Calendar:
    """New York: split shifts, overnight shifts across DST changes, holidays, dated exceptions.

    The Saturday night shift (22:00-02:30) holds the small hours of Sunday in which New York
    changes its clocks. With ``odd_minutes`` one exception (Dec 31, 09:07-15:53) makes every
    boundary a whole minute only: a uniform table would need a one-minute grain, so duly builds
    its slot table instead (one open run per slot, at the coarsest grain that allows it).
    """
    import holidays

    us = holidays.country_holidays("US", years=range(2020, 2028))
    weekday: Hours = (
        (7 * 60 + 30, 11 * 60 + 45),
        (12 * 60 + 15, 16 * 60 + 10),
        (21 * 60, 26 * 60 + 30),
    )
    saturday: Hours = ((9 * 60, 13 * 60), (22 * 60, 26 * 60 + 30))
    sunday: Hours = ((18 * 60, 22 * 60),)
    week = (weekday, weekday, weekday, weekday, weekday, saturday, sunday)
    new_years_eve: Hours = (
        ((9 * 60 + 7, 15 * 60 + 53),) if odd_minutes else ((9 * 60 + 5, 15 * 60 + 55),)
    )
    exceptions: dict[date, Hours] = {}
    for year in range(2020, 2028):
        thanksgiving = next(d for d, n in us.items() if d.year == year and n == "Thanksgiving Day")
        exceptions[thanksgiving + timedelta(days=1)] = ((9 * 60, 13 * 60),)  # Black Friday
        exceptions[date(year, 12, 24)] = ((8 * 60, 12 * 60 + 30),)
        exceptions[date(year, 12, 31)] = new_years_eve
        july = [date(year, 7, d) for d in range(1, 8)]
        stock_take = next(d for d in july if d.weekday() == 5)  # first Saturday of July
        exceptions[stock_take] = ((10 * 60, 14 * 60), (20 * 60, 28 * 60))
        exceptions[date(year, 11, 11)] = ((10 * 60, 14 * 60),)  # half a day on a holiday
    return Calendar(
        timezone=HARD_TZ_NAME,
        week=week,
        holidays=frozenset(us.keys()),
        exceptions=exceptions,
        name="nyc_shifts",
    )


@dataclass(frozen=True)
class Workload:
    starts: IntArray  # UTC epoch seconds
    ends: IntArray  # starts + lognormal span
    add_secs: IntArray  # 60 .. 40 business hours
    add_hours: IntArray  # 1 .. 40 whole business hours (for pandas' integer offsets)

    def head(self, n: int) -> Workload:
        return Workload(self.starts[:n], self.ends[:n], self.add_secs[:n], self.add_hours[:n])


def make_workload(n: int, seed: int = SEED) -> Workload:
    rng = np.random.default_rng(seed)
    lo = int(datetime(2021, 1, 1, tzinfo=TZ).timestamp())
    hi = int(datetime(2026, 11, 1, tzinfo=TZ).timestamp())
    starts = rng.integers(lo, hi, size=n, dtype=np.int64)
    spans = np.clip(np.rint(rng.lognormal(np.log(DAY), 1.1, size=n)), 60, 30 * DAY).astype(np.int64)
    add_secs = rng.integers(60, 40 * H + 1, size=n, dtype=np.int64)
    add_hours = rng.integers(1, 41, size=n, dtype=np.int64)
    return Workload(starts, starts + spans, add_secs, add_hours)


# ----------------------------------------------------------- (d) the hand-written NumPy recipe


class NumpyRecipe:
    """What a competent user writes with NumPy: ``busday_count`` / ``busday_offset`` for whole
    days, clipping the local time of day to the two working intervals for the partial days.

    Local time comes from pandas' ``tz_convert`` (``fixed_offset=None``) or from adding a fixed UTC
    offset in seconds. Either way the arithmetic is wall-clock arithmetic: it is right only while no
    DST change falls inside working hours (true for Stockholm, whose changes are at 02:00/03:00),
    and the fixed-offset variant is simply wrong for the half of the year on the other offset.
    """

    def __init__(self, hols: frozenset[date], fixed_offset: int | None = None) -> None:
        self.busdays = np.busdaycalendar(
            weekmask="1111100", holidays=np.array(sorted(hols), dtype="datetime64[D]")
        )
        self.fixed_offset = fixed_offset

    def to_local(self, epoch: IntArray) -> tuple[npt.NDArray[np.datetime64], IntArray]:
        """Local calendar day and second of the day."""
        if self.fixed_offset is None:
            import pandas as pd

            idx = pd.to_datetime(epoch, unit="s", utc=True).tz_convert(TZ_NAME).tz_localize(None)
            local = idx.as_unit("s").asi8
        else:
            local = epoch + self.fixed_offset
        days = local // DAY
        return days.astype("datetime64[D]"), local - days * DAY

    def to_utc(self, days: npt.NDArray[np.datetime64], sod: IntArray) -> IntArray:
        local = days.astype(np.int64) * DAY + sod
        if self.fixed_offset is not None:
            return local - self.fixed_offset
        import pandas as pd

        idx = pd.DatetimeIndex(local.astype("datetime64[s]")).tz_localize(TZ_NAME)
        out: IntArray = idx.tz_convert("UTC").tz_localize(None).as_unit("s").asi8
        return out

    @staticmethod
    def within_day(sod: IntArray) -> IntArray:
        """Business seconds of a working day before the given second of the day."""
        return (np.clip(sod, *MORNING) - MORNING[0]) + (np.clip(sod, *AFTERNOON) - AFTERNOON[0])

    def between(self, a: IntArray, b: IntArray) -> IntArray:
        da, sa = self.to_local(a)
        db, sb = self.to_local(b)
        whole = np.busday_count(da, db, busdaycal=self.busdays).astype(np.int64) * WORKDAY
        part_a = np.where(np.is_busday(da, busdaycal=self.busdays), self.within_day(sa), 0)
        part_b = np.where(np.is_busday(db, busdaycal=self.busdays), self.within_day(sb), 0)
        out: IntArray = whole - part_a + part_b
        return out

    def add(self, a: IntArray, seconds: IntArray) -> IntArray:
        d, s = self.to_local(a)
        done = np.where(np.is_busday(d, busdaycal=self.busdays), self.within_day(s), 0)
        n_days, rem = np.divmod(done + seconds, WORKDAY)
        day = np.busday_offset(d, n_days, roll="forward", busdaycal=self.busdays)
        # rem == 0 lands on the next opening and rem == 4h after lunch: the same convention as
        # duly's (a clock that reaches its target at a closing time fires at the next opening).
        sod = np.where(rem < LUNCH_START, MORNING[0] + rem, AFTERNOON[0] + rem - LUNCH_START)
        return self.to_utc(day, sod)


# ------------------------------------------- (e) the plain searchsorted-over-bounds reference


class SearchsortedReference:
    """The ordinary vectorized approach: every open interval of the span as UTC epoch seconds
    (found by scanning the days with zoneinfo), a prefix sum of their lengths, ``np.searchsorted``.

    Wall times go through ``datetime(..., tzinfo=zone).timestamp()``, i.e. PEP 495's ``fold=0``:
    a wall time in a spring-forward gap is read with the offset from before the jump. This only
    matters for calendars open across a DST change (the overnight shift of the hard calendar).
    """

    def __init__(self, cal: Calendar, first: date, last: date) -> None:
        zone = ZoneInfo(cal.timezone)
        opens: list[int] = []
        closes: list[int] = []
        day = first
        while day <= last:
            if day in cal.exceptions:
                hours = cal.exceptions[day]
            elif day in cal.holidays:
                hours = ()
            else:
                hours = cal.week[day.weekday()]
            midnight = datetime(day.year, day.month, day.day)
            for start_min, end_min in hours:
                lo = (midnight + timedelta(minutes=start_min)).replace(tzinfo=zone).timestamp()
                hi = (midnight + timedelta(minutes=end_min)).replace(tzinfo=zone).timestamp()
                opens.append(int(lo))
                closes.append(max(int(hi), int(lo)))
            day += timedelta(days=1)
        order = np.argsort(np.asarray(opens, dtype=np.int64), kind="stable")
        self.opens = np.asarray(opens, dtype=np.int64)[order]
        self.closes = np.asarray(closes, dtype=np.int64)[order]
        self.lengths = self.closes - self.opens
        self.cum = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)

    def business(self, t: IntArray) -> IntArray:
        i = np.searchsorted(self.opens, t, side="right") - 1
        j = np.clip(i, 0, None)
        b = self.cum[j] + np.minimum(t - self.opens[j], self.lengths[j])
        out: IntArray = np.where(i >= 0, b, 0)
        return out

    def between(self, a: IntArray, b: IntArray) -> IntArray:
        out: IntArray = self.business(b) - self.business(a)
        return out

    def add(self, a: IntArray, seconds: IntArray) -> IntArray:
        target = self.business(a) + seconds
        j = np.searchsorted(self.cum, target, side="right") - 1
        out: IntArray = self.opens[j] + (target - self.cum[j])
        return out


# ------------------------------------------------------------------- (a)-(c) the libraries


class BusinessTimeDeltaContender:
    """businesstimedelta 1.0.1: two WorkDayRules and a HolidayRule, each with the documented
    ``tz=`` (a pytz zone); it is given aware UTC datetimes."""

    def __init__(self, hols: frozenset[date]) -> None:
        import businesstimedelta as btd

        pytz = importlib.import_module("pytz")  # no type stubs: keep it Any

        tz = pytz.timezone(TZ_NAME)
        mon_fri = [0, 1, 2, 3, 4]
        self.btd = btd
        self.rule = btd.Rules(
            [
                btd.WorkDayRule(
                    start_time=dtime(8), end_time=dtime(12), working_days=mon_fri, tz=tz
                ),
                btd.WorkDayRule(
                    start_time=dtime(13), end_time=dtime(17), working_days=mon_fri, tz=tz
                ),
                btd.HolidayRule(hols, tz=tz),
            ]
        )

    def between(self, a: datetime, b: datetime) -> float:
        return float(self.rule.difference(a, b).timedelta.total_seconds())

    def add(self, a: datetime, seconds: int) -> datetime:
        out: datetime = a + self.btd.BusinessTimeDelta(self.rule, seconds=seconds)
        return out


class BusinessDurationContender:
    """business-duration 0.68: ``businessDuration(startdate, enddate, starttime, endtime,
    weekendlist, holidaylist, unit)``. One interval per day and no time zones: it is given naive
    local wall times, and the two intervals are two calls summed."""

    def __init__(self, hols: frozenset[date]) -> None:
        from business_duration import businessDuration

        self.fn = businessDuration
        self.holiday_list = sorted(hols)  # the documented type is a list

    def between(self, a: datetime, b: datetime) -> float:
        fn, hl = self.fn, self.holiday_list
        morning = fn(a, b, dtime(8), dtime(12), [5, 6], hl, unit="sec")
        afternoon = fn(a, b, dtime(13), dtime(17), [5, 6], hl, unit="sec")
        return float(morning + afternoon)


class PandasContender:
    """pandas ``CustomBusinessHour`` for add (whole hours only: offsets take an integer ``n``)
    and, having no business-time difference, a per-pair pandas computation for between:
    ``date_range`` of ``CustomBusinessDay`` days, the two intervals of each day localized with
    ``tz_localize``, clipped to the span and summed."""

    def __init__(self, hols: frozenset[date]) -> None:
        import pandas as pd

        self.pd = pd
        hol_list = sorted(hols)
        self.cbh = pd.offsets.CustomBusinessHour(
            start=["08:00", "13:00"], end=["12:00", "17:00"], holidays=hol_list
        )
        self.cbd = pd.offsets.CustomBusinessDay(holidays=hol_list, weekmask="Mon Tue Wed Thu Fri")
        self.opens = np.array([MORNING[0], AFTERNOON[0]], dtype="timedelta64[s]")
        self.closes = np.array([MORNING[1], AFTERNOON[1]], dtype="timedelta64[s]")

    def timestamps(self, epochs: IntArray) -> list[Any]:
        pd = self.pd
        return [pd.Timestamp(int(x), unit="s", tz="UTC").tz_convert(TZ_NAME) for x in epochs]

    def between(self, a: Any, b: Any) -> float:
        pd = self.pd
        days = pd.date_range(
            a.tz_localize(None).normalize(), b.tz_localize(None).normalize(), freq=self.cbd
        )
        if len(days) == 0:
            return 0.0
        d = days.values.astype("datetime64[s]")
        opens = pd.DatetimeIndex(np.add.outer(d, self.opens).ravel()).tz_localize(TZ_NAME)
        closes = pd.DatetimeIndex(np.add.outer(d, self.closes).ravel()).tz_localize(TZ_NAME)
        lo = np.maximum(opens.as_unit("s").asi8, int(a.timestamp()))
        hi = np.minimum(closes.as_unit("s").asi8, int(b.timestamp()))
        return float(np.clip(hi - lo, 0, None).sum())

    def add(self, a: Any, hours: int) -> Any:
        return a + hours * self.cbh


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Options:
    sizes: list[int]
    repeat: int
    sample: int
    scalar_pairs: int
    quick: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(
        description="Benchmark duly's calendar against businesstimedelta, business-duration,"
        " pandas and hand-written NumPy."
    )
    p.add_argument(
        "--sizes", default="1000,10000,100000,1000000", help="batch sizes, comma-separated"
    )
    p.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (medians)")
    p.add_argument("--sample", type=int, default=2000, help="pairs for the per-pair libraries")
    p.add_argument("--scalar-pairs", type=int, default=100_000, help="pairs for duly's scalar loop")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: sizes 1000,10000, repeat 2, 200 library pairs, 10k scalar pairs",
    )
    ns = p.parse_args(argv)
    if ns.quick:
        return Options(sizes=[1000, 10_000], repeat=2, sample=200, scalar_pairs=10_000, quick=True)
    try:
        sizes = sorted({int(s.replace("_", "")) for s in ns.sizes.split(",") if s.strip()})
    except ValueError:
        p.error(f"--sizes: not a list of integers: {ns.sizes!r}")
    if not sizes or min(sizes) <= 0 or ns.repeat < 1 or ns.sample < 1 or ns.scalar_pairs < 1:
        p.error("sizes, repeat, sample and scalar-pairs must be positive")
    return Options(sizes, ns.repeat, ns.sample, ns.scalar_pairs, quick=False)


def agreement(x: FloatArray | IntArray, y: FloatArray | IntArray) -> int:
    """How many answers agree to the microsecond."""
    diff = np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    return int(np.count_nonzero(diff <= TOL))


def differs(x: FloatArray | IntArray, y: FloatArray | IntArray) -> BoolArray:
    out: BoolArray = np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)) > TOL
    return out


def equivalent_adds(cal: Calendar, ours: IntArray, theirs: IntArray) -> int:
    """Results that differ from duly's only by closed time (e.g. 17:00 vs the next 08:00)."""
    lo = np.minimum(ours, theirs)
    hi = np.maximum(ours, theirs)
    return int(np.count_nonzero(np.abs(cal.between_many(lo, hi)) <= TOL))


def show_disagreements(
    title: str,
    starts: IntArray,
    other: IntArray,
    ours: FloatArray | IntArray,
    theirs: FloatArray | IntArray,
    kind: str,
    zone: ZoneInfo = TZ,
    limit: int = 3,
) -> None:
    """Print the first few pairs where a contender and duly differ (``other`` = ends or secs)."""
    mask = differs(ours, theirs)
    idx = np.flatnonzero(mask)[:limit]
    if len(idx) == 0:
        return
    print(f"    {title}: first {len(idx)} of {int(mask.sum()):,} disagreements")
    for i in idx:
        start = local_str(int(starts[i]), zone)
        if kind == "between":
            print(
                f"      {start} -> {local_str(int(other[i]), zone)}:"
                f" duly {float(ours[i]) / H:.4f} h, other {float(theirs[i]) / H:.4f} h"
            )
        else:
            print(
                f"      {start} + {int(other[i])} s: duly {local_str(int(ours[i]), zone)},"
                f" other {local_str(int(theirs[i]), zone)}"
            )


class Report:
    """Collects the README summary lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)


def bench_cold(opts: Options, hols: frozenset[date], w: Workload, report: Report) -> None:
    n = len(w.starts)
    heading(f"duly cold first call @{fmt_size(n)} (fresh Calendar: timeline + table built lazily)")
    fresh = office_calendar(hols)
    t = time.perf_counter()
    fresh.between_many(w.starts, w.ends)
    cold_between = time.perf_counter() - t
    warm_between = median_time(call(fresh.between_many, w.starts, w.ends), opts.repeat)
    fresh = office_calendar(hols)
    t = time.perf_counter()
    fresh.add_many(w.starts, w.add_secs)
    cold_add = time.perf_counter() - t
    warm_add = median_time(call(fresh.add_many, w.starts, w.add_secs), opts.repeat)
    table(
        ["call", "cold (1st call)", "warm (median)"],
        [
            ["between_many", fmt_secs(cold_between), fmt_secs(warm_between)],
            ["add_many", fmt_secs(cold_add), fmt_secs(warm_add)],
        ],
    )
    report.add(
        f"cold first call @{fmt_size(n)}: between_many {fmt_secs(cold_between)}, add_many"
        f" {fmt_secs(cold_add)} (timeline build included; warm: {fmt_secs(warm_between)},"
        f" {fmt_secs(warm_add)})"
    )


def bench_vectorized(
    opts: Options,
    cal: Calendar,
    hols: frozenset[date],
    full: Workload,
    report: Report,
) -> dict[str, dict[int, float]]:
    recipe = NumpyRecipe(hols)
    fixed = NumpyRecipe(hols, fixed_offset=3600)  # CET all year: the naive recipe
    reference = SearchsortedReference(cal, date(2020, 12, 25), date(2026, 12, 31))
    contenders: list[tuple[str, Callable[[IntArray, IntArray], object], Callable[..., object]]] = [
        ("duly", cal.between_many, cal.add_many),
        ("recipe", recipe.between, recipe.add),
        ("ss", reference.between, reference.add),
    ]
    rates: dict[str, dict[int, float]] = {}
    for n in opts.sizes:
        w = full.head(n)
        for name, between_fn, add_fn in contenders:
            between_fn(w.starts, w.ends)  # warm-up on the same data
            add_fn(w.starts, w.add_secs)
            t_b = median_time(call(between_fn, w.starts, w.ends), opts.repeat)
            t_a = median_time(call(add_fn, w.starts, w.add_secs), opts.repeat)
            rates.setdefault(f"{name} between", {})[n] = n / t_b
            rates.setdefault(f"{name} add", {})[n] = n / t_a

    n_max = max(opts.sizes)
    for op in ("between", "add"):
        heading(f"vectorized {op}: pairs/s, median of {opts.repeat} (ratio = duly / other)")
        rows = []
        for n in opts.sizes:
            d, r, s = rates[f"duly {op}"][n], rates[f"recipe {op}"][n], rates[f"ss {op}"][n]
            rows.append(
                [
                    fmt_size(n),
                    fmt_rate(d),
                    fmt_rate(r),
                    fmt_ratio(d / r),
                    fmt_rate(s),
                    fmt_ratio(d / s),
                ]
            )
        table(["size", f"duly {op}_many", "numpy recipe", "ratio", "searchsorted", "ratio"], rows)
        d, r, s = rates[f"duly {op}"][n_max], rates[f"recipe {op}"][n_max], rates[f"ss {op}"][n_max]
        report.add(
            f"{op}_many @{fmt_size(n_max)}: {d / 1e6:.2f} M pairs/s (duly) vs {r / 1e6:.2f} M"
            f" (numpy recipe) -> {fmt_ratio(d / r)}; vs {s / 1e6:.2f} M (searchsorted reference)"
            f" -> {fmt_ratio(d / s)}"
        )

    heading(f"agreement with duly, vectorized contenders, all {fmt_size(n_max)} pairs")
    w = full.head(n_max)
    duly_b = cal.between_many(w.starts, w.ends)
    duly_a = np.asarray(cal.add_many(w.starts, w.add_secs), dtype=np.int64)
    rows = []
    shown: list[tuple[str, FloatArray | IntArray, IntArray, str]] = []
    for label, impl in (
        ("numpy recipe (pandas tz_convert)", recipe),
        ("numpy recipe (fixed +01:00)", fixed),
        ("searchsorted reference", reference),
    ):
        b = impl.between(w.starts, w.ends)
        a = impl.add(w.starts, w.add_secs)
        eq_b, eq_a = agreement(duly_b, b), agreement(duly_a, a)
        equiv = equivalent_adds(cal, duly_a, a)
        rows.append(
            [label, fmt_share(eq_b, n_max), fmt_share(eq_a, n_max), fmt_share(equiv, n_max)]
        )
        shown += [
            (f"{label}, between", b, w.ends, "between"),
            (f"{label}, add", a, w.add_secs, "add"),
        ]
        if "tz_convert" in label:
            report.add(
                f"the numpy recipe (tz_convert) agrees with duly on {100.0 * eq_b / n_max:.2f}%"
                f" (between) and {100.0 * eq_a / n_max:.2f}% (add) of {fmt_size(n_max)} pairs"
            )
        elif "fixed" in label:
            report.add(
                f"the same recipe on a fixed +01:00 offset agrees on {100.0 * eq_b / n_max:.1f}%"
                f" (between) and {100.0 * eq_a / n_max:.1f}% (add): it ignores summer time"
            )
    table(["contender", "between equal", "add equal", "add equivalent"], rows)
    for title, theirs, other, kind in shown:
        ours = duly_b if kind == "between" else duly_a
        show_disagreements(title, w.starts, other, ours, theirs, kind, limit=2)
    return rates


def bench_scalar(
    opts: Options, cal: Calendar, full: Workload, vec: dict[str, dict[int, float]], report: Report
) -> None:
    n_max = max(opts.sizes)
    m = min(opts.scalar_pairs, len(full.starts))
    heading(f"duly scalar API, aware datetimes in and out ({m:,} pairs, median of {opts.repeat})")
    w = full.head(m)
    sa, sb = aware_utc(w.starts), aware_utc(w.ends)
    secs = [int(x) for x in w.add_secs]
    rate_b, res_b = loop_rate(cal.between, sa, sb, opts.repeat)
    rate_a, res_a = loop_rate(cal.add, sa, secs, opts.repeat)
    same_b = agreement(np.array(res_b), cal.between_many(w.starts, w.ends))
    epochs = np.array([int(x.timestamp()) for x in res_a], dtype=np.int64)
    same_a = agreement(epochs, np.asarray(cal.add_many(w.starts, w.add_secs)))
    table(
        ["call", "calls/s", f"*_many @{fmt_size(n_max)}", "scalar == vectorized"],
        [
            [
                "between",
                fmt_rate(rate_b),
                fmt_rate(vec["duly between"][n_max]),
                fmt_share(same_b, m),
            ],
            ["add", fmt_rate(rate_a), fmt_rate(vec["duly add"][n_max]), fmt_share(same_a, m)],
        ],
    )
    report.add(
        f"duly scalar, aware datetimes in and out: between {fmt_rate(rate_b)},"
        f" add {fmt_rate(rate_a)}"
    )


def bench_libraries(
    opts: Options,
    cal: Calendar,
    hols: frozenset[date],
    full: Workload,
    vec: dict[str, dict[int, float]],
    report: Report,
) -> None:
    n_max = max(opts.sizes)
    k = min(opts.sample, len(full.starts))
    heading(f"per-pair libraries on the first {k:,} pairs: calls/s, median of {opts.repeat}")
    w = full.head(k)
    ua, ub = aware_utc(w.starts), aware_utc(w.ends)
    secs = [int(x) for x in w.add_secs]
    hours = [int(x) for x in w.add_hours]
    hour_secs = w.add_hours * H
    na = [x.astimezone(TZ).replace(tzinfo=None) for x in ua]  # naive local wall times
    nb = [x.astimezone(TZ).replace(tzinfo=None) for x in ub]

    duly_rate = {
        "between": loop_rate(cal.between, ua, ub, opts.repeat)[0],
        "add": loop_rate(cal.add, ua, secs, opts.repeat)[0],
        "add (whole hours)": loop_rate(cal.add, ua, [int(x) for x in hour_secs], opts.repeat)[0],
    }
    duly_b = cal.between_many(w.starts, w.ends)
    duly_a = np.asarray(cal.add_many(w.starts, w.add_secs), dtype=np.int64)
    duly_ah = np.asarray(cal.add_many(w.starts, hour_secs), dtype=np.int64)

    rows: list[list[str]] = []
    shown: list[tuple[str, FloatArray | IntArray, FloatArray | IntArray, IntArray, str]] = []

    def record(label: str, op: str, rate: float, theirs: FloatArray | IntArray) -> None:
        kind = op.split()[0]
        ours: FloatArray | IntArray
        if op == "between":
            ours, other = duly_b, w.ends
        elif op == "add":
            ours, other = duly_a, w.add_secs
        else:
            ours, other = duly_ah, hour_secs
        equal = fmt_share(agreement(ours, theirs), k)
        equiv = ""
        if kind == "add":
            equiv = fmt_share(equivalent_adds(cal, np.asarray(ours), np.asarray(theirs)), k)
        d_scalar = duly_rate[op]
        d_vec = vec[f"duly {kind}"][n_max]
        rows.append(
            [label, op, fmt_rate(rate), fmt_rate(d_scalar), fmt_ratio(d_scalar / rate),
             fmt_ratio(d_vec / rate), equal, equiv]
        )  # fmt: skip
        shown.append((f"{label} {op}", ours, theirs, other, kind))
        report.add(
            f"{op}: {fmt_rate(d_scalar)} (duly scalar) vs {fmt_rate(rate)} ({label})"
            f" -> {fmt_ratio(d_scalar / rate)}; duly {kind}_many @{fmt_size(n_max)}"
            f" -> {fmt_ratio(d_vec / rate)}"
        )

    # (a) businesstimedelta
    btd = BusinessTimeDeltaContender(hols)
    rate, res = loop_rate(btd.between, ua, ub, opts.repeat)
    record("businesstimedelta", "between", rate, np.array(res, dtype=np.float64))
    rate, res = loop_rate(btd.add, ua, secs, opts.repeat)
    record("businesstimedelta", "add", rate, to_epochs(res))

    # (b) business-duration
    bd = BusinessDurationContender(hols)
    rate, res = loop_rate(bd.between, na, nb, opts.repeat)
    record("business-duration", "between", rate, np.array(res, dtype=np.float64))

    # (c) pandas
    pdc = PandasContender(hols)
    pa, pb = pdc.timestamps(w.starts), pdc.timestamps(w.ends)
    rate, res = loop_rate(pdc.between, pa, pb, opts.repeat)
    record("pandas per-pair", "between", rate, np.array(res, dtype=np.float64))
    rate, res = loop_rate(pdc.add, pa, hours, opts.repeat)
    record("pandas CustomBusinessHour", "add (whole hours)", rate, to_epochs(res))

    table(
        ["library", "op", "calls/s", "duly scalar", "ratio", f"*_many @{fmt_size(n_max)}",
         "equal to duly", "add equivalent"],
        rows,
    )  # fmt: skip
    for title, ours, theirs, other, kind in shown:
        show_disagreements(title, w.starts, other, ours, theirs, kind)


def bench_boundaries(cal: Calendar, hols: frozenset[date]) -> None:
    """Hand-picked cases at the edges, where the contenders' conventions show."""
    heading("boundary cases, office calendar (local times; '-' = not supported)")
    btd = BusinessTimeDeltaContender(hols)
    bd = BusinessDurationContender(hols)
    pdc = PandasContender(hols)
    recipe = NumpyRecipe(hols)
    reference = SearchsortedReference(cal, date(2025, 1, 1), date(2026, 1, 31))

    def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
        return datetime(y, mo, d, h, mi, tzinfo=TZ)

    def show(epoch: int) -> str:
        return datetime.fromtimestamp(epoch, tz=TZ).strftime("%a %m-%d %H:%M")

    def hours(seconds: float) -> str:
        return "nan" if seconds != seconds else f"{seconds / H:g} h"

    rows = []
    adds = (
        ("08:00 + 4 h (lands on lunch)", local(2025, 3, 10, 8), 4),
        ("13:00 + 4 h (lands on closing)", local(2025, 3, 10, 13), 4),
        ("Thu 16:30 + 1 h, Midsummer Eve next", local(2025, 6, 19, 16, 30), 1),
        ("Dec 23 16:00 + 2 h (Christmas)", local(2025, 12, 23, 16), 2),
    )
    for label, a, n in adds:
        ea = np.array([int(a.timestamp())], dtype=np.int64)
        secs = np.array([n * H], dtype=np.int64)
        rows.append(
            [label, show(int(cal.add(a, n * H).timestamp())),
             show(int(btd.add(a.astimezone(UTC), n * H).timestamp())), "-",
             show(int(pdc.add(pdc.pd.Timestamp(a), n).timestamp())),
             show(int(recipe.add(ea, secs)[0])), show(int(reference.add(ea, secs)[0]))]
        )  # fmt: skip
    spans = (
        ("11:30 -> 13:30 (over lunch)", local(2025, 3, 10, 11, 30), local(2025, 3, 10, 13, 30)),
        ("Fri 16:00 -> Mon 09:00", local(2025, 3, 14, 16), local(2025, 3, 17, 9)),
        ("Dec 23 16:00 -> Jan 2 09:00", local(2025, 12, 23, 16), local(2026, 1, 2, 9)),
        ("reversed: 15:00 -> 10:00", local(2025, 3, 10, 15), local(2025, 3, 10, 10)),
    )
    for label, a, b in spans:
        ea = np.array([int(a.timestamp())], dtype=np.int64)
        eb = np.array([int(b.timestamp())], dtype=np.int64)
        naive_a, naive_b = a.replace(tzinfo=None), b.replace(tzinfo=None)
        rows.append(
            [label, hours(cal.between(a, b)), hours(btd.between(a, b)),
             hours(bd.between(naive_a, naive_b)),
             hours(pdc.between(pdc.pd.Timestamp(a), pdc.pd.Timestamp(b))),
             hours(float(recipe.between(ea, eb)[0])), hours(float(reference.between(ea, eb)[0]))]
        )  # fmt: skip
    table(
        ["case", "duly", "businesstimedelta", "business-duration", "pandas", "numpy recipe",
         "searchsorted"],
        rows,
    )  # fmt: skip
    print(
        "  An add that lands on 12:00 or 17:00: businesstimedelta stops at the closing time,"
        " the\n  others give the next opening (no business time lies between the two answers)."
        " A reversed\n  span: duly and the array recipes give minus the forward span,"
        " businesstimedelta sorts its\n  arguments, business-duration returns NaN, and the pandas"
        " loop written here gives 0."
    )


def grain_of(cal: Calendar) -> str:
    """Boundary grain and the step of duly's lookup table (internal; for information only)."""
    tl = cal._timeline[0]
    if tl is None:
        return "-"
    table = tl.table[0]
    if table is None:
        return f"bounds {tl.grain} s, no table (searched)"
    kind = "slot" if type(table).__name__ == "_SlotTable" else "uniform"
    return f"bounds {tl.grain} s, {kind} table {table.grain} s"


def bench_hard(
    opts: Options, cal: Calendar, full: Workload, vec: dict[str, dict[int, float]], report: Report
) -> None:
    n_max = max(opts.sizes)
    hard = hard_calendar()
    zone = ZoneInfo(HARD_TZ_NAME)
    heading(f"duly on a harder calendar: {HARD_TZ_NAME}, split and overnight shifts, exceptions")
    print("  Mon-Fri 07:30-11:45, 12:15-16:10, 21:00-02:30(+1); Sat 09:00-13:00, 22:00-02:30(+1)")
    print("  (across the DST changes); Sun 18:00-22:00; US federal holidays;")
    print(
        f"  {len(hard.exceptions)} dated exceptions (Black Friday, Dec 24, Dec 31 09:07-15:53,"
        " a July stock-take 20:00-04:00, half days on Veterans Day, which is a holiday)"
    )
    reference = SearchsortedReference(hard, date(2020, 12, 20), date(2027, 1, 5))
    w = full.head(n_max)
    fresh = hard_calendar()
    t = time.perf_counter()
    fresh.between_many(w.starts, w.ends)
    cold = time.perf_counter() - t
    rows = []
    last: dict[str, float] = {}
    for n in opts.sizes:
        wn = full.head(n)
        for name, fn, x, y in (
            ("between", hard.between_many, wn.starts, wn.ends),
            ("add", hard.add_many, wn.starts, wn.add_secs),
            ("ref between", reference.between, wn.starts, wn.ends),
            ("ref add", reference.add, wn.starts, wn.add_secs),
        ):
            fn(x, y)
            last[name] = n / median_time(call(fn, x, y), opts.repeat)
        hb, ha, rb, ra = last["between"], last["add"], last["ref between"], last["ref add"]
        rows.append(
            [fmt_size(n), fmt_rate(hb), fmt_ratio(hb / vec["duly between"][n]), fmt_rate(ha),
             fmt_ratio(ha / vec["duly add"][n]), fmt_rate(rb), fmt_ratio(hb / rb), fmt_rate(ra),
             fmt_ratio(ha / ra)]
        )  # fmt: skip
    table(
        ["size", "between_many", "/ office", "add_many", "/ office", "ss between", "ratio",
         "ss add", "ratio"],
        rows,
    )  # fmt: skip
    print(f"  cold first between_many @{fmt_size(n_max)}: {fmt_secs(cold)}")

    # The table's step is the largest one dividing every boundary: one odd minute makes it 60 s.
    coarse = hard_calendar(odd_minutes=False)
    coarse.between_many(w.starts, w.ends)
    coarse.add_many(w.starts, w.add_secs)
    print(f"  where the time goes @{fmt_size(n_max)}: the grain of duly's lookup table")
    grain_rows = []
    for label, c in (
        ("office (Stockholm)", cal),
        ("hard, Dec 31 09:05-15:55", coarse),
        ("hard, Dec 31 09:07-15:53", hard),
    ):
        rb = n_max / median_time(call(c.between_many, w.starts, w.ends), opts.repeat)
        ra = n_max / median_time(call(c.add_many, w.starts, w.add_secs), opts.repeat)
        grain_rows.append([label, grain_of(c), fmt_rate(rb), fmt_rate(ra)])
    table(["calendar", "grain", "between_many", "add_many"], grain_rows)

    hb_all = hard.between_many(w.starts, w.ends)
    ha_all = np.asarray(hard.add_many(w.starts, w.add_secs), dtype=np.int64)
    rb_all = reference.between(w.starts, w.ends)
    ra_all = reference.add(w.starts, w.add_secs)
    eq_b, eq_a = agreement(hb_all, rb_all), agreement(ha_all, ra_all)
    print(
        "  searchsorted reference (zoneinfo, fold=0) equal to duly:"
        f" between {fmt_share(eq_b, n_max)}, add {fmt_share(eq_a, n_max)}"
    )
    show_disagreements("hard, between", w.starts, w.ends, hb_all, rb_all, "between", zone, 3)
    show_disagreements("hard, add", w.starts, w.add_secs, ha_all, ra_all, "add", zone, 3)
    print(
        "  the Saturday night shift across the DST changes of 2025 (22:00-02:30 on the wall clock):"
    )
    dst_rows = []
    for sat in (date(2025, 3, 8), date(2025, 11, 1)):
        a = datetime(sat.year, sat.month, sat.day, 21, tzinfo=zone)
        b = datetime(sat.year, sat.month, sat.day + 1, 12, tzinfo=zone)
        ea, eb = np.array([int(a.timestamp())]), np.array([int(b.timestamp())])
        dst_rows.append(
            [f"{a:%a %Y-%m-%d %H:%M%z} -> {b:%a %H:%M%z}", f"{hard.between(a, b) / H:.2f} h",
             f"{float(reference.between(ea, eb)[0]) / H:.2f} h"]
        )  # fmt: skip
    table(["span", "duly", "searchsorted (fold=0)"], dst_rows)

    k = min(opts.sample, n_max)
    s = full.head(k)
    sa, sb = aware_utc(s.starts), aware_utc(s.ends)
    _, res_b = loop_rate(hard.between, sa, sb, 1)
    _, res_a = loop_rate(hard.add, sa, [int(x) for x in s.add_secs], 1)
    same_b = agreement(np.array(res_b), hard.between_many(s.starts, s.ends))
    same_a = agreement(to_epochs(res_a), np.asarray(hard.add_many(s.starts, s.add_secs)))
    print(
        f"  duly scalar == vectorized on {k:,} pairs: between {fmt_share(same_b, k)},"
        f" add {fmt_share(same_a, k)}"
    )
    report.add(
        f"hard calendar (New York, split + overnight shifts, odd-minute exceptions)"
        f" @{fmt_size(n_max)}: between_many {last['between'] / 1e6:.2f} M pairs/s, add_many"
        f" {last['add'] / 1e6:.2f} M (searchsorted reference {last['ref between'] / 1e6:.2f} M,"
        f" {last['ref add'] / 1e6:.2f} M)"
    )
    report.add(
        f"  same calendar with 5-minute boundaries: between_many {grain_rows[1][2]},"
        f" add_many {grain_rows[1][3]}"
    )


NOTES = (
    "Rates are medians of --repeat timed runs. Each vectorized call is timed after one warm-up call"
    " on the same data (duly builds its timeline lazily; the cold first call is reported apart)."
    " Inputs (datetimes, Timestamps, arrays) are built outside the timed loops.",
    "businesstimedelta gets aware UTC datetimes and rules with its documented tz= (pytz"
    " Europe/Stockholm). Its forward add that lands exactly on a closing time stays there (17:00)"
    " where duly rolls to the next opening; 'add equivalent' counts answers with no business time"
    " between them and duly's.",
    "business-duration has no time zones and one interval per day: it gets naive local wall times,"
    " and the 08-12 and 13-17 intervals are two calls summed. Stockholm's DST changes happen at"
    " 02:00/03:00, outside working hours, so wall-clock arithmetic is exact for this calendar.",
    "pandas offsets take an integer n, so its add uses whole business hours (1..40) and duly is"
    " timed and checked on the same whole-hour durations. pandas has no business-time difference:"
    " its between is a per-pair loop over CustomBusinessDay days, the two intervals localized with"
    " tz_localize and clipped to the span.",
    "The numpy recipe converts to local time with pandas tz_convert (timed with it), then uses"
    " np.busday_count / np.busday_offset with the holidays and clips the time of day. It is exact"
    " only while no DST change falls inside working hours (true here); on a fixed +01:00 offset"
    " it is wrong for every instant in summer time, as its agreement row shows.",
    "The searchsorted reference lists the UTC open intervals by scanning each day with zoneinfo,"
    " then answers with np.searchsorted and a prefix sum. On the hard calendar its fold=0 reading"
    " of a wall time inside the spring-forward gap (02:30 read as 03:30 EDT) keeps the Saturday"
    " night shift open 30 minutes past the jump; duly's rule (open while the wall clock reads"
    " 22:00-02:30) closes it at the jump, when the clock goes from 01:59:59 to 03:00.",
)


def run(opts: Options) -> None:
    t0 = time.perf_counter()
    n_max = max(opts.sizes)
    hols = swedish_holidays()
    cal = office_calendar(hols)
    full = make_workload(max(n_max, opts.sample, opts.scalar_pairs))
    spans = (full.ends - full.starts)[:n_max]
    print("duly calendar benchmark")
    print(
        f"  sizes {', '.join(fmt_size(n) for n in opts.sizes)}; median of {opts.repeat} runs;"
        f" per-pair libraries on {min(opts.sample, n_max):,} pairs; duly scalar loop on"
        f" {opts.scalar_pairs:,} pairs"
    )
    print(
        f"  calendar: {TZ_NAME}, Mon-Fri 08:00-12:00 + 13:00-17:00, {len(hols)} SE public +"
        f" de_facto holidays {HOLIDAY_YEARS.start}-{HOLIDAY_YEARS.stop - 1}"
    )
    print(
        f"  spans (wall clock): median {np.median(spans) / H:.1f} h, p99"
        f" {np.percentile(spans, 99) / DAY:.1f} d, max {spans.max() / DAY:.1f} d;"
        " add: 60 s .. 40 business hours"
    )
    report = Report()
    bench_cold(opts, hols, full.head(n_max), report)
    vec = bench_vectorized(opts, cal, hols, full, report)
    bench_scalar(opts, cal, full, vec, report)
    bench_libraries(opts, cal, hols, full, vec, report)
    bench_boundaries(cal, hols)
    bench_hard(opts, cal, full, vec, report)

    heading("notes")
    for note in NOTES:
        print(f"- {note}")

    import pandas as pd

    heading("summary (paste into the README)")
    for line in report.lines:
        print(f"  {line}")
    rel = os.path.relpath(sys.executable)
    exe = sys.executable if rel.startswith("..") else rel
    print()
    print(
        f"  python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__};"
        f" {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}"
    )
    print(f"  command: {shlex.join([exe, *sys.argv])}")
    print(f"  total wall time {time.perf_counter() - t0:.0f} s")


def main(argv: Sequence[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
