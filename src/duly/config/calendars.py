"""Calendar specs (the YAML mapping) into core calendars.

This is the edge where loose user input becomes a frozen ``duly.core.calendar.Calendar``: every
problem is collected with the dotted path of its field, and a country's public holidays are
expanded into explicit dates here, with the ``holidays`` package, so the core stays pure and a
saved config keeps the holiday dates it was written with.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg

from duly.config.errors import ConfigError, Problem
from duly.core.calendar import MAX_YEAR, MIN_YEAR, WEEKDAYS, Calendar, Hours

__all__ = ["ALWAYS_OPEN", "calendar_from_spec"]

ALWAYS_OPEN: Final = "24x7"
_KEYS: Final = {"timezone", "week", "holidays", "exceptions", "name", "description"}
_HOLIDAY_KEYS: Final = {"country", "subdivision", "categories", "dates", "exclude"}
_CLOCK: Final = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_ALIASES: Final = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def calendar_from_spec(spec: Any, name: str = "", field: str = "") -> Calendar:
    """Read a calendar spec: ``"24x7"`` or a mapping of timezone, week, holidays, exceptions.

    ``field`` prefixes every problem's path, so a calendar inside a bigger config reports
    ``calendars.support.week.mon[1]`` rather than ``week.mon[1]``.
    """
    problems: list[Problem] = []

    def at(path: str) -> str:
        return f"{field}.{path}" if field else path

    if spec == ALWAYS_OPEN:
        return Calendar.always_open(name=name or ALWAYS_OPEN)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            Problem(field or "calendar", f"must be a mapping or '{ALWAYS_OPEN}', got {spec!r}")
        )
    for key in spec:
        if key not in _KEYS:
            problems.append(
                Problem(at(str(key)), f"unknown key; expected one of {', '.join(sorted(_KEYS))}")
            )

    tz_name = spec.get("timezone")
    if tz_name is None:
        problems.append(Problem(at("timezone"), "is required (an IANA zone like Europe/Stockholm)"))
    elif not _known_zone(tz_name):
        problems.append(Problem(at("timezone"), f"unknown time zone {tz_name!r}"))

    week = _read_week(spec.get("week"), at("week"), problems)
    holiday_dates = _read_holidays(spec.get("holidays"), at("holidays"), problems)
    exceptions = _read_exceptions(spec.get("exceptions"), at("exceptions"), problems)

    if problems:
        raise ConfigError(problems)
    try:
        return Calendar(
            timezone=str(tz_name),
            week=week,
            holidays=frozenset(holiday_dates),
            exceptions=exceptions,
            name=str(spec.get("name") or name),
        )
    except ValueError as exc:  # what the per-day checks above cannot see (e.g. across days)
        raise ConfigError(Problem(at("week"), str(exc))) from exc


def _known_zone(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _read_week(
    raw: Any, field: str, problems: list[Problem]
) -> tuple[Hours, Hours, Hours, Hours, Hours, Hours, Hours]:
    days: list[Hours] = [() for _ in WEEKDAYS]
    if raw is None:
        problems.append(Problem(field, "is required: the working hours of each weekday"))
    elif raw == ALWAYS_OPEN:
        days = [((0, 1440),) for _ in WEEKDAYS]
    elif not isinstance(raw, Mapping):
        problems.append(Problem(field, f"must map weekdays (mon..sun) to hours, got {raw!r}"))
    else:
        for key, value in raw.items():
            day = _DAY_ALIASES.get(str(key).lower(), str(key).lower())
            if day not in WEEKDAYS:
                problems.append(
                    Problem(
                        f"{field}.{key}", "unknown weekday; use mon, tue, wed, thu, fri, sat, sun"
                    )
                )
                continue
            days[WEEKDAYS.index(day)] = _read_hours(value, f"{field}.{key}", problems)
    return (days[0], days[1], days[2], days[3], days[4], days[5], days[6])


def _read_hours(raw: Any, field: str, problems: list[Problem]) -> Hours:
    """``["08:00-12:00", "13:00-17:00"]`` -> minute pairs; ``22:00-06:00`` runs past midnight."""
    if raw is None or raw == "closed":
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence):
        problems.append(Problem(field, f"must be a list of 'HH:MM-HH:MM' intervals, got {raw!r}"))
        return ()
    pairs: list[tuple[int, int, str]] = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, str) or item.count("-") != 1:
            problems.append(Problem(where, f"must be an interval like '08:00-17:00', got {item!r}"))
            continue
        left, right = (part.strip() for part in item.split("-"))
        start = _read_clock(left, where, problems, allow_end=False)
        end = _read_clock(right, where, problems, allow_end=True)
        if start is None or end is None:
            continue
        if end == start:
            problems.append(Problem(where, f"interval {item!r} has zero length"))
            continue
        if end < start:
            end += 1440  # runs past midnight; belongs to the day it opens on
        pairs.append((start, end, item))
    pairs.sort()
    for (_, end_a, text_a), (start_b, _, text_b) in itertools.pairwise(pairs):
        if start_b < end_a:
            problems.append(Problem(field, f"intervals {text_a!r} and {text_b!r} overlap"))
    return tuple((s, e) for s, e, _ in pairs)


def _read_clock(text: str, field: str, problems: list[Problem], allow_end: bool) -> int | None:
    match = _CLOCK.match(text)
    if not match:
        problems.append(Problem(field, f"{text!r} is not a time of day in HH:MM"))
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        problems.append(Problem(field, f"{text!r} is not a time of day in HH:MM"))
        return None
    if hours == 24 and not allow_end:
        problems.append(Problem(field, "'24:00' can only end an interval"))
        return None
    return hours * 60 + minutes


def _read_date(raw: Any, field: str, problems: list[Problem]) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        problems.append(Problem(field, f"{raw!r} is not a date in YYYY-MM-DD"))
        return None


def _read_holidays(raw: Any, field: str, problems: list[Problem]) -> set[date]:
    if raw is None:
        return set()
    if isinstance(raw, list):  # a bare list of dates
        raw = {"dates": raw}
    if not isinstance(raw, Mapping):
        problems.append(Problem(field, f"must be a mapping (country, dates, ...), got {raw!r}"))
        return set()
    for key in raw:
        if key not in _HOLIDAY_KEYS:
            problems.append(
                Problem(
                    f"{field}.{key}",
                    f"unknown key; expected one of {', '.join(sorted(_HOLIDAY_KEYS))}",
                )
            )
    result: set[date] = set()
    country = raw.get("country")
    if country is not None:
        result |= _country_dates(
            country, raw.get("subdivision"), raw.get("categories"), field, problems
        )
    for i, item in enumerate(raw.get("dates") or []):
        day = _read_date(item, f"{field}.dates[{i}]", problems)
        if day is not None:
            result.add(day)
    for i, item in enumerate(raw.get("exclude") or []):
        day = _read_date(item, f"{field}.exclude[{i}]", problems)
        if day is not None:
            result.discard(day)
    return result


def _country_dates(
    country: Any, subdivision: Any, categories: Any, field: str, problems: list[Problem]
) -> set[date]:
    if (
        not isinstance(country, str)
        or country.upper() not in holidays_pkg.list_supported_countries()
    ):
        problems.append(Problem(f"{field}.country", f"unknown country code {country!r}"))
        return set()
    if categories is not None and (
        not isinstance(categories, list) or not all(isinstance(c, str) for c in categories)
    ):
        problems.append(Problem(f"{field}.categories", "must be a list of category names"))
        return set()
    cats = tuple(categories) if categories else None
    try:
        return set(_expand_country(country.upper(), subdivision, cats))
    except NotImplementedError:
        problems.append(
            Problem(f"{field}.subdivision", f"{country} has no subdivision {subdivision!r}")
        )
    except ValueError as exc:
        problems.append(Problem(f"{field}.categories", str(exc)))
    return set()


@lru_cache(maxsize=64)
def _expand_country(
    country: str, subdivision: str | None, categories: tuple[str, ...] | None
) -> frozenset[date]:
    """Every holiday of the country over the years the calendar engine supports."""
    kwargs: dict[str, Any] = {"years": range(MIN_YEAR - 1, MAX_YEAR + 2)}
    if subdivision:
        kwargs["subdiv"] = subdivision
    if categories:
        kwargs["categories"] = categories
    return frozenset(holidays_pkg.country_holidays(country, **kwargs))


def _read_exceptions(raw: Any, field: str, problems: list[Problem]) -> dict[date, Hours]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        problems.append(Problem(field, "must be a list of {date, hours}"))
        return {}
    result: dict[date, Hours] = {}
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping) or "date" not in item or "hours" not in item:
            problems.append(Problem(where, "must be a mapping with 'date' and 'hours'"))
            continue
        day = _read_date(item["date"], f"{where}.date", problems)
        hours = _read_hours(item["hours"], f"{where}.hours", problems)
        if day is None:
            continue
        if day in result:
            problems.append(Problem(f"{where}.date", f"{day} has two exceptions"))
        result[day] = hours
    return result
