"""Reports over clock tables, checked against small hand-made tables.

Every expected figure below is worked out by hand in the comments next to it; the clocks are
built directly (``ClockTable.from_clocks``), so these tests depend on the report code only.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from duly.core.agreements import Agreement, Policy, RateTarget, SlaConfig
from duly.core.calendar import Calendar, Hours
from duly.core.clock_table import ClockTable
from duly.core.clocks import Attribution, Clock
from duly.core.reports import (
    DATE_KEYS,
    GROUP_KEYS,
    LOG_COLUMNS,
    attribution,
    compare,
    compliance,
    rate_outcomes,
    sla_log,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = 3600.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
BASE = Clock(
    ticket="T-1",
    agreement="gold",
    policy="all",
    metric="first_reply",
    cycle=1,
    priority="high",
    calendar="24x7",
    target_s=HOUR,
    start=START,
    due=START + timedelta(hours=1),
    stop=START + timedelta(minutes=30),
    state="met",
    breached_at=None,
    business_elapsed_s=1800.0,
    calendar_elapsed_s=1800.0,
    paused_s=0.0,
    remaining_s=1800.0,
    group="first-line",
    assignee="anna",
    organization="acme",
    channel="email",
)
TEXT_KEYS = (
    "agreement",
    "policy",
    "metric",
    "priority",
    "group",
    "assignee",
    "organization",
    "channel",
)
NULLABLE_KEYS = ("priority", "group", "assignee", "organization", "channel")


def make(ticket: str = "T-1", **changes: Any) -> Clock:
    """BASE with ``changes``; a running clock (``stop=None``) by default has no ``stop``."""
    return replace(BASE, ticket=ticket, **changes)


def table(*clocks: Clock) -> ClockTable:
    return ClockTable.from_clocks(clocks)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rows) == 1, rows
    return rows[0]


# ------------------------------------------------------------------------------- compliance


def test_compliance_counts_met_and_missed_in_the_total_keeps_open_apart_and_drops_cancelled():
    clocks = table(
        make("M1"),
        make("M2"),
        make("M3"),
        make("B1", state="breached", breached_at=START),  # stopped past due
        make("B2", state="breached", breached_at=START, stop=None),  # still running past due
        make("A1", state="active", stop=None),
        make("P1", state="paused", stop=None),
        make("C1", state="cancelled"),
        make("C2", state="cancelled", stop=None),
    )
    row = only(compliance(clocks))
    # total = met 3 + missed 2 = 5; the active and the paused clock are open; cancelled: nowhere.
    assert (row["total"], row["met"], row["missed"], row["open"]) == (5, 3, 2, 2)
    assert row["met_pct"] == 60.0  # 3 / 5


def test_met_pct_is_a_percentage_rounded_to_two_decimals():
    clocks = table(make("M1"), make("M2"), make("B1", state="breached"))
    assert only(compliance(clocks))["met_pct"] == 66.67  # 2 / 3 = 66.666...


def test_time_statistics_are_given_for_met_and_missed_in_business_and_calendar_time():
    clocks = table(
        # met: business 600, 60, 300, 1200 and calendar 3600, 7200, 900, 1800 (given unsorted)
        make("M1", business_elapsed_s=600.0, calendar_elapsed_s=3600.0),
        make("M2", business_elapsed_s=60.0, calendar_elapsed_s=7200.0),
        make("M3", business_elapsed_s=300.0, calendar_elapsed_s=900.0),
        make("M4", business_elapsed_s=1200.0, calendar_elapsed_s=1800.0),
        # missed: business 5000, 4000, 9000 (the last one still running), calendar 10000 each
        make("B1", state="breached", business_elapsed_s=5000.0, calendar_elapsed_s=10000.0),
        make("B2", state="breached", business_elapsed_s=4000.0, calendar_elapsed_s=10000.0),
        make("B3", state="breached", stop=None, business_elapsed_s=9000.0, calendar_elapsed_s=1e4),
        # open and cancelled clocks must not leak into any statistic
        make("A1", state="active", stop=None, business_elapsed_s=1e9, calendar_elapsed_s=1e9),
        make("C1", state="cancelled", business_elapsed_s=1e9, calendar_elapsed_s=1e9),
    )
    row = only(compliance(clocks))
    # met business sorted: 60, 300, 600, 1200 (n = 4)
    #   avg = 2160 / 4 = 540
    #   median at position 0.5 * (4 - 1) = 1.5: 300 + 0.5 * (600 - 300) = 450
    #   p90 at position 0.9 * (4 - 1) = 2.7: 600 + 0.7 * (1200 - 600) = 1020
    assert row["met_business_avg_s"] == pytest.approx(540.0)
    assert row["met_business_median_s"] == pytest.approx(450.0)
    assert row["met_business_p90_s"] == pytest.approx(1020.0)
    assert (row["met_business_min_s"], row["met_business_max_s"]) == (60.0, 1200.0)
    # met calendar sorted: 900, 1800, 3600, 7200
    #   avg = 13500 / 4 = 3375; median 1800 + 0.5 * 1800 = 2700; p90 3600 + 0.7 * 3600 = 6120
    assert row["met_calendar_avg_s"] == pytest.approx(3375.0)
    assert row["met_calendar_median_s"] == pytest.approx(2700.0)
    assert row["met_calendar_p90_s"] == pytest.approx(6120.0)
    assert (row["met_calendar_min_s"], row["met_calendar_max_s"]) == (900.0, 7200.0)
    # missed business sorted: 4000, 5000, 9000 (n = 3)
    #   avg = 18000 / 3 = 6000; median at 1.0 = 5000; p90 at 1.8: 5000 + 0.8 * 4000 = 8200
    assert row["missed_business_avg_s"] == pytest.approx(6000.0)
    assert row["missed_business_median_s"] == pytest.approx(5000.0)
    assert row["missed_business_p90_s"] == pytest.approx(8200.0)
    assert (row["missed_business_min_s"], row["missed_business_max_s"]) == (4000.0, 9000.0)
    # missed calendar: all 10000
    for stat in ("avg", "median", "p90", "min", "max"):
        assert row[f"missed_calendar_{stat}_s"] == pytest.approx(10000.0)


def test_median_and_p90_agree_with_numpys_default_linear_percentile():
    values = [17.0, 3.0, 250.0, 41.0, 8.0, 99.0, 1.0]
    row = only(
        compliance(table(*(make(f"T{i}", business_elapsed_s=v) for i, v in enumerate(values))))
    )
    # sorted: 1, 3, 8, 17, 41, 99, 250; median at 3.0 = 17; p90 at 5.4: 99 + 0.4 * 151 = 159.4
    assert row["met_business_median_s"] == pytest.approx(17.0)
    assert row["met_business_p90_s"] == pytest.approx(159.4)
    assert row["met_business_p90_s"] == pytest.approx(float(np.percentile(values, 90)))


def test_statistics_are_computed_within_each_group_not_across_groups():
    clocks = table(
        make("G1", agreement="gold", business_elapsed_s=100.0),
        make("S1", agreement="silver", business_elapsed_s=1000.0),
        make("G2", agreement="gold", business_elapsed_s=300.0),
        make("S2", agreement="silver", business_elapsed_s=3000.0),
    )
    gold, silver = compliance(clocks, ["agreement"])
    assert gold["agreement"] == "gold"
    # gold: 100, 300 -> avg 200, median 200, p90 100 + 0.9 * 200 = 280
    assert (gold["met_business_avg_s"], gold["met_business_median_s"]) == (200.0, 200.0)
    assert gold["met_business_p90_s"] == pytest.approx(280.0)
    # silver: 1000, 3000 -> avg 2000, p90 1000 + 0.9 * 2000 = 2800
    assert silver["met_business_avg_s"] == 2000.0
    assert silver["met_business_p90_s"] == pytest.approx(2800.0)


def test_a_group_of_only_open_clocks_has_no_met_pct_and_no_statistics():
    row = only(compliance(table(make(state="active", stop=None))))
    assert (row["total"], row["met"], row["missed"], row["open"]) == (0, 0, 0, 1)
    assert row["met_pct"] is None
    assert row["met_business_avg_s"] is None
    assert row["missed_calendar_max_s"] is None


def test_a_group_of_only_cancelled_clocks_gives_no_row():
    clocks = table(make("G1", agreement="gold"), make("S1", agreement="silver", state="cancelled"))
    assert [r["agreement"] for r in compliance(clocks, ["agreement"])] == ["gold"]
    assert compliance(table(make(state="cancelled")), ["agreement"]) == []


def test_an_empty_table_gives_no_rows():
    assert compliance(table()) == []
    assert compliance(table(), ["agreement", "month"]) == []


def test_every_group_key_is_covered_by_these_tests():
    assert set(GROUP_KEYS) == set(DATE_KEYS) | set(TEXT_KEYS)


@pytest.mark.parametrize("key", TEXT_KEYS)
def test_grouping_by_a_field_gives_one_row_per_value_sorted_with_none_last(key):
    clocks = [
        make("T1", **{key: "beta"}),
        make("T2", **{key: "alpha"}, state="breached"),
        make("T3", **{key: "beta"}),
        make("T4", **{key: "beta"}, state="breached"),
    ]
    if key in NULLABLE_KEYS:
        clocks.append(make("T5", **{key: None}, state="active", stop=None))
    rows = compliance(table(*clocks), [key])
    summary = [(r[key], r["total"], r["met"], r["missed"], r["open"]) for r in rows]
    expected: list[tuple[str | None, int, int, int, int]] = [
        ("alpha", 1, 0, 1, 0),  # T2
        ("beta", 3, 2, 1, 0),  # T1, T3 met; T4 missed
    ]
    if key in NULLABLE_KEYS:
        expected.append((None, 0, 0, 0, 1))  # T5: a field never set sorts last
    assert summary == expected
    assert all(set(r) >= {key, "total", "met_pct"} for r in rows)


def test_grouping_by_several_keys_sorts_by_each_key_in_turn_with_none_last():
    clocks = table(
        make("T1", agreement="gold", priority="high"),
        make("T2", agreement="gold", priority=None),
        make("T3", agreement="bronze", priority="low", state="breached"),
        make("T4", agreement="gold", priority="low"),
        make("T5", agreement="bronze", priority=None),
        make("T6", agreement="gold", priority="high", state="breached"),
    )
    rows = compliance(clocks, ["agreement", "priority"])
    assert [(r["agreement"], r["priority"], r["total"], r["met"]) for r in rows] == [
        ("bronze", "low", 1, 0),  # T3
        ("bronze", None, 1, 1),  # T5
        ("gold", "high", 2, 1),  # T1 met, T6 missed
        ("gold", "low", 1, 1),  # T4
        ("gold", None, 1, 1),  # T2
    ]
    assert list(rows[0])[:2] == ["agreement", "priority"]


def test_grouping_by_an_unknown_key_is_an_error_that_names_it():
    with pytest.raises(ValueError, match="'team'"):
        compliance(table(make()), ["agreement", "team"])


# ------------------------------------------------------------------------------- date keys

# 2026-03-31T23:30Z is 2026-04-01 01:30 in Stockholm (CEST, +02:00 since 29 March).
LATE_MARCH = at("2026-03-31T23:30:00+00:00")
# 2026-03-29T22:30Z is Monday 2026-03-30 00:30 CEST, but still Sunday (ISO week 13) in UTC.
SUNDAY_NIGHT = at("2026-03-29T22:30:00+00:00")


def dates(key: str, tz: Any = UTC) -> list[str | None]:
    clocks = table(make("A", start=LATE_MARCH), make("B", start=SUNDAY_NIGHT))
    return [r[key] for r in compliance(clocks, [key], tz)]


def test_months_are_counted_in_the_given_time_zone():
    assert dates("month", STOCKHOLM) == ["2026-03", "2026-04"]  # B in March, A in April
    assert dates("month") == ["2026-03"]  # both in March in UTC


def test_days_are_counted_in_the_given_time_zone():
    assert dates("day", STOCKHOLM) == ["2026-03-30", "2026-04-01"]
    assert dates("day") == ["2026-03-29", "2026-03-31"]


def test_weeks_are_iso_weeks_in_the_given_time_zone():
    # Mon 2026-03-30 is the first day of ISO week 14 (1 Jan 2026 is a Thursday, so week 1
    # starts Mon 29 Dec 2025, and 30 March is 91 days = 13 weeks later).
    assert dates("week", STOCKHOLM) == ["2026-W14"]
    assert dates("week") == ["2026-W13", "2026-W14"]


def test_a_week_takes_its_iso_year_not_its_calendar_year():
    # 2025-12-28T23:30Z is Monday 2025-12-29 00:30 CET: ISO week 1 of 2026; in UTC it is still
    # Sunday 28 December, the last day of 2025-W52.
    clocks = table(make(start=at("2025-12-28T23:30:00+00:00")))
    assert [r["week"] for r in compliance(clocks, ["week"], STOCKHOLM)] == ["2026-W01"]
    assert [r["week"] for r in compliance(clocks, ["week"])] == ["2025-W52"]


def test_a_time_zone_with_a_half_hour_offset_starts_its_day_at_local_midnight():
    # 2026-03-31T18:45Z is 2026-04-01 00:15 in Asia/Kolkata (+05:30).
    clocks = table(make(start=at("2026-03-31T18:45:00+00:00")))
    kolkata = ZoneInfo("Asia/Kolkata")
    assert [r["day"] for r in compliance(clocks, ["day"], kolkata)] == ["2026-04-01"]
    assert [r["month"] for r in compliance(clocks, ["month"], kolkata)] == ["2026-04"]


def test_a_date_key_and_a_field_combine():
    clocks = table(
        make("A", start=LATE_MARCH, agreement="gold"),
        make("B", start=SUNDAY_NIGHT, agreement="gold", state="breached"),
        make("C", start=LATE_MARCH, agreement="bronze"),
    )
    rows = compliance(clocks, ["month", "agreement"], STOCKHOLM)
    assert [(r["month"], r["agreement"], r["total"], r["met"]) for r in rows] == [
        ("2026-03", "gold", 1, 0),  # B
        ("2026-04", "bronze", 1, 1),  # C
        ("2026-04", "gold", 1, 1),  # A
    ]


# ------------------------------------------------------------------------------- SLA log


def test_the_log_header_is_fixed():
    assert LOG_COLUMNS == (
        "ticket",
        "agreement",
        "policy",
        "metric",
        "cycle",
        "priority",
        "group",
        "assignee",
        "start",
        "due",
        "stop",
        "state",
        "breached_at",
        "business_elapsed_s",
        "calendar_elapsed_s",
        "paused_s",
        "remaining_s",
    )


def test_each_log_row_has_exactly_the_log_columns_in_order():
    rows = list(sla_log(table(make("T1"), make("T2", state="cancelled"))))
    assert len(rows) == 2  # one row per clock, cancelled ones too
    assert all(list(row) == list(LOG_COLUMNS) for row in rows)


def test_log_instants_are_iso_utc_with_a_z_and_unset_values_are_empty():
    stockholm_start = datetime(2026, 3, 2, 8, 15, tzinfo=STOCKHOLM)  # 07:15Z
    running = make(
        "T-9",
        start=stockholm_start,
        due=stockholm_start + timedelta(minutes=30),
        stop=None,
        state="breached",
        breached_at=stockholm_start + timedelta(minutes=30),
        priority=None,
        group=None,
        assignee=None,
        cycle=3,
        business_elapsed_s=2700.0,
        remaining_s=-900.0,
    )
    row = next(iter(sla_log(table(running))))
    assert row["start"] == "2026-03-02T07:15:00Z"
    assert row["due"] == "2026-03-02T07:45:00Z"
    assert row["breached_at"] == "2026-03-02T07:45:00Z"
    assert row["stop"] == ""
    assert (row["priority"], row["group"], row["assignee"]) == ("", "", "")
    assert (row["ticket"], row["cycle"], row["state"]) == ("T-9", 3, "breached")
    assert (row["business_elapsed_s"], row["remaining_s"]) == (2700.0, -900.0)


def test_a_met_clock_logs_its_stop_and_no_breach():
    row = next(iter(sla_log(table(make()))))
    # BASE: start 09:00Z, due 10:00Z, stop 09:30Z
    assert (row["start"], row["due"], row["stop"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-02T09:30:00Z",
    )
    assert (row["state"], row["breached_at"]) == ("met", "")


# ------------------------------------------------------------------------------- attribution


def held(group: str | None, assignee: str | None, seconds: float) -> Attribution:
    return Attribution(group, assignee, seconds)


def test_attribution_sums_business_time_and_breaches_per_group_and_assignee():
    clocks = table(
        make("C1", attribution=(held("first-line", None, 600.0), held("second", "erik", 1200.0))),
        make(
            "C2",
            state="breached",
            attribution=(held("second", "erik", 3000.0), held("second", "maria", 500.0)),
        ),
        make("C3", state="breached", stop=None, attribution=(held("first-line", None, 900.0),)),
        make("C4", state="active", stop=None, attribution=(held("second", "maria", 100.0),)),
    )
    assert attribution(clocks) == [
        # second/erik: 1200 (C1) + 3000 (C2) = 4200 in 2 clocks; breached: C2, 3000
        {
            "group": "second",
            "assignee": "erik",
            "business_s": 4200.0,
            "clocks": 2,
            "breached_clocks": 1,
            "breached_business_s": 3000.0,
        },
        # first-line/None: 600 (C1) + 900 (C3) = 1500; breached: C3, 900
        {
            "group": "first-line",
            "assignee": None,
            "business_s": 1500.0,
            "clocks": 2,
            "breached_clocks": 1,
            "breached_business_s": 900.0,
        },
        # second/maria: 500 (C2) + 100 (C4) = 600; breached: C2, 500
        {
            "group": "second",
            "assignee": "maria",
            "business_s": 600.0,
            "clocks": 2,
            "breached_clocks": 1,
            "breached_business_s": 500.0,
        },
    ]


def test_attribution_ranks_by_breached_time_then_by_all_time():
    clocks = table(
        make("C1", attribution=(held("a", "x", 100.0),)),
        make("C2", attribution=(held("b", "y", 900.0),)),
        make("C3", state="breached", attribution=(held("c", "z", 50.0),)),
    )
    # c/z has breached time (50); a/x and b/y have none, so b/y (900) comes before a/x (100).
    assert [(r["group"], r["breached_business_s"]) for r in attribution(clocks)] == [
        ("c", 50.0),
        ("b", 0.0),
        ("a", 0.0),
    ]


def test_attribution_of_clocks_that_were_never_held_is_empty():
    assert attribution(table(make())) == []
    assert attribution(table()) == []


# ------------------------------------------------------------------------------- rate targets

OFFICE: Hours = ((8 * 60, 17 * 60),)
STOCKHOLM_OFFICE = Calendar(
    timezone="Europe/Stockholm",
    week=(OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, (), ()),
    name="stockholm",
)
NOW = at("2026-06-01T00:00:00+00:00")


def config_with(*rates: RateTarget, policy: str = "all") -> SlaConfig:
    return SlaConfig(
        calendars={"stockholm": STOCKHOLM_OFFICE},
        agreements=(Agreement(id="gold", policies=(Policy(id=policy, rate_targets=rates),)),),
    )


def resolution(ticket: str, start: datetime, elapsed_h: float, **changes: Any) -> Clock:
    """A stopped resolution clock of ``elapsed_h`` business hours (calendar time: a week)."""
    fields: dict[str, Any] = {
        "metric": "resolution",
        "start": start,
        "stop": start + timedelta(hours=elapsed_h),
        "business_elapsed_s": elapsed_h * HOUR,
        "calendar_elapsed_s": 7 * 24 * HOUR,
    }
    fields.update(changes)
    return make(ticket, **fields)


MARCH = at("2026-03-10T10:00:00+00:00")
APRIL = at("2026-04-10T10:00:00+00:00")


def test_a_monthly_rate_counts_decided_clocks_against_each_prioritys_time():
    rate = RateTarget("resolution", 60.0, {"high": 8 * HOUR, "*": 16 * HOUR}, "month")
    clocks = table(
        resolution("M1", MARCH, 7, priority="high"),  # within 8h
        resolution("M2", MARCH, 9, priority="high", state="breached"),  # over 8h
        resolution("M3", MARCH, 15, priority="normal"),  # within 16h ("*")
        resolution("M4", MARCH, 10, priority="low"),  # within 16h ("*")
        # running but already over its 8h: decided, and not within
        resolution("M5", MARCH, 9, priority="high", stop=None, state="breached"),
        # running at 10h of 16h: not decided yet, not counted
        resolution("M6", MARCH, 10, priority="normal", stop=None, state="active"),
        resolution("M7", MARCH, 1, priority="high", state="cancelled"),  # never counted
        resolution("M8", MARCH, 1, priority="high", metric="first_reply"),  # another metric
        resolution("M9", MARCH, 1, priority="high", policy="other"),  # another policy
        resolution("M10", MARCH, 1, priority="high", agreement="silver"),  # another agreement
        resolution("A1", APRIL, 20, priority="normal"),  # over 16h
    )
    assert rate_outcomes(clocks, config_with(rate), NOW) == [
        # March: M1..M5 decided, M1, M3, M4 within: 3 / 5 = 60 % >= 60 %: met
        {
            "agreement": "gold",
            "policy": "all",
            "metric": "resolution",
            "period": "2026-03",
            "clocks": 5,
            "within": 3,
            "rate_pct": 60.0,
            "target_pct": 60.0,
            "outcome": "met",
        },
        # April: A1 only, not within: 0 %
        {
            "agreement": "gold",
            "policy": "all",
            "metric": "resolution",
            "period": "2026-04",
            "clocks": 1,
            "within": 0,
            "rate_pct": 0.0,
            "target_pct": 60.0,
            "outcome": "missed",
        },
    ]


def test_a_rate_just_below_its_target_is_missed_and_is_rounded_to_two_decimals():
    rate = RateTarget("resolution", 67.0, {"*": 8 * HOUR})
    clocks = table(
        resolution("T1", MARCH, 1), resolution("T2", MARCH, 2), resolution("T3", MARCH, 9)
    )
    row = only(rate_outcomes(clocks, config_with(rate), NOW))
    assert (row["clocks"], row["within"], row["rate_pct"]) == (3, 2, 66.67)  # 2 / 3
    assert row["outcome"] == "missed"


def test_a_clock_exactly_at_the_rates_time_is_within():
    rate = RateTarget("resolution", 100.0, {"*": 8 * HOUR})
    row = only(rate_outcomes(table(resolution("T1", MARCH, 8)), config_with(rate), NOW))
    assert (row["within"], row["outcome"]) == (1, "met")


def test_a_rate_without_decided_clocks_gives_no_row():
    rate = RateTarget("resolution", 95.0, {"*": 8 * HOUR})
    running = resolution("T1", MARCH, 2, stop=None, state="active")
    assert rate_outcomes(table(running), config_with(rate), NOW) == []
    assert rate_outcomes(table(), config_with(rate), NOW) == []


def test_quarterly_rates_gather_three_months():
    rate = RateTarget("resolution", 50.0, {"*": 8 * HOUR}, "quarter")
    clocks = table(
        resolution("J", at("2026-01-15T10:00:00+00:00"), 1),
        resolution("M", MARCH, 9),
        resolution("A", APRIL, 1),
        resolution("O", at("2026-10-01T10:00:00+00:00"), 9),
    )
    rows = rate_outcomes(clocks, config_with(rate), NOW)
    # Q1: J within, M not -> 1 / 2; Q2: A -> 1 / 1; Q4: O -> 0 / 1
    assert [(r["period"], r["clocks"], r["within"], r["outcome"]) for r in rows] == [
        ("2026-Q1", 2, 1, "met"),
        ("2026-Q2", 1, 1, "met"),
        ("2026-Q4", 1, 0, "missed"),
    ]


def test_weekly_rates_use_iso_weeks():
    rate = RateTarget("resolution", 100.0, {"*": 8 * HOUR}, "week")
    clocks = table(
        resolution("SUN", at("2026-03-08T10:00:00+00:00"), 1),  # Sunday: last day of W10
        resolution("MON", at("2026-03-09T10:00:00+00:00"), 9),  # Monday: first day of W11
    )
    rows = rate_outcomes(clocks, config_with(rate), NOW)
    assert [(r["period"], r["clocks"], r["within"]) for r in rows] == [
        ("2026-W10", 1, 1),
        ("2026-W11", 1, 0),
    ]


def test_rate_periods_are_counted_in_the_report_time_zone():
    rate = RateTarget("resolution", 100.0, {"*": 8 * HOUR})
    clocks = table(resolution("T1", LATE_MARCH, 1))  # 2026-04-01 01:30 in Stockholm
    assert [r["period"] for r in rate_outcomes(clocks, config_with(rate), NOW)] == ["2026-03"]
    in_stockholm = rate_outcomes(clocks, config_with(rate), NOW, STOCKHOLM)
    assert [r["period"] for r in in_stockholm] == ["2026-04"]


def test_a_clock_without_priority_takes_the_rates_default_time():
    rate = RateTarget("resolution", 100.0, {"high": 1 * HOUR, "*": 8 * HOUR})
    clocks = table(resolution("T1", MARCH, 5, priority=None))  # 5h <= 8h ("*"), not 1h
    assert only(rate_outcomes(clocks, config_with(rate), NOW))["within"] == 1


def test_a_rate_in_another_calendar_measures_the_clock_in_that_calendar():
    rate = RateTarget("resolution", 50.0, {"*": 4 * HOUR}, "month", "stockholm")
    now = at("2026-03-09T12:00:00+00:00")  # Monday 13:00 in Stockholm
    clocks = table(
        # Counted in 24x7: Fri 2026-03-06 15:00Z to Mon 2026-03-09 08:00Z is 65 h of its own
        # business time, over 4h. In Stockholm office hours (08-17 CET) it is Fri 16:00-17:00 and
        # Mon 08:00-09:00 = 2 h: within.
        resolution(
            "WEEKEND",
            at("2026-03-06T15:00:00+00:00"),
            65,
            stop=at("2026-03-09T08:00:00+00:00"),
        ),
        # Running since Mon 08:00 CET (07:00Z): 5 office hours by 13:00, over 4h: decided, not
        # within (its own business time says 0, which must not be used).
        resolution(
            "LONG",
            at("2026-03-09T07:00:00+00:00"),
            0,
            stop=None,
            state="active",
        ),
        # Running since Mon 11:00 CET: 2 office hours by now: not decided (its own time says 9h).
        resolution(
            "SHORT",
            at("2026-03-09T10:00:00+00:00"),
            9,
            stop=None,
            state="active",
        ),
    )
    row = only(rate_outcomes(clocks, config_with(rate), now))
    assert (row["clocks"], row["within"], row["rate_pct"], row["outcome"]) == (2, 1, 50.0, "met")


def test_a_rate_in_the_clocks_own_calendar_uses_its_running_business_time():
    # calendar "stockholm" on both: the clock's business_elapsed_s (3h, pauses excluded) is used,
    # not the 65 h between its start and stop.
    rate = RateTarget("resolution", 100.0, {"*": 4 * HOUR}, "month", "stockholm")
    clock = resolution(
        "T1",
        at("2026-03-02T08:00:00+00:00"),
        3,
        stop=at("2026-03-05T01:00:00+00:00"),
        calendar="stockholm",
    )
    assert only(rate_outcomes(table(clock), config_with(rate), NOW))["within"] == 1


def test_a_rate_for_one_priority_counts_only_clocks_of_that_priority():
    # "95 % of high tickets resolved within 8h": low tickets are not part of this promise.
    rate = RateTarget("resolution", 95.0, {"high": 8 * HOUR})
    clocks = table(
        resolution("H1", MARCH, 9, priority="high", state="breached"),
        *(resolution(f"L{i}", MARCH, 100, priority="low") for i in range(5)),
    )
    row = only(rate_outcomes(clocks, config_with(rate), NOW))
    assert (row["clocks"], row["within"], row["rate_pct"]) == (1, 0, 0.0)


# ------------------------------------------------------------------------------- what-if


def test_compare_lists_every_clock_whose_outcome_changes():
    before = table(
        make("T1"),  # met -> missed in the draft
        make("T2"),  # met both times
        make("T3", state="breached"),  # missed both times
        make("T4", agreement="silver"),  # only before
        make("T6", state="active", stop=None),  # open -> missed
        make("T8"),  # met -> cancelled
    )
    after = table(
        make("T1", state="breached"),
        make("T2"),
        make("T3", state="breached"),
        make("T5", state="breached"),  # only after
        make("T6", state="breached", stop=None),
        make("T7", state="active", stop=None),  # only after, but open: no outcome either way
        make("T8", state="cancelled"),
    )
    summary, changes = compare(before, after)
    key = {"agreement": "gold", "metric": "first_reply", "cycle": 1}
    assert changes == [
        {"ticket": "T1", **key, "before": "met", "after": "breached"},
        {"ticket": "T4", **key, "agreement": "silver", "before": "met", "after": "none"},
        {"ticket": "T5", **key, "before": "none", "after": "breached"},
        {"ticket": "T6", **key, "before": "active", "after": "breached"},
        {"ticket": "T8", **key, "before": "met", "after": "none"},  # cancelled counts as none
    ]
    # before: decided T1, T2, T3, T4, T8 = 5, met T1, T2, T4, T8 = 4 -> 80 %
    # after: decided T1, T2, T3, T5, T6 = 5, met T2 = 1 -> 20 %
    assert summary == [
        {"total_before": 5, "met_pct_before": 80.0, "total_after": 5, "met_pct_after": 20.0}
    ]


def test_compare_by_a_key_keeps_groups_found_on_one_side_only():
    before = table(make("T1", agreement="gold"), make("T2", agreement="silver"))
    after = table(make("T1", agreement="gold", state="breached"))
    summary, changes = compare(before, after, ["agreement"])
    assert summary == [
        {
            "agreement": "gold",
            "total_before": 1,
            "met_pct_before": 100.0,
            "total_after": 1,
            "met_pct_after": 0.0,
        },
        {
            "agreement": "silver",
            "total_before": 1,
            "met_pct_before": 100.0,
            "total_after": 0,
            "met_pct_after": None,
        },
    ]
    assert [(c["ticket"], c["before"], c["after"]) for c in changes] == [
        ("T1", "met", "breached"),
        ("T2", "met", "none"),
    ]


def test_compare_matches_clocks_on_ticket_agreement_metric_and_cycle():
    before = table(make("T1", cycle=1), make("T1", cycle=2), make("T1", metric="resolution"))
    after = table(
        make("T1", cycle=1, policy="draft-policy"),  # same clock under another policy: matched
        make("T1", cycle=2, state="breached"),
        make("T1", metric="resolution"),
    )
    _, changes = compare(before, after)
    assert changes == [
        {
            "ticket": "T1",
            "agreement": "gold",
            "metric": "first_reply",
            "cycle": 2,
            "before": "met",
            "after": "breached",
        }
    ]


def test_comparing_a_table_with_itself_changes_nothing():
    clocks = table(make("T1"), make("T2", state="breached"), make("T3", state="cancelled"))
    summary, changes = compare(clocks, clocks, ["agreement"])
    assert changes == []
    assert summary == [
        {
            "agreement": "gold",
            "total_before": 2,
            "met_pct_before": 50.0,
            "total_after": 2,
            "met_pct_after": 50.0,
        }
    ]
