"""Peer cases: duly's calendar engine against the expectations of other projects' test suites.

Every line of every JSON Lines file under ``tests/vectors/`` (see its README for the schema and the
sources) is one test, checked through the scalar API and through the vectorized API. Where a
source's convention differs from duly's, an adapter below, named after the source, converts the
source's expectation into duly's convention; the difference is stated in its docstring and the
converted value is computed from the case's own week table (``Timetable``), never by the engine
under test. A source without an adapter, or an ``extra`` field nobody has looked at, fails.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from duly.core.calendar import WEEKDAYS, Calendar

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

#: Every ``calendar.extra`` field the sources use, and what this module does about it.
KNOWN_EXTRA = {
    "lib": "provenance only",
    "rules": "provenance only (the source's own calendar definition, already in `week`)",
    "config": "provenance only (the source's own calendar definition, already in `week`)",
    "calendar": "provenance only (the source's own calendar definition, already in `week`)",
    "pandas_offset": "provenance only (n and hours are already in duration_s and `week`)",
    "weekmask": "provenance only (already in `week`)",
    "bh_intervals": "provenance only (already in `week`)",
    "naive_datetimes": "the recorder already gave the naive instants the calendar's zone (UTC)",
    "tz_note": "the recorder already chose TZ=UTC",
    "holidays_source": "the recorder already expanded the holidays into `holidays`",
    "holidays_note": "the recorder already expanded the holidays into `holidays`",
    "holiday_calendar": "the recorder already expanded the holidays into `holidays`",
    "holiday_semantics": "same as duly: a holiday closes the intervals opening on that date",
    "midnight_spanning": "load_week joins the halves split at midnight again",
    "overnight": "load_week joins the halves split at midnight again",
    "result_unit": "the recorder already converted business days to seconds",
    "reverse": "same as duly: a reversed span is negative",
    "endpoint_rule": "adapt_businesstimedelta",
    "end_inclusive": "adapt_business_hours",
}


@dataclass(frozen=True)
class Case:
    """One line of a vectors file, inputs parsed; ``adapted`` says what an adapter changed."""

    path: str
    line: int
    source: str
    kind: str
    calendar: dict[str, Any]
    start: datetime
    end: datetime | None
    seconds: int
    expected: datetime | float
    note: str
    adapted: str = ""

    @property
    def repo(self) -> str:
        return self.source.split()[0]

    def __str__(self) -> str:
        text = f"{self.path}:{self.line} ({self.note})"
        return f"{text}; adapted: {self.adapted}" if self.adapted else text


def load_cases() -> list[Case]:
    cases = []
    for file in sorted(VECTORS.rglob("*.jsonl")):
        rel = file.relative_to(VECTORS).as_posix()
        for number, text in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            raw = json.loads(text)  # a blank or broken line fails collection: nothing is skipped
            kind = raw["kind"]
            if kind not in ("add", "between"):
                raise ValueError(f"{rel}:{number}: unknown kind {kind!r}")
            cases.append(
                Case(
                    path=rel,
                    line=number,
                    source=raw["source"],
                    kind=kind,
                    calendar=raw["calendar"],
                    start=datetime.fromisoformat(raw["start"]),
                    end=datetime.fromisoformat(raw["end"]) if kind == "between" else None,
                    seconds=raw["duration_s"],
                    expected=(
                        datetime.fromisoformat(raw["expected"])
                        if kind == "add"
                        else float(raw["expected"])
                    ),
                    note=raw["note"],
                )
            )
    return cases


CASES = load_cases()


def case_id(case: Case) -> str:
    return f"{case.path}:{case.line} {case.note}"


PARAMS = [pytest.param(case, id=case_id(case)) for case in CASES]


# --------------------------------------------------------------------------- the week table


def minutes(text: str) -> int:
    """``"HH:MM"`` as minutes after midnight; ``"24:00"`` is 1440."""
    hours, mins = text.split(":")
    value = int(hours) * 60 + int(mins)
    if not 0 <= value <= 1440 or not 0 <= int(mins) < 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


def load_week(week: dict[str, list[list[str]]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The seven days, Monday first, as ``(start, end)`` minutes.

    The vectors record an interval that runs past midnight split in two (``22:00-24:00`` on the day
    it opens, ``00:00-03:00`` on the next). It is joined again here into ``(1320, 1620)`` on the
    opening day, which is how duly states it and what makes a holiday on either date act like the
    vectors README says (the interval belongs to the day it opens on). Halves that would make an
    interval longer than a day (``00:00-24:00`` followed by ``00:00-...``) are whole days, left be.
    """
    if sorted(week) != sorted(WEEKDAYS):
        raise ValueError(f"week needs exactly {WEEKDAYS}, got {sorted(week)}")
    days = [sorted((minutes(a), minutes(b)) for a, b in week[name]) for name in WEEKDAYS]
    for i in range(7):
        today, tomorrow = days[i], days[(i + 1) % 7]
        if today and today[-1][1] == 1440 and tomorrow and tomorrow[0][0] == 0:
            start = today[-1][0]
            spill = tomorrow[0][1]
            if start > 0 and spill <= start:
                today[-1] = (start, 1440 + spill)
                del tomorrow[0]
    return tuple(tuple(day) for day in days)


def build_calendar(spec: dict[str, Any]) -> Calendar:
    week = load_week(spec["week"])
    return Calendar(
        timezone=spec["tz"],
        week=(week[0], week[1], week[2], week[3], week[4], week[5], week[6]),
        holidays=frozenset(date.fromisoformat(d) for d in spec["holidays"]),
        name="peer case",
    )


@dataclass(frozen=True)
class Timetable:
    """The case's week table as UTC intervals by plain date arithmetic: the adapters' reference.

    Deliberately naive: it refuses any boundary that falls in a DST gap or fold rather than guess,
    and the adapters only need it for the UTC calendars of the cases they convert.
    """

    zone: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Timetable:
        return cls(
            zone=ZoneInfo(spec["tz"]),
            week=load_week(spec["week"]),
            holidays=frozenset(date.fromisoformat(d) for d in spec["holidays"]),
        )

    def _instant(self, day: date, minute: int) -> datetime:
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        earlier = wall.replace(tzinfo=self.zone, fold=0)
        later = wall.replace(tzinfo=self.zone, fold=1)
        if earlier.utcoffset() != later.utcoffset():
            raise AssertionError(f"{wall} is in a DST gap or fold; the reference does not model it")
        return earlier.astimezone(UTC)

    def intervals(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """Open intervals (merged where they touch) of the local dates around ``[lo, hi]``."""
        day = lo.astimezone(self.zone).date() - timedelta(days=2)
        last = hi.astimezone(self.zone).date() + timedelta(days=1)
        spans: list[tuple[datetime, datetime]] = []
        while day <= last:
            if day not in self.holidays:
                for first_minute, last_minute in self.week[day.weekday()]:
                    spans.append(
                        (self._instant(day, first_minute), self._instant(day, last_minute))
                    )
            day += timedelta(days=1)
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def between(self, a: datetime, b: datetime) -> float:
        lo, hi = min(a, b), max(a, b)
        total = sum(
            (min(end, hi) - max(start, lo)).total_seconds()
            for start, end in self.intervals(lo, hi)
            if start < hi and end > lo
        )
        return total if a <= b else -total

    def is_closing_time(self, t: datetime) -> bool:
        return any(end == t for _, end in self.intervals(t, t))

    def next_opening_after(self, t: datetime) -> datetime:
        for weeks in range(1, 54):
            opens = [s for s, _ in self.intervals(t, t + timedelta(weeks=weeks)) if s >= t]
            if opens:
                return min(opens)
        raise AssertionError(f"no opening within a year after {t}")


# -------------------------------------------------------------------------------- adapters


def agrees(case: Case) -> Case:
    """pandas and seatgeek businesstime: same conventions as duly (see the vectors README).

    pandas rolls a forward result on a closing time to the next opening and steps back to the
    opening itself (10:00 - 1h = 09:00); businesstime gives a reversed span the negative sign and
    its 8-hour business days were converted to seconds when the vectors were recorded.
    """
    return case


def adapt_businesstimedelta(case: Case) -> Case:
    """businesstimedelta: a forward add landing exactly on a closing time stays at that time.

    ``09:00 + 8h`` on a 09-17 day is ``17:00`` there; duly's ``add`` is the latest instant with
    that much business time after the start, and no business time passes between 17:00 and the
    next opening, so duly answers the next opening. When the expected instant is a closing time of
    the case's week table, duly's expectation is the next opening after it, found in that table.
    Backward (``dt - delta``) and ``difference`` agree with duly and are left as they are.
    """
    if case.kind != "add" or case.seconds <= 0:
        return case
    assert isinstance(case.expected, datetime)
    table = Timetable.of(case.calendar)
    if not table.is_closing_time(case.expected):
        return case
    rolled = table.next_opening_after(case.expected)
    return dataclasses.replace(
        case,
        expected=rolled,
        adapted=f"businesstimedelta stays at the closing time {case.expected.isoformat()}, "
        f"duly rolls to the next opening {rolled.isoformat()}",
    )


def adapt_glpi(case: Case) -> Case:
    """GLPI: the active time of a reversed span (end before start) is 0.

    duly's ``between(a, b)`` is ``-between(b, a)``, so a reversed span gives the negative of the
    forward span, computed here from the case's week table. Forward spans agree.
    """
    assert case.end is not None
    if case.kind != "between" or case.end >= case.start:
        return case
    assert case.expected == 0, "GLPI's convention for a reversed span is 0"
    forward = Timetable.of(case.calendar).between(case.end, case.start)
    return dataclasses.replace(
        case,
        expected=-forward,
        adapted=f"GLPI gives 0 for a reversed span, duly gives -{forward:g}",
    )


def adapt_business_hours(case: Case) -> Case:
    """Business::Hours: a span's End second is included (``between(0, 86400*7-1)`` is a week).

    duly counts the half-open ``[start, end)``, so the same span ends one second later in duly.
    The ``extra.end_inclusive`` field marks the cases recorded with the inclusive end.
    """
    if "end_inclusive" not in case.calendar["extra"]:
        return case
    assert case.kind == "between"
    assert case.end is not None
    end = case.end + timedelta(seconds=1)
    return dataclasses.replace(
        case,
        end=end,
        adapted=f"Business::Hours' end is inclusive: duly's half-open span ends at {end}",
    )


ADAPTERS: dict[str, Callable[[Case], Case]] = {
    "pandas-dev/pandas": agrees,
    "seatgeek/businesstime": agrees,
    "seppemans/businesstimedelta": adapt_businesstimedelta,
    "glpi-project/glpi": adapt_glpi,
    "bestpractical/business-hours": adapt_business_hours,
}


def in_duly_convention(case: Case) -> Case:
    if case.repo not in ADAPTERS:
        raise AssertionError(f"{case}: no adapter decides how {case.repo!r} compares with duly")
    return ADAPTERS[case.repo](case)


def epoch(t: datetime) -> int:
    seconds, rest = divmod(t - datetime(1970, 1, 1, tzinfo=UTC), timedelta(seconds=1))
    assert not rest, f"{t} is not a whole second"
    return seconds


# ---------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", PARAMS)
def test_peer_case(case: Case) -> None:
    c = in_duly_convention(case)
    calendar = build_calendar(c.calendar)
    if c.kind == "add":
        got = calendar.add(c.start, c.seconds)
        assert got == c.expected, str(c)
        assert got.tzinfo is UTC
        # The definition of add: exactly that much business time lies between start and result.
        assert calendar.between(c.start, got) == c.seconds, str(c)
    else:
        assert c.end is not None
        assert calendar.between(c.start, c.end) == c.expected, str(c)


@pytest.mark.parametrize("case", PARAMS)
def test_peer_case_vectorized(case: Case) -> None:
    c = in_duly_convention(case)
    calendar = build_calendar(c.calendar)
    starts = np.array([epoch(c.start)], dtype=np.int64)
    if c.kind == "add":
        assert isinstance(c.expected, datetime)
        got = calendar.add_many(starts, np.array([c.seconds], dtype=np.int64))
        assert got.dtype == np.int64
        assert got.tolist() == [epoch(c.expected)], str(c)
    else:
        assert c.end is not None
        ends = np.array([epoch(c.end)], dtype=np.int64)
        assert calendar.between_many(starts, ends).tolist() == [c.expected], str(c)


def _calendar_key(case: Case) -> str:
    spec = case.calendar
    return json.dumps([spec["tz"], load_week(spec["week"]), sorted(spec["holidays"])])


def _groups() -> list[Any]:
    groups: dict[str, list[Case]] = {}
    for case in CASES:
        groups.setdefault(_calendar_key(case), []).append(in_duly_convention(case))
    params = []
    for number, cases in enumerate(groups.values(), start=1):
        files = sorted({c.path for c in cases})
        params.append(
            pytest.param(
                cases, id=f"calendar {number}: {len(cases)} case(s) from {', '.join(files)}"
            )
        )
    return params


@pytest.mark.parametrize("cases", _groups())
def test_peer_cases_in_one_batch_per_calendar(cases: list[Case]) -> None:
    """All cases of one calendar in one vectorized call, forward and backward mixed."""
    calendar = build_calendar(cases[0].calendar)
    adds = [c for c in cases if c.kind == "add"]
    spans = [c for c in cases if c.kind == "between"]
    if adds:
        got = calendar.add_many(
            np.array([epoch(c.start) for c in adds], dtype=np.int64),
            np.array([c.seconds for c in adds], dtype=np.int64),
        )
        assert got.dtype == np.int64
        want = [epoch(c.expected) for c in adds if isinstance(c.expected, datetime)]
        wrong = [str(c) for c, g, w in zip(adds, got.tolist(), want, strict=True) if g != w]
        assert not wrong
    if spans:
        got_spans = calendar.between_many(
            np.array([epoch(c.start) for c in spans], dtype=np.int64),
            np.array([epoch(c.end) for c in spans if c.end is not None], dtype=np.int64),
        )
        wrong = [str(c) for c, g in zip(spans, got_spans.tolist(), strict=True) if g != c.expected]
        assert not wrong


def test_every_line_of_every_vectors_file_is_a_case() -> None:
    """The copy is complete: the README's table of case counts matches the files, line for line."""
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    table = {
        name: int(count)
        for name, count in re.findall(r"^\| `([^`]+\.jsonl)` \|.*\| (\d+) \|$", readme, re.M)
    }
    found = {}
    for file in VECTORS.rglob("*.jsonl"):
        lines = file.read_text(encoding="utf-8").splitlines()
        assert all(line.strip() for line in lines), f"{file.name} has a blank line"
        found[file.relative_to(VECTORS).as_posix()] = len(lines)
    assert found == table
    assert len(CASES) == sum(table.values()) == 353


def test_every_extra_field_is_accounted_for() -> None:
    """A source detail nobody has decided about must not pass unnoticed."""
    unknown = {
        f"{case.path}:{case.line}: {key}"
        for case in CASES
        for key in case.calendar["extra"]
        if key not in KNOWN_EXTRA
    }
    assert not unknown


def test_every_source_has_an_adapter_and_every_adapter_a_source() -> None:
    assert {case.repo for case in CASES} == set(ADAPTERS)


def test_the_adapters_change_exactly_the_cases_the_vectors_readme_lists() -> None:
    """businesstimedelta: 2 forward adds ending at 17:00/18:00; GLPI: 1 reversed span;
    Business::Hours: both cases (inclusive end)."""
    changed = {(c.path, c.line) for c in (in_duly_convention(case) for case in CASES) if c.adapted}
    assert changed == {
        ("businesstimedelta.jsonl", 2),
        ("businesstimedelta.jsonl", 5),
        ("glpi_calendar.jsonl", 4),
        ("business_hours_perl.jsonl", 1),
        ("business_hours_perl.jsonl", 2),
    }


def test_the_adapters_give_duly_conventions_worked_out_by_hand() -> None:
    """The converted expectations, by hand, so the adapters are not trusted blindly.

    businesstimedelta line 2: Fri 2016-01-22 09:00 + 8h on 09-17 ends at the 17:00 close; the
    next opening is Mon 2016-01-25 09:00. Line 5: Mon 2016-01-18 09:00 + 40h on 09-12,13-18
    (8h a day) ends at Fri 18:00; next opening Mon 2016-01-25 09:00. GLPI line 4: 2019-01-08 back
    to 2019-01-01 (Tue to Tue) holds five 12-hour days, so -60h = -216000 s.
    """
    by_place = {(c.path, c.line): in_duly_convention(c) for c in CASES}
    monday_nine = datetime(2016, 1, 25, 9, tzinfo=UTC)
    assert by_place["businesstimedelta.jsonl", 2].expected == monday_nine
    assert by_place["businesstimedelta.jsonl", 5].expected == monday_nine
    assert by_place["glpi_calendar.jsonl", 4].expected == -216000
    assert by_place["business_hours_perl.jsonl", 1].end == datetime(1970, 1, 8, tzinfo=UTC)


def test_midnight_halves_are_joined_into_one_overnight_interval() -> None:
    week = load_week(
        {
            "mon": [["09:00", "13:00"], ["22:00", "24:00"]],
            "tue": [["00:00", "03:00"], ["09:00", "13:00"]],
            "wed": [["00:00", "24:00"]],
            "thu": [["00:00", "24:00"]],
            "fri": [],
            "sat": [],
            "sun": [],
        }
    )
    assert week[0] == ((540, 780), (1320, 1620))
    assert week[1] == ((540, 780),)
    assert week[2] == ((0, 1440),)  # a whole day is not an overnight interval
    assert week[3] == ((0, 1440),)
