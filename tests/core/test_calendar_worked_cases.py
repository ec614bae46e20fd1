"""Worked cases: business time computed by hand, one rule of the calendar engine per test.

Every expected value is worked out in the comment next to it. Expected instants are written as
local wall-clock readings and turned into UTC by zoneinfo (``at``), never by the engine; the engine
answers in aware UTC datetimes, so both sides are compared in UTC (an ambiguous local reading would
otherwise never compare equal across zones).

Dates used: 2026-03-02 is a Monday, 2026-03-06 a Friday; 2026-02-07 a Saturday. The DST change
days are all Sundays: Europe/Stockholm 2026-03-29 (02:00 CET -> 03:00 CEST, at 01:00 UTC) and
2026-10-25 (03:00 CEST -> 02:00 CET, at 01:00 UTC); America/New_York 2026-03-08 (02:00 EST ->
03:00 EDT, at 07:00 UTC) and 2026-11-01 (02:00 EDT -> 01:00 EST, at 06:00 UTC);
Australia/Lord_Howe 2026-04-05 (02:00 +11 -> 01:30 +10:30, at 15:00 UTC the day before) and
2026-10-04 (02:00 +10:30 -> 02:30 +11, at 15:30 UTC the day before).
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from duly.core.calendar import Calendar, Hours

H = 3600
M = 60

STOCKHOLM = "Europe/Stockholm"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"
KATHMANDU = "Asia/Kathmandu"


def at(
    tz: str,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    fold: int = 0,
) -> datetime:
    """The instant a local wall-clock reading in ``tz`` names, as an aware UTC datetime."""
    local = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz), fold=fold)
    return local.astimezone(UTC)


def utc(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def epoch(t: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime, for the vectorized calls."""
    return int((t - utc(1970, 1, 1)).total_seconds())


def hm(hour: int, minute: int = 0) -> int:
    """Minutes after local midnight."""
    return hour * 60 + minute


def weekdays(
    *hours: tuple[int, int],
    tz: str = "UTC",
    holidays: Iterable[date] = (),
    exceptions: Mapping[date, Hours] | None = None,
) -> Calendar:
    """Monday to Friday with ``hours``, weekend closed."""
    return Calendar(
        timezone=tz,
        week=(hours, hours, hours, hours, hours, (), ()),
        holidays=frozenset(holidays),
        exceptions=exceptions or {},
    )


def sundays(*hours: tuple[int, int], tz: str) -> Calendar:
    """Open on Sundays only (every DST change day here is a Sunday)."""
    return Calendar(timezone=tz, week=((), (), (), (), (), (), hours))


NINE_TO_FIVE = weekdays((hm(9), hm(17)))
LUNCH_BREAK = weekdays((hm(8), hm(12)), (hm(13), hm(17)))


# ---------------------------------------------------------------------- a nine-to-five week


def test_eight_hours_from_nine_on_a_nine_to_five_day_is_nine_the_next_working_day() -> None:
    # Mon 09:00 + 8h fills Monday to the 17:00 close exactly; no business time passes before
    # Tuesday 09:00, and add gives the latest instant with 8h behind it.
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 9), 8 * H) == utc(2026, 3, 3, 9)


def test_eight_hours_from_friday_nine_is_nine_on_monday_after_the_weekend() -> None:
    # Fri 09:00-17:00 holds the 8h; Sat and Sun are closed; the next opening is Mon 09:00.
    assert NINE_TO_FIVE.add(utc(2026, 3, 6, 9), 8 * H) == utc(2026, 3, 9, 9)


def test_one_hour_from_friday_half_past_four_is_half_past_nine_on_monday() -> None:
    # 30 min on Friday (16:30-17:00) + 30 min on Monday (09:00-09:30).
    assert NINE_TO_FIVE.add(utc(2026, 3, 6, 16, 30), H) == utc(2026, 3, 9, 9, 30)


def test_a_week_of_nine_to_five_days_holds_forty_hours() -> None:
    # Mon 2026-03-02 00:00 to Mon 2026-03-09 00:00: five days of 8h = 40h = 144000 s.
    assert NINE_TO_FIVE.between(utc(2026, 3, 2), utc(2026, 3, 9)) == 40 * H


def test_between_counts_the_partial_days_at_both_ends() -> None:
    # Mon 15:00-17:00 (2h) + Tue 09:00-17:00 (8h) + Wed 09:00-11:00 (2h) = 12h.
    assert NINE_TO_FIVE.between(utc(2026, 3, 2, 15), utc(2026, 3, 4, 11)) == 12 * H


def test_time_outside_working_hours_counts_nothing() -> None:
    # Mon 17:00 to Tue 09:00 is the night; Sat 00:00 to Mon 00:00 the weekend.
    assert NINE_TO_FIVE.between(utc(2026, 3, 2, 17), utc(2026, 3, 3, 9)) == 0
    assert NINE_TO_FIVE.between(utc(2026, 3, 7), utc(2026, 3, 9)) == 0


def test_a_reversed_span_counts_the_same_time_with_a_minus_sign() -> None:
    # Forward Mon 10:00 to Tue 12:00: 7h Monday (10-17) + 3h Tuesday (09-12) = 10h.
    forward = NINE_TO_FIVE.between(utc(2026, 3, 2, 10), utc(2026, 3, 3, 12))
    assert forward == 10 * H
    assert NINE_TO_FIVE.between(utc(2026, 3, 3, 12), utc(2026, 3, 2, 10)) == -10 * H


def test_half_a_second_after_nine_is_counted_to_the_microsecond() -> None:
    # 0.5 s from Mon 09:00 is 09:00:00.500000; between gives the 0.5 s back.
    half = NINE_TO_FIVE.add(utc(2026, 3, 2, 9), 0.5)
    assert half == utc(2026, 3, 2, 9, 0, 0, 500_000)
    assert NINE_TO_FIVE.between(utc(2026, 3, 2, 8), half) == 0.5


# -------------------------------------------------------------------------------- add zero


def test_adding_zero_inside_working_hours_returns_the_start_itself() -> None:
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 10, 15), 0) == utc(2026, 3, 2, 10, 15)
    # 09:00 is open (intervals are [start, end)), so it is its own answer.
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 9), 0) == utc(2026, 3, 2, 9)


def test_adding_zero_outside_working_hours_returns_the_next_opening() -> None:
    # Before opening: Mon 08:00 -> Mon 09:00. At the close: Mon 17:00 -> Tue 09:00.
    # On the weekend: Sat 12:00 -> Mon 09:00.
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 8), 0) == utc(2026, 3, 2, 9)
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 17), 0) == utc(2026, 3, 3, 9)
    assert NINE_TO_FIVE.add(utc(2026, 3, 7, 12), 0) == utc(2026, 3, 9, 9)


# ------------------------------------------------------------------------------- backward


def test_one_hour_back_from_ten_is_nine_the_same_day() -> None:
    # Backward add gives the instant nearest the start: 10:00 - 1h = 09:00 Monday, not the
    # previous Friday's 17:00, which is just as far back in business time.
    assert NINE_TO_FIVE.add(utc(2026, 3, 2, 10), -H) == utc(2026, 3, 2, 9)


def test_one_hour_back_from_half_past_nine_is_half_past_four_the_day_before() -> None:
    # 30 min back on Tuesday (09:30-09:00), the other 30 min from Monday's close (17:00-16:30).
    assert NINE_TO_FIVE.add(utc(2026, 3, 3, 9, 30), -H) == utc(2026, 3, 2, 16, 30)


def test_one_hour_back_from_saturday_noon_is_four_pm_on_friday() -> None:
    # Nothing is open between Fri 17:00 and Sat 12:00; one hour back from Friday's close is 16:00.
    assert NINE_TO_FIVE.add(utc(2026, 3, 7, 12), -H) == utc(2026, 3, 6, 16)


def test_eight_hours_back_from_tuesday_nine_is_monday_nine() -> None:
    # Tue 09:00 has as much business time behind it as Mon 17:00; 8h back is Mon 09:00, the
    # latest instant with exactly that much business time before it.
    assert NINE_TO_FIVE.add(utc(2026, 3, 3, 9), -8 * H) == utc(2026, 3, 2, 9)


def test_twenty_hours_back_and_forward_again_return_to_an_open_start() -> None:
    # From Wed 11:00 back: Wed 09-11 (2h), Tue (8h, 10h), Mon (8h, 18h), then 2h before
    # Friday 2026-02-27's close: Fri 15:00. Forward again: Fri 2h + Mon 8h + Tue 8h + Wed 2h.
    back = NINE_TO_FIVE.add(utc(2026, 3, 4, 11), -20 * H)
    assert back == utc(2026, 2, 27, 15)
    assert NINE_TO_FIVE.add(back, 20 * H) == utc(2026, 3, 4, 11)


# ------------------------------------------------------------- is_open, next_open, next_close


def test_a_nine_to_five_day_is_open_from_nine_up_to_but_not_including_five() -> None:
    assert NINE_TO_FIVE.is_open(utc(2026, 3, 2, 9))
    assert NINE_TO_FIVE.is_open(utc(2026, 3, 2, 16, 59, 59, 999_999))
    assert not NINE_TO_FIVE.is_open(utc(2026, 3, 2, 17))
    assert not NINE_TO_FIVE.is_open(utc(2026, 3, 2, 8, 59, 59))
    assert not NINE_TO_FIVE.is_open(utc(2026, 3, 7, 12))  # Saturday


def test_next_open_of_an_open_instant_is_that_instant() -> None:
    assert NINE_TO_FIVE.next_open(utc(2026, 3, 2, 10)) == utc(2026, 3, 2, 10)


def test_next_open_after_the_friday_close_is_monday_nine() -> None:
    assert NINE_TO_FIVE.next_open(utc(2026, 3, 6, 17)) == utc(2026, 3, 9, 9)
    assert NINE_TO_FIVE.next_open(utc(2026, 3, 7, 3)) == utc(2026, 3, 9, 9)


def test_next_close_of_an_open_instant_is_five_pm_that_day() -> None:
    assert NINE_TO_FIVE.next_close(utc(2026, 3, 2, 9)) == utc(2026, 3, 2, 17)
    assert NINE_TO_FIVE.next_close(utc(2026, 3, 2, 16, 59)) == utc(2026, 3, 2, 17)


def test_next_close_of_a_closed_instant_is_that_instant() -> None:
    assert NINE_TO_FIVE.next_close(utc(2026, 3, 2, 17)) == utc(2026, 3, 2, 17)
    assert NINE_TO_FIVE.next_close(utc(2026, 3, 7, 12)) == utc(2026, 3, 7, 12)


def test_answers_are_aware_utc_datetimes_whatever_the_zone_of_the_question() -> None:
    # Stockholm in March is CET (+01:00): Mon 10:00 local is 09:00 UTC, and stays that instant.
    calendar = weekdays((hm(9), hm(17)), tz=STOCKHOLM)
    start = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo(STOCKHOLM))
    for answer in (calendar.add(start, 0), calendar.next_open(start), calendar.next_close(start)):
        assert answer.tzinfo is UTC
    assert calendar.add(start, 0) == utc(2026, 3, 2, 9)


# ---------------------------------------------------------------------------- lunch breaks


def test_five_hours_from_eight_skip_the_lunch_hour_and_end_at_two() -> None:
    # 08:00-12:00 holds 4h, lunch 12-13 counts nothing, 13:00 + 1h = 14:00.
    assert LUNCH_BREAK.add(utc(2026, 3, 2, 8), 5 * H) == utc(2026, 3, 2, 14)


def test_four_hours_from_eight_end_on_the_noon_close_and_roll_to_one() -> None:
    # 08:00 + 4h = 12:00, a closing time: the next business second starts at 13:00.
    assert LUNCH_BREAK.add(utc(2026, 3, 2, 8), 4 * H) == utc(2026, 3, 2, 13)


def test_eleven_to_two_holds_two_hours_around_the_lunch_break() -> None:
    # 11:00-12:00 (1h) + 13:00-14:00 (1h).
    assert LUNCH_BREAK.between(utc(2026, 3, 2, 11), utc(2026, 3, 2, 14)) == 2 * H


def test_a_day_with_a_lunch_break_holds_eight_hours() -> None:
    # 08-12 (4h) + 13-17 (4h).
    assert LUNCH_BREAK.between(utc(2026, 3, 2), utc(2026, 3, 3)) == 8 * H


def test_one_hour_back_from_half_past_one_is_half_past_eleven() -> None:
    # 13:30 -> 13:00 (30 min), lunch counts nothing, 12:00 -> 11:30 (30 min).
    assert LUNCH_BREAK.add(utc(2026, 3, 2, 13, 30), -H) == utc(2026, 3, 2, 11, 30)


def test_one_hour_back_from_one_pm_is_eleven_am() -> None:
    # 13:00 has as much business time behind it as 12:00; one hour before that is 11:00.
    assert LUNCH_BREAK.add(utc(2026, 3, 2, 13), -H) == utc(2026, 3, 2, 11)


def test_lunch_is_closed_and_opens_again_at_one() -> None:
    assert not LUNCH_BREAK.is_open(utc(2026, 3, 2, 12, 30))
    assert LUNCH_BREAK.next_open(utc(2026, 3, 2, 12, 30)) == utc(2026, 3, 2, 13)
    assert LUNCH_BREAK.next_close(utc(2026, 3, 2, 9)) == utc(2026, 3, 2, 12)
    assert LUNCH_BREAK.next_close(utc(2026, 3, 2, 12)) == utc(2026, 3, 2, 12)


# ---------------------------------------------------------------------- overnight intervals


def night_shift(holidays: Iterable[date] = ()) -> Calendar:
    """Mon-Fri 09-17, and Saturday 22:00-06:00 (ends on Sunday, belongs to Saturday)."""
    day = ((hm(9), hm(17)),)
    return Calendar(
        timezone="UTC",
        week=(day, day, day, day, day, ((hm(22), hm(30)),), ()),
        holidays=frozenset(holidays),
    )


SAT = date(2026, 2, 7)
SUN = date(2026, 2, 8)


def test_a_saturday_night_shift_from_ten_pm_to_six_am_holds_eight_hours() -> None:
    # Sat 22:00-24:00 (2h) + Sun 00:00-06:00 (6h), counted from Sat 00:00 to Mon 00:00.
    assert night_shift().between(utc(2026, 2, 7), utc(2026, 2, 9)) == 8 * H


def test_three_am_on_sunday_is_open_because_the_shift_belongs_to_saturday() -> None:
    calendar = night_shift()
    assert calendar.is_open(utc(2026, 2, 8, 3))
    assert not calendar.is_open(utc(2026, 2, 8, 6))
    assert not calendar.is_open(utc(2026, 2, 7, 21, 59))
    assert calendar.next_open(utc(2026, 2, 7, 12)) == utc(2026, 2, 7, 22)
    assert calendar.next_close(utc(2026, 2, 8, 3)) == utc(2026, 2, 8, 6)


def test_two_hours_from_friday_four_pm_end_at_eleven_on_saturday_night() -> None:
    # Fri 16:00-17:00 (1h), then Sat 22:00 + 1h = 23:00.
    assert night_shift().add(utc(2026, 2, 6, 16), 2 * H) == utc(2026, 2, 7, 23)


def test_eight_hours_from_saturday_ten_pm_end_at_the_sunday_close_and_roll_to_monday_nine() -> None:
    # The whole shift (8h) ends at Sun 06:00, a closing time; the next opening is Mon 09:00.
    assert night_shift().add(utc(2026, 2, 7, 22), 8 * H) == utc(2026, 2, 9, 9)


def test_a_holiday_on_saturday_removes_the_saturday_night_shift() -> None:
    # The shift opens on Saturday, so a Saturday holiday closes all of it, Sunday morning too.
    calendar = night_shift(holidays={SAT})
    assert calendar.between(utc(2026, 2, 7), utc(2026, 2, 9)) == 0
    assert not calendar.is_open(utc(2026, 2, 8, 3))


def test_a_holiday_on_sunday_keeps_the_saturday_night_shift_that_runs_into_it() -> None:
    # Sunday has no interval of its own; the 00:00-06:00 part belongs to Saturday: still 8h.
    calendar = night_shift(holidays={SUN})
    assert calendar.between(utc(2026, 2, 7), utc(2026, 2, 9)) == 8 * H
    assert calendar.is_open(utc(2026, 2, 8, 3))


# --------------------------------------------------------------------------------- holidays

TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)


def test_a_tuesday_holiday_leaves_thirty_two_hours_in_the_week() -> None:
    # Mon, Wed, Thu, Fri: 4 x 8h = 32h.
    calendar = weekdays((hm(9), hm(17)), holidays={TUESDAY})
    assert calendar.between(utc(2026, 3, 2), utc(2026, 3, 9)) == 32 * H


def test_two_hours_from_monday_four_pm_skip_a_tuesday_holiday_and_end_at_ten_on_wednesday() -> None:
    # Mon 16:00-17:00 (1h), Tuesday closed, Wed 09:00 + 1h = 10:00.
    calendar = weekdays((hm(9), hm(17)), holidays={TUESDAY})
    assert calendar.add(utc(2026, 3, 2, 16), 2 * H) == utc(2026, 3, 4, 10)


def test_one_hour_back_from_wednesday_half_past_nine_skips_the_tuesday_holiday() -> None:
    # Wed 09:30 -> 09:00 (30 min), Tuesday closed, Mon 17:00 -> 16:30 (30 min).
    calendar = weekdays((hm(9), hm(17)), holidays={TUESDAY})
    assert calendar.add(utc(2026, 3, 4, 9, 30), -H) == utc(2026, 3, 2, 16, 30)


def test_a_holiday_is_closed_all_day_and_the_next_opening_is_the_day_after() -> None:
    calendar = weekdays((hm(9), hm(17)), holidays={TUESDAY})
    assert not calendar.is_open(utc(2026, 3, 3, 10))
    assert calendar.next_open(utc(2026, 3, 3, 10)) == utc(2026, 3, 4, 9)


def test_a_holiday_on_a_weekend_changes_nothing() -> None:
    calendar = weekdays((hm(9), hm(17)), holidays={date(2026, 3, 7)})
    assert calendar.between(utc(2026, 3, 2), utc(2026, 3, 9)) == 40 * H


# ----------------------------------------------------------------------- dated exceptions


def test_an_exception_of_nine_to_twelve_shortens_that_day_to_three_hours() -> None:
    calendar = weekdays((hm(9), hm(17)), exceptions={WEDNESDAY: ((hm(9), hm(12)),)})
    # Wednesday 09:00-12:00 only: 3h.
    assert calendar.between(utc(2026, 3, 4), utc(2026, 3, 5)) == 3 * H
    assert not calendar.is_open(utc(2026, 3, 4, 13))
    # Wed 11:00-12:00 (1h), then Thu 09:00 + 1h = 10:00.
    assert calendar.add(utc(2026, 3, 4, 11), 2 * H) == utc(2026, 3, 5, 10)


def test_an_exception_with_no_hours_closes_a_working_day() -> None:
    calendar = weekdays((hm(9), hm(17)), exceptions={WEDNESDAY: ()})
    assert calendar.between(utc(2026, 3, 4), utc(2026, 3, 5)) == 0
    # Tue 16:00-17:00 (1h), Wednesday closed, Thu 09:00 + 1h = 10:00.
    assert calendar.add(utc(2026, 3, 3, 16), 2 * H) == utc(2026, 3, 5, 10)


def test_an_exception_on_a_holiday_wins_and_opens_the_day() -> None:
    calendar = weekdays(
        (hm(9), hm(17)), holidays={WEDNESDAY}, exceptions={WEDNESDAY: ((hm(10), hm(14)),)}
    )
    # The exception's 10:00-14:00 holds 4h although the date is also a holiday.
    assert calendar.between(utc(2026, 3, 4), utc(2026, 3, 5)) == 4 * H
    assert calendar.is_open(utc(2026, 3, 4, 10))
    assert not calendar.is_open(utc(2026, 3, 4, 9, 30))


def test_an_exception_can_open_a_saturday() -> None:
    calendar = weekdays((hm(9), hm(17)), exceptions={date(2026, 3, 7): ((hm(10), hm(12)),)})
    # Fri 16:00-17:00 (1h), then Sat 10:00 + 1h = 11:00.
    assert calendar.add(utc(2026, 3, 6, 16), 2 * H) == utc(2026, 3, 7, 11)
    # Friday 8h + Saturday 2h.
    assert calendar.between(utc(2026, 3, 6), utc(2026, 3, 9)) == 10 * H


def test_an_exception_may_run_past_midnight_into_the_next_day() -> None:
    # Friday becomes 22:00-02:00 (4h, half of it on Saturday morning).
    calendar = weekdays((hm(9), hm(17)), exceptions={date(2026, 3, 6): ((hm(22), hm(26)),)})
    assert calendar.between(utc(2026, 3, 6), utc(2026, 3, 8)) == 4 * H
    assert calendar.is_open(utc(2026, 3, 7, 1))
    assert not calendar.is_open(utc(2026, 3, 6, 10))


# ------------------------------------------------------------------ DST in Europe/Stockholm


def test_a_whole_sunday_in_stockholm_holds_twenty_three_hours_when_the_clocks_spring_forward() -> (
    None
):
    # 2026-03-29 00:00 CET is 03-28 23:00 UTC; the next midnight, 00:00 CEST, is 03-29 22:00 UTC.
    calendar = sundays((0, hm(24)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 3, 29), at(STOCKHOLM, 2026, 3, 30)) == 23 * H
    assert calendar.between(at(STOCKHOLM, 2026, 3, 28), at(STOCKHOLM, 2026, 3, 31)) == 23 * H


def test_a_whole_sunday_in_stockholm_holds_twenty_five_hours_when_the_clocks_fall_back() -> None:
    # 2026-10-25 00:00 CEST is 10-24 22:00 UTC; the next midnight, 00:00 CET, is 10-25 23:00 UTC.
    calendar = sundays((0, hm(24)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 10, 25), at(STOCKHOLM, 2026, 10, 26)) == 25 * H


def test_twelve_hours_from_midnight_on_the_stockholm_spring_sunday_end_at_one_pm_local() -> None:
    # 00:00 CET = 03-28 23:00 UTC, + 12 real hours = 03-29 11:00 UTC = 13:00 CEST.
    calendar = sundays((0, hm(24)), tz=STOCKHOLM)
    end = calendar.add(at(STOCKHOLM, 2026, 3, 29), 12 * H)
    assert end == at(STOCKHOLM, 2026, 3, 29, 13) == utc(2026, 3, 29, 11)


def test_twelve_hours_from_midnight_on_the_stockholm_autumn_sunday_end_at_eleven_am_local() -> None:
    # 00:00 CEST = 10-24 22:00 UTC, + 12 real hours = 10-25 10:00 UTC = 11:00 CET.
    calendar = sundays((0, hm(24)), tz=STOCKHOLM)
    end = calendar.add(at(STOCKHOLM, 2026, 10, 25), 12 * H)
    assert end == at(STOCKHOLM, 2026, 10, 25, 11) == utc(2026, 10, 25, 10)


def test_one_to_five_am_holds_four_hours_on_an_ordinary_stockholm_sunday() -> None:
    calendar = sundays((hm(1), hm(5)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 3, 22), at(STOCKHOLM, 2026, 3, 23)) == 4 * H


def test_one_to_five_am_holds_three_hours_on_the_stockholm_spring_forward_day() -> None:
    # 01:00 CET = 00:00 UTC to 05:00 CEST = 03:00 UTC: the hour 02:00-03:00 does not exist.
    calendar = sundays((hm(1), hm(5)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 3, 29), at(STOCKHOLM, 2026, 3, 30)) == 3 * H
    # 01:00 CET + 1h30 = 01:30 UTC, read as 03:30 CEST (01:00-02:00, jump, 03:00-03:30).
    end = calendar.add(at(STOCKHOLM, 2026, 3, 29, 1), 90 * M)
    assert end == at(STOCKHOLM, 2026, 3, 29, 3, 30) == utc(2026, 3, 29, 1, 30)


def test_one_to_five_am_holds_five_hours_on_the_stockholm_fall_back_day() -> None:
    # 01:00 CEST = 10-24 23:00 UTC to 05:00 CET = 04:00 UTC: 02:00-03:00 happens twice.
    calendar = sundays((hm(1), hm(5)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 10, 25), at(STOCKHOLM, 2026, 10, 26)) == 5 * H
    # 01:00 CEST + 2h = 01:00 UTC, the second 02:00 (CET).
    end = calendar.add(at(STOCKHOLM, 2026, 10, 25, 1), 2 * H)
    assert end == at(STOCKHOLM, 2026, 10, 25, 2, fold=1) == utc(2026, 10, 25, 1)


def test_an_opening_at_half_past_two_in_the_stockholm_spring_gap_opens_at_three() -> None:
    # 02:30 does not exist on 03-29; the wall clock reads 02:30-05:00 from the jump (03:00 CEST
    # = 01:00 UTC) to 05:00 CEST (03:00 UTC): 2h.
    calendar = sundays((hm(2, 30), hm(5)), tz=STOCKHOLM)
    assert calendar.next_open(at(STOCKHOLM, 2026, 3, 29)) == utc(2026, 3, 29, 1)
    assert not calendar.is_open(utc(2026, 3, 29, 0, 59, 59))  # 01:59:59 CET
    assert calendar.between(at(STOCKHOLM, 2026, 3, 29), at(STOCKHOLM, 2026, 3, 30)) == 2 * H


def test_an_interval_wholly_inside_the_stockholm_spring_gap_never_opens_that_day() -> None:
    # 02:15-02:45 never shows on the wall clock on 03-29: 0s; the next opening is the following
    # Sunday, 04-05 02:15 CEST = 00:15 UTC.
    calendar = sundays((hm(2, 15), hm(2, 45)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 3, 29), at(STOCKHOLM, 2026, 3, 30)) == 0
    assert calendar.next_open(at(STOCKHOLM, 2026, 3, 29)) == utc(2026, 4, 5, 0, 15)


def test_two_to_three_am_counts_twice_on_the_stockholm_fall_back_day() -> None:
    # 02:00-03:00 CEST = 00:00-01:00 UTC, then 02:00-03:00 CET = 01:00-02:00 UTC: 2h.
    calendar = sundays((hm(2), hm(3)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 10, 25), at(STOCKHOLM, 2026, 10, 26)) == 2 * H
    assert calendar.next_close(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 2)


def test_an_interval_inside_the_repeated_stockholm_hour_opens_twice() -> None:
    # 02:15-02:45 is 00:15-00:45 UTC (CEST) and 01:15-01:45 UTC (CET): 1h in all.
    calendar = sundays((hm(2, 15), hm(2, 45)), tz=STOCKHOLM)
    assert calendar.between(at(STOCKHOLM, 2026, 10, 25), at(STOCKHOLM, 2026, 10, 26)) == H
    assert calendar.is_open(utc(2026, 10, 25, 0, 30))  # 02:30 CEST
    assert not calendar.is_open(utc(2026, 10, 25, 1))  # 02:00 CET
    assert calendar.is_open(utc(2026, 10, 25, 1, 30))  # 02:30 CET
    assert calendar.next_close(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 0, 45)
    assert calendar.next_open(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1, 15)


def test_thirty_minutes_fill_the_first_quarter_past_to_quarter_to_and_roll_to_the_second() -> None:
    # From Sunday midnight: the first 02:15-02:45 (CEST) holds the 30 min and ends on its close,
    # so the answer is the second 02:15 (CET) = 01:15 UTC; 45 min reach the second 02:30.
    calendar = sundays((hm(2, 15), hm(2, 45)), tz=STOCKHOLM)
    midnight = at(STOCKHOLM, 2026, 10, 25)
    assert calendar.add(midnight, 30 * M) == at(STOCKHOLM, 2026, 10, 25, 2, 15, fold=1)
    assert calendar.add(midnight, 45 * M) == at(STOCKHOLM, 2026, 10, 25, 2, 30, fold=1)
    # Back 30 min from the second 02:30: 15 min to the second 02:15, 15 min from the first 02:45.
    second_half_past = at(STOCKHOLM, 2026, 10, 25, 2, 30, fold=1)
    assert calendar.add(second_half_past, -30 * M) == at(STOCKHOLM, 2026, 10, 25, 2, 30, fold=0)


def test_two_hours_from_friday_four_pm_in_stockholm_end_at_ten_on_monday_after_spring_forward() -> (
    None
):
    # Fri 03-27 16:00-17:00 CET (1h), Mon 03-30 09:00 CEST + 1h = 10:00 CEST = 08:00 UTC.
    calendar = weekdays((hm(9), hm(17)), tz=STOCKHOLM)
    start = at(STOCKHOLM, 2026, 3, 27, 16)
    assert calendar.add(start, 2 * H) == at(STOCKHOLM, 2026, 3, 30, 10) == utc(2026, 3, 30, 8)
    assert calendar.between(start, at(STOCKHOLM, 2026, 3, 30, 10)) == 2 * H


# ------------------------------------------------------------------ DST in America/New_York


def test_a_whole_sunday_in_new_york_holds_twenty_three_hours_when_the_clocks_spring_forward() -> (
    None
):
    # 03-08 00:00 EST = 05:00 UTC to 03-09 00:00 EDT = 04:00 UTC.
    calendar = sundays((0, hm(24)), tz=NEW_YORK)
    assert calendar.between(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == 23 * H


def test_a_whole_sunday_in_new_york_holds_twenty_five_hours_when_the_clocks_fall_back() -> None:
    # 11-01 00:00 EDT = 04:00 UTC to 11-02 00:00 EST = 05:00 UTC.
    calendar = sundays((0, hm(24)), tz=NEW_YORK)
    assert calendar.between(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == 25 * H


def test_one_to_five_am_holds_three_hours_on_the_new_york_spring_forward_day() -> None:
    # 01:00 EST = 06:00 UTC to 05:00 EDT = 09:00 UTC.
    calendar = sundays((hm(1), hm(5)), tz=NEW_YORK)
    assert calendar.between(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == 3 * H
    # 01:00 EST + 1h30 = 07:30 UTC = 03:30 EDT.
    end = calendar.add(at(NEW_YORK, 2026, 3, 8, 1), 90 * M)
    assert end == at(NEW_YORK, 2026, 3, 8, 3, 30) == utc(2026, 3, 8, 7, 30)


def test_one_to_five_am_holds_five_hours_on_the_new_york_fall_back_day() -> None:
    # 01:00 EDT = 05:00 UTC to 05:00 EST = 10:00 UTC: 01:00-02:00 happens twice.
    calendar = sundays((hm(1), hm(5)), tz=NEW_YORK)
    assert calendar.between(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == 5 * H


def test_one_to_two_am_counts_twice_on_the_new_york_fall_back_day() -> None:
    # 01:00-02:00 EDT = 05:00-06:00 UTC, then 01:00-02:00 EST = 06:00-07:00 UTC.
    calendar = sundays((hm(1), hm(2)), tz=NEW_YORK)
    assert calendar.between(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == 2 * H
    assert calendar.is_open(at(NEW_YORK, 2026, 11, 1, 1, 30, fold=1))  # 06:30 UTC
    assert calendar.next_close(utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 1, 7)


def test_an_opening_at_half_past_two_in_the_new_york_spring_gap_opens_at_three() -> None:
    # 02:30-04:00 on 03-08: opens at the jump, 03:00 EDT = 07:00 UTC, closes 04:00 EDT = 08:00 UTC.
    calendar = sundays((hm(2, 30), hm(4)), tz=NEW_YORK)
    assert calendar.next_open(at(NEW_YORK, 2026, 3, 8)) == utc(2026, 3, 8, 7)
    assert calendar.between(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == H


# ---------------------------------------------- Australia/Lord_Howe: a half-hour DST shift


def test_a_whole_sunday_on_lord_howe_holds_twenty_four_and_a_half_hours_when_dst_ends() -> None:
    # 04-05 00:00 +11:00 = 04-04 13:00 UTC to 04-06 00:00 +10:30 = 04-05 13:30 UTC.
    calendar = sundays((0, hm(24)), tz=LORD_HOWE)
    assert calendar.between(at(LORD_HOWE, 2026, 4, 5), at(LORD_HOWE, 2026, 4, 6)) == 24 * H + 30 * M


def test_a_whole_sunday_on_lord_howe_holds_twenty_three_and_a_half_hours_when_dst_starts() -> None:
    # 10-04 00:00 +10:30 = 10-03 13:30 UTC to 10-05 00:00 +11:00 = 10-04 13:00 UTC.
    calendar = sundays((0, hm(24)), tz=LORD_HOWE)
    assert (
        calendar.between(at(LORD_HOWE, 2026, 10, 4), at(LORD_HOWE, 2026, 10, 5)) == 23 * H + 30 * M
    )


def test_one_to_three_am_on_lord_howe_holds_two_and_a_half_hours_when_dst_ends() -> None:
    # 01:00 +11 = 04-04 14:00 UTC to 03:00 +10:30 = 04-04 16:30 UTC (01:30-02:00 twice).
    calendar = sundays((hm(1), hm(3)), tz=LORD_HOWE)
    assert calendar.between(at(LORD_HOWE, 2026, 4, 5), at(LORD_HOWE, 2026, 4, 6)) == 2 * H + 30 * M


def test_one_to_three_am_on_lord_howe_holds_an_hour_and_a_half_when_dst_starts() -> None:
    # 01:00 +10:30 = 10-03 14:30 UTC to 03:00 +11 = 10-03 16:00 UTC (02:00-02:30 never shows).
    calendar = sundays((hm(1), hm(3)), tz=LORD_HOWE)
    assert calendar.between(at(LORD_HOWE, 2026, 10, 4), at(LORD_HOWE, 2026, 10, 5)) == 90 * M


def test_half_past_one_to_two_counts_twice_on_lord_howe_when_dst_ends() -> None:
    # 01:30-02:00 +11 = 04-04 14:30-15:00 UTC, then 01:30-02:00 +10:30 = 15:00-15:30 UTC.
    calendar = sundays((hm(1, 30), hm(2)), tz=LORD_HOWE)
    assert calendar.between(at(LORD_HOWE, 2026, 4, 5), at(LORD_HOWE, 2026, 4, 6)) == H
    assert calendar.next_close(utc(2026, 4, 4, 14, 45)) == utc(2026, 4, 4, 15, 30)


def test_an_opening_at_ten_past_two_in_the_lord_howe_gap_opens_at_half_past_two() -> None:
    # 02:10-03:00 on 10-04: the clock jumps 02:00 -> 02:30 (+11 from 10-03 15:30 UTC); open
    # from the jump to 03:00 +11 = 16:00 UTC: 30 min.
    calendar = sundays((hm(2, 10), hm(3)), tz=LORD_HOWE)
    assert calendar.next_open(at(LORD_HOWE, 2026, 10, 4)) == utc(2026, 10, 3, 15, 30)
    assert calendar.between(at(LORD_HOWE, 2026, 10, 4), at(LORD_HOWE, 2026, 10, 5)) == 30 * M


# ------------------------------------------------------------ Asia/Kathmandu, UTC+05:45


def test_a_nine_to_five_day_in_kathmandu_begins_at_a_quarter_past_three_utc() -> None:
    # 09:00 +05:45 = 03:15 UTC and 17:00 +05:45 = 11:15 UTC.
    calendar = weekdays((hm(9), hm(17)), tz=KATHMANDU)
    assert calendar.next_open(utc(2026, 3, 2)) == utc(2026, 3, 2, 3, 15)
    assert not calendar.is_open(utc(2026, 3, 2, 3, 14, 59))
    assert calendar.next_close(utc(2026, 3, 2, 4)) == utc(2026, 3, 2, 11, 15)
    # 00:00-06:00 UTC holds 03:15-06:00: 2h45m.
    assert calendar.between(utc(2026, 3, 2), utc(2026, 3, 2, 6)) == 2 * H + 45 * M
    # An hour from 00:00 UTC: opening 03:15 + 1h = 04:15 UTC.
    assert calendar.add(utc(2026, 3, 2), H) == utc(2026, 3, 2, 4, 15)


# ------------------------------------------------------------------------------- always open


def test_always_open_counts_real_elapsed_seconds_across_both_stockholm_clock_changes() -> None:
    calendar = Calendar.always_open(STOCKHOLM)
    # 03-01 to 07-01 local is 122 calendar days; the spring change takes an hour out.
    assert calendar.between(at(STOCKHOLM, 2026, 3, 1), at(STOCKHOLM, 2026, 7, 1)) == 122 * 86400 - H
    # 03-01 to 11-01 local is 245 days; the autumn change gives the hour back.
    assert calendar.between(at(STOCKHOLM, 2026, 3, 1), at(STOCKHOLM, 2026, 11, 1)) == 245 * 86400
    # A day of real time from Saturday noon CET is Sunday 13:00 CEST.
    assert calendar.add(at(STOCKHOLM, 2026, 3, 28, 12), 24 * H) == at(STOCKHOLM, 2026, 3, 29, 13)


@pytest.mark.parametrize("tz", ["UTC", STOCKHOLM, NEW_YORK, LORD_HOWE, KATHMANDU])
def test_always_open_agrees_with_plain_datetime_arithmetic(tz: str) -> None:
    calendar = Calendar.always_open(tz)
    start = utc(2026, 1, 1, 12)
    for seconds in (1, 3600, 86400 * 100, 86400 * 300 + 1234):
        end = start + timedelta(seconds=seconds)
        assert calendar.between(start, end) == seconds
        assert calendar.add(start, seconds) == end
        assert calendar.add(end, -seconds) == start


def test_a_year_of_always_open_holds_365_days_of_seconds() -> None:
    calendar = Calendar.always_open()
    assert calendar.between(utc(2026, 1, 1), utc(2027, 1, 1)) == 365 * 86400


# -------------------------------------------------------------------------- refused inputs


def test_naive_datetimes_are_rejected_with_value_error() -> None:
    naive = datetime(2026, 3, 2, 10)
    aware = utc(2026, 3, 2, 10)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.between(naive, aware)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.between(aware, naive)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.add(naive, H)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.is_open(naive)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.next_open(naive)
    with pytest.raises(ValueError, match="naive"):
        NINE_TO_FIVE.next_close(naive)


def test_instants_before_1970_are_rejected() -> None:
    before = utc(1969, 12, 31, 23, 59, 59)
    # 00:30 on 1970-01-01 in Stockholm (CET) is 1969-12-31 23:30 UTC: also before the range.
    local_before = datetime(1970, 1, 1, 0, 30, tzinfo=ZoneInfo(STOCKHOLM))
    for instant in (before, local_before):
        with pytest.raises(ValueError, match="1970"):
            NINE_TO_FIVE.between(instant, utc(1970, 1, 2))
        with pytest.raises(ValueError, match="1970"):
            NINE_TO_FIVE.add(instant, H)
        with pytest.raises(ValueError, match="1970"):
            NINE_TO_FIVE.is_open(instant)
        with pytest.raises(ValueError, match="1970"):
            NINE_TO_FIVE.next_close(instant)
    with pytest.raises(ValueError, match="1970"):
        NINE_TO_FIVE.between_many(np.array([-1]), np.array([86400]))
    with pytest.raises(ValueError, match="1970"):
        NINE_TO_FIVE.add_many(np.array([-1]), np.array([3600]))


def test_instants_after_2100_are_rejected() -> None:
    after = utc(2101, 1, 1)
    with pytest.raises(ValueError, match="2100"):
        NINE_TO_FIVE.between(utc(2100, 12, 1), after)
    with pytest.raises(ValueError, match="2100"):
        NINE_TO_FIVE.add(after, -H)
    with pytest.raises(ValueError, match="2100"):
        NINE_TO_FIVE.is_open(after)
    with pytest.raises(ValueError, match="2100"):
        NINE_TO_FIVE.next_open(after)
    with pytest.raises(ValueError, match="2100"):
        NINE_TO_FIVE.between_many(np.array([0]), np.array([epoch(after)]))


def test_the_first_week_of_1970_works() -> None:
    # 1970-01-01 was a Thursday: Thu, Fri, Mon, Tue, Wed to 1970-01-08 = 5 x 8h.
    assert NINE_TO_FIVE.between(utc(1970, 1, 1), utc(1970, 1, 8)) == 40 * H
    assert not NINE_TO_FIVE.is_open(utc(1970, 1, 1))
    assert NINE_TO_FIVE.next_open(utc(1970, 1, 1)) == utc(1970, 1, 1, 9)
    assert NINE_TO_FIVE.add(utc(1970, 1, 1), H) == utc(1970, 1, 1, 10)
    assert NINE_TO_FIVE.add(utc(1970, 1, 1, 10), -H) == utc(1970, 1, 1, 9)


def test_the_last_week_of_2100_works() -> None:
    # 2100-12-27 is a Monday, 2100-12-31 a Friday: 5 x 8h up to the last second of the range.
    assert NINE_TO_FIVE.between(utc(2100, 12, 27), utc(2100, 12, 31, 23, 59, 59)) == 40 * H
    assert NINE_TO_FIVE.add(utc(2100, 12, 31, 9), 4 * H) == utc(2100, 12, 31, 13)
    # Fri 16:00 back 8h: Fri 09-16 (7h), then Thu 17:00 -> 16:00 (1h).
    assert NINE_TO_FIVE.add(utc(2100, 12, 31, 16), -8 * H) == utc(2100, 12, 30, 16)
    assert NINE_TO_FIVE.next_close(utc(2100, 12, 31, 16)) == utc(2100, 12, 31, 17)
    assert Calendar.always_open().add(utc(2100, 12, 31, 22), H) == utc(2100, 12, 31, 23)


# Each of these would answer an instant outside 1970-01-01..2100-12-31 UTC, the range every other
# call refuses (``between(start, answer)`` could not even be asked back), so each is an error.
OUT_OF_RANGE_ANSWERS = [
    # Fri 2100-12-31 16:00 + 2h: 1h on Friday, the second hour would be on Mon 2101-01-03.
    pytest.param(
        lambda: NINE_TO_FIVE.add(utc(2100, 12, 31, 16), 2 * H), "2100", id="add into 2101"
    ),
    # After Friday's close the next opening would be Mon 2101-01-03 09:00.
    pytest.param(
        lambda: NINE_TO_FIVE.next_open(utc(2100, 12, 31, 17)), "2100", id="next_open in 2101"
    ),
    # 23:00 + 2h of real time is 2101-01-01 01:00.
    pytest.param(
        lambda: Calendar.always_open().add(utc(2100, 12, 31, 23), 2 * H),
        "2100",
        id="always_open add into 2101",
    ),
    pytest.param(
        lambda: NINE_TO_FIVE.add_many(np.array([epoch(utc(2100, 12, 31, 16))]), np.array([2 * H])),
        "2100",
        id="add_many into 2101",
    ),
    # Thu 1970-01-01 10:00 - 2h: 1h back to 09:00, the second hour would be on Wed 1969-12-31.
    pytest.param(
        lambda: NINE_TO_FIVE.add(utc(1970, 1, 1, 10), -2 * H), "1970", id="add back into 1969"
    ),
    # 01:00 - 2h of real time is 1969-12-31 23:00.
    pytest.param(
        lambda: Calendar.always_open().add(utc(1970, 1, 1, 1), -2 * H),
        "1970",
        id="always_open add back into 1969",
    ),
    pytest.param(
        lambda: NINE_TO_FIVE.add_many(np.array([epoch(utc(1970, 1, 1, 10))]), np.array([-2 * H])),
        "1970",
        id="add_many back into 1969",
    ),
]


def answer_or_complain(call: Callable[[], object]) -> None:
    """Make the call; if it answers instead of raising, fail with the answer it gave."""
    answer = call()
    raise AssertionError(f"answered {answer!r} instead of refusing")


@pytest.mark.parametrize(("call", "year"), OUT_OF_RANGE_ANSWERS)
def test_business_time_that_would_end_outside_1970_to_2100_is_an_error_not_an_answer(
    call: Callable[[], object], year: str
) -> None:
    with pytest.raises(ValueError, match=year):
        answer_or_complain(call)


def test_a_calendar_with_no_hours_at_all_has_no_answer_for_add() -> None:
    never = Calendar(timezone="UTC", week=((), (), (), (), (), (), ()), name="never")
    assert never.between(utc(2026, 1, 1), utc(2027, 1, 1)) == 0
    assert not never.is_open(utc(2026, 3, 2, 10))
    with pytest.raises(ValueError, match="no business time"):
        never.add(utc(2026, 3, 2, 10), H)
    with pytest.raises(ValueError, match="no business time"):
        never.next_open(utc(2026, 3, 2, 10))


# ---------------------------------------------------------------------- vectorized answers


def test_the_vectorized_calls_give_the_worked_answers_on_a_dst_day() -> None:
    # The Stockholm 01:00-05:00 Sunday of the spring change, as epoch seconds: 3h in the day;
    # 01:00 CET (00:00 UTC) + 90 min = 01:30 UTC.
    calendar = sundays((hm(1), hm(5)), tz=STOCKHOLM)
    day = epoch(at(STOCKHOLM, 2026, 3, 29))
    next_day = epoch(at(STOCKHOLM, 2026, 3, 30))
    one_am = epoch(utc(2026, 3, 29))
    assert calendar.between_many(np.array([day]), np.array([next_day])).tolist() == [3 * H]
    ints = calendar.add_many(np.array([one_am]), np.array([90 * M]))
    assert ints.dtype == np.int64
    assert ints.tolist() == [one_am + 90 * M]
    floats = calendar.add_many(np.array([float(one_am)]), np.array([90 * M]))
    assert floats.dtype == np.float64
    assert floats.tolist() == [one_am + 90.0 * M]
