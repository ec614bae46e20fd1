"""The vectorized paths agree with the scalar one whichever lookup table a calendar gets.

A calendar whose boundaries sit on whole hours gets the uniform table; one odd-minute boundary
over a long span gets the slot table; a span too long for any table falls back to searching the
interval bounds. Each is checked against the scalar path, which bisects the intervals directly.
"""

from datetime import UTC, date, datetime

import numpy as np
import pytest

from duly.core import calendar as calendar_module
from duly.core.calendar import Calendar

OFFICE = ((480, 720), (780, 1020))
NIGHT = ((1260, 1590),)  # 21:00-02:30 the next morning


def hard_calendar() -> Calendar:
    week = (OFFICE + NIGHT, OFFICE, OFFICE + NIGHT, OFFICE, OFFICE, ((540, 780),), ())
    exceptions = {
        date(2022, 12, 31): ((547, 953),),  # 09:07-15:53: forces a one-minute grain
        date(2023, 7, 14): ((1200, 1680),),  # stock-take 20:00-04:00
        date(2024, 2, 29): ((481, 482), (483, 484), (600, 601)),  # three one-minute runs
    }
    holidays = frozenset({date(2023, 12, 25), date(2024, 12, 25)})
    return Calendar("America/New_York", week, holidays, exceptions, name="hard")


def epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def random_pairs(lo: int, hi: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = rng.integers(lo, hi, n)
    return starts, starts + rng.integers(0, 20 * 86400, n)


def table_of(cal: Calendar) -> object:
    timeline = cal._timeline[0]
    assert timeline is not None
    return timeline.table[0]


def assert_matches_scalar(cal: Calendar, starts: np.ndarray, ends: np.ndarray) -> None:
    seconds = (ends - starts) // 3
    between = cal.between_many(starts, ends)
    added = cal.add_many(starts, seconds)
    backward = cal.add_many(ends, -seconds)
    for i in range(len(starts)):
        a = datetime.fromtimestamp(int(starts[i]), UTC)
        b = datetime.fromtimestamp(int(ends[i]), UTC)
        assert between[i] == cal.between(a, b), (a, b)
        assert added[i] == int(cal.add(a, int(seconds[i])).timestamp()), (a, seconds[i])
        assert backward[i] == int(cal.add(b, -int(seconds[i])).timestamp()), (b, seconds[i])


def test_an_hour_aligned_calendar_gets_the_uniform_table_and_matches_scalar():
    cal = Calendar("Europe/Stockholm", (OFFICE,) * 5 + ((), ()))
    starts, ends = random_pairs(epoch(2021, 1, 1), epoch(2026, 10, 1), 3000, seed=1)
    assert_matches_scalar(cal, starts, ends)
    assert isinstance(table_of(cal), calendar_module._Table)


def test_an_odd_minute_exception_over_years_gets_the_slot_table_and_matches_scalar():
    cal = hard_calendar()
    starts, ends = random_pairs(epoch(2021, 1, 1), epoch(2026, 10, 1), 3000, seed=2)
    # Pairs that start or end on the one-minute runs and odd boundaries, too.
    odd = np.array(
        [
            epoch(2024, 2, 29, 13, 1),  # 08:01 EST, inside the first one-minute run
            epoch(2024, 2, 29, 13, 2, 30),
            epoch(2022, 12, 31, 14, 7),  # 09:07 EST
            epoch(2022, 12, 31, 20, 53),  # 15:53 EST
            epoch(2023, 7, 15, 7, 59, 59),  # 03:59:59 EDT in the stock-take
        ]
    )
    starts = np.concatenate([starts, odd, odd - 60])
    ends = np.concatenate([ends, odd + 90, odd + 7200])
    assert_matches_scalar(cal, starts, ends)
    assert isinstance(table_of(cal), calendar_module._SlotTable)


def test_fractional_seconds_give_the_same_microseconds_on_the_slot_table():
    cal = hard_calendar()
    starts, ends = random_pairs(epoch(2021, 1, 1), epoch(2026, 10, 1), 500, seed=3)
    fs = starts + 0.123456
    fe = ends + 0.654321
    between = cal.between_many(fs, fe)
    added = cal.add_many(fs, (fe - fs) / 3)
    for i in range(len(fs)):
        a = datetime.fromtimestamp(float(fs[i]), UTC)
        b = datetime.fromtimestamp(float(fe[i]), UTC)
        assert between[i] == cal.between(a, b)
        expected = cal.add(a, float((fe[i] - fs[i]) / 3))
        assert added[i] == pytest.approx(expected.timestamp(), abs=1e-6)
    assert isinstance(table_of(cal), calendar_module._SlotTable)


def test_a_span_too_long_for_any_table_falls_back_to_searching(monkeypatch):
    monkeypatch.setattr(calendar_module, "_MAX_TABLE_SLOTS", 1000)
    monkeypatch.setattr(calendar_module, "_UNIFORM_MAX_SLOTS", 1000)
    cal = hard_calendar()
    starts, ends = random_pairs(epoch(1975, 1, 1), epoch(2095, 1, 1), 1000, seed=4)
    assert_matches_scalar(cal, starts, ends)
    assert table_of(cal) is None


@pytest.mark.parametrize(
    "zone", ["Europe/Stockholm", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns"]
)
def test_utc_offsets_agree_with_zoneinfo_at_every_instant(zone):
    from zoneinfo import ZoneInfo

    from duly.core.calendar import utc_offsets

    rng = np.random.default_rng(5)
    instants = rng.integers(epoch(1975, 1, 1), epoch(2090, 1, 1), 3000)
    # and the seconds either side of this zone's 2026 changes
    changes = [epoch(2026, 3, 29, 1), epoch(2026, 10, 25, 1), epoch(2026, 4, 4, 15)]
    instants = np.concatenate([instants, *[np.arange(c - 3, c + 3) for c in changes]])
    offsets = utc_offsets(zone, instants)
    tz = ZoneInfo(zone)
    for t, offset in zip(instants.tolist(), offsets.tolist(), strict=True):
        expected = datetime.fromtimestamp(t, tz).utcoffset()
        assert expected is not None
        assert offset == expected.total_seconds(), (zone, t)
