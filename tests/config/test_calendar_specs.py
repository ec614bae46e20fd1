"""Calendar specs: what the YAML says becomes the calendar a user meant, or a clear error."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from duly.config import ConfigError, calendar_from_spec

STOCKHOLM = ZoneInfo("Europe/Stockholm")

ISSUE_EXAMPLE = {
    "timezone": "Europe/Stockholm",
    "week": {
        "mon": ["08:00-12:00", "13:00-17:00"],
        "tue": ["08:00-12:00", "13:00-17:00"],
        "fri": ["08:00-15:00"],
        "sat": ["22:00-06:00"],
    },
    "holidays": {
        "country": "SE",
        "subdivision": None,
        "categories": ["public", "de_facto"],
        "dates": ["2026-12-24"],
        "exclude": ["2026-01-06"],
    },
    "exceptions": [
        {"date": "2026-12-31", "hours": ["08:00-12:00"]},
        {"date": "2026-06-19", "hours": []},
    ],
}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def test_the_issue_example_reads_into_the_weekly_minutes_it_describes():
    cal = calendar_from_spec(ISSUE_EXAMPLE)
    assert cal.timezone == "Europe/Stockholm"
    assert cal.week[0] == ((480, 720), (780, 1020))
    assert cal.week[2] == ()  # wednesday is missing, so closed
    assert cal.week[5] == ((1320, 1800),)  # 22:00 to 06:00 the next morning


def test_country_holidays_are_expanded_into_dates_with_the_chosen_categories():
    cal = calendar_from_spec(ISSUE_EXAMPLE)
    assert date(2026, 6, 19) in cal.holidays  # Midsummer Eve is 'de_facto' in Sweden
    assert date(2026, 12, 25) in cal.holidays  # Christmas Day is 'public'
    assert date(2030, 12, 25) in cal.holidays  # years are expanded far ahead


def test_public_only_leaves_swedish_de_facto_holidays_as_working_days():
    spec = {**ISSUE_EXAMPLE, "holidays": {"country": "SE", "categories": ["public"]}}
    cal = calendar_from_spec(spec)
    assert date(2026, 6, 19) not in cal.holidays
    assert date(2026, 6, 20) in cal.holidays  # Midsummer Day is public


def test_excluded_country_holidays_are_worked_and_extra_dates_are_closed():
    cal = calendar_from_spec(ISSUE_EXAMPLE)
    assert date(2026, 1, 6) not in cal.holidays  # Epiphany excluded
    assert date(2026, 12, 24) in cal.holidays
    # Tuesday 2026-01-06 is therefore a normal Tuesday: 8 business hours.
    assert cal.between(at(2026, 1, 6, 0, 0), at(2026, 1, 7, 0, 0)) == 8 * 3600


def test_an_exception_replaces_the_weekly_hours_of_its_date():
    cal = calendar_from_spec(ISSUE_EXAMPLE)
    # New Year's Eve 2026 is a Thursday (closed weekly, and a de facto holiday), but the exception
    # opens it 08:00-12:00: 4 hours.
    assert cal.between(at(2026, 12, 31, 0, 0), at(2027, 1, 1, 0, 0)) == 4 * 3600


def test_24x7_is_the_calendar_that_is_always_open():
    cal = calendar_from_spec("24x7")
    assert cal.between(at(2026, 3, 28, 12, 0), at(2026, 3, 29, 12, 0)) == 23 * 3600


def test_24x7_as_a_week_keeps_its_zone_and_holidays():
    cal = calendar_from_spec(
        {"timezone": "Europe/Stockholm", "week": "24x7", "holidays": ["2026-12-25"]}
    )
    assert cal.between(at(2026, 12, 24, 0, 0), at(2026, 12, 27, 0, 0)) == 2 * 86400


def test_whole_day_and_the_end_of_day_written_24_00():
    cal = calendar_from_spec(
        {"timezone": "UTC", "week": {"mon": ["00:00-24:00"], "tue": ["18:00-24:00"]}}
    )
    assert cal.week[0] == ((0, 1440),)
    assert cal.week[1] == ((1080, 1440),)


def problems_of(spec: object) -> str:
    with pytest.raises(ConfigError) as caught:
        calendar_from_spec(spec, field="calendars.support")
    return str(caught.value)


@pytest.mark.parametrize(
    ("spec", "field", "reason"),
    [
        (
            {"timezone": "Europe/Stokholm", "week": {}},
            "calendars.support.timezone",
            "unknown time zone 'Europe/Stokholm'",
        ),
        ({"week": {}}, "calendars.support.timezone", "is required"),
        (
            {"timezone": "UTC", "week": {"mon": ["8:00-25:00"]}},
            "calendars.support.week.mon[0]",
            "'25:00' is not a time of day in HH:MM",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["08:60-12:00"]}},
            "calendars.support.week.mon[0]",
            "'08:60' is not a time of day",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["08:00 to 12:00"]}},
            "calendars.support.week.mon[0]",
            "must be an interval like '08:00-17:00'",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["08:00-12:00", "11:00-14:00"]}},
            "calendars.support.week.mon",
            "intervals '08:00-12:00' and '11:00-14:00' overlap",
        ),
        (
            {"timezone": "UTC", "week": {"funday": ["08:00-12:00"]}},
            "calendars.support.week.funday",
            "unknown weekday",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["08:00-08:00"]}},
            "calendars.support.week.mon[0]",
            "zero length",
        ),
        (
            {"timezone": "UTC", "week": {"mon": ["24:00-08:00"]}},
            "calendars.support.week.mon[0]",
            "'24:00' can only end an interval",
        ),
        (
            {"timezone": "UTC", "week": {}, "holidays": {"country": "XX"}},
            "calendars.support.holidays.country",
            "unknown country code 'XX'",
        ),
        (
            {"timezone": "UTC", "week": {}, "holidays": {"country": "US", "subdivision": "ZZ"}},
            "calendars.support.holidays.subdivision",
            "US has no subdivision 'ZZ'",
        ),
        (
            {"timezone": "UTC", "week": {}, "holidays": {"country": "SE", "categories": ["x"]}},
            "calendars.support.holidays.categories",
            "Category is not supported: x",
        ),
        (
            {"timezone": "UTC", "week": {}, "holidays": {"dates": ["2026-13-01"]}},
            "calendars.support.holidays.dates[0]",
            "'2026-13-01' is not a date in YYYY-MM-DD",
        ),
        (
            {"timezone": "UTC", "week": {}, "exceptions": [{"date": "2026-01-01"}]},
            "calendars.support.exceptions[0]",
            "must be a mapping with 'date' and 'hours'",
        ),
        (
            {"timezone": "UTC", "week": {}, "colour": "blue"},
            "calendars.support.colour",
            "unknown key",
        ),
        (
            {"timezone": "UTC", "week": {"sat": ["22:00-06:00"], "sun": ["05:00-09:00"]}},
            "calendars.support.week",
            "sat: an interval past midnight overlaps sun",
        ),
        ("always", "calendars.support", "must be a mapping or '24x7'"),
    ],
)
def test_an_invalid_spec_is_refused_naming_the_field_and_the_reason(spec, field, reason):
    message = problems_of(spec)
    assert f"{field}: " in message
    assert reason in message


def test_every_problem_of_a_spec_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        calendar_from_spec(
            {"timezone": "Mars/Olympus", "week": {"mon": ["9am to 5pm"], "xyz": []}},
        )
    fields = [p.field for p in caught.value.problems]
    assert fields == ["timezone", "week.mon[0]", "week.xyz"]
