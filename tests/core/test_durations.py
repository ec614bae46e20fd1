"""Durations: the ways people write SLA targets all mean the seconds they say."""

import pytest

from duly.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("8h", 8 * 3600),
        ("8h30m", 8 * 3600 + 30 * 60),
        ("1d 2h", 26 * 3600),
        ("2w", 14 * 86400),
        ("45m", 2700),
        ("90s", 90),
        ("1.5h", 5400),
        ("PT8H30M", 30600),
        ("P1DT2H", 93600),
        ("P2W", 14 * 86400),
        ("3600", 3600),
        (120, 120),
    ],
)
def test_a_written_duration_means_the_seconds_it_says(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "8x", "h8", "8h8h", "PT", "P", "-1h", "eight hours", -5])
def test_an_unreadable_or_negative_duration_is_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (30600, "8h 30m"), (93784, "1d 2h 3m 4s"), (-5400, "-1h 30m"), (59.6, "1m")],
)
def test_durations_print_in_days_hours_minutes_and_seconds(seconds, text):
    assert format_duration(seconds) == text
