"""Service credits over small hand-made clock tables.

The agreement below charges 12 000 EUR a month and owes 10 % of it in a month where fewer than
90 % of resolution clocks were met, 5 % where fewer than 95 % were. Every expected figure is
worked out in the test's comment.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from duly.core.agreements import Agreement, Credits, CreditTier, Fee
from duly.core.clock_table import ClockTable
from duly.core.clocks import Clock
from duly.core.credits import MetricMonth, month_credit, monthly_credits

HOUR = 3600.0
MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = Clock(
    ticket="T-1",
    agreement="gold",
    policy="all",
    metric="resolution",
    cycle=1,
    priority="high",
    calendar="24x7",
    target_s=4 * HOUR,
    start=MARCH,
    due=MARCH + timedelta(hours=4),
    stop=MARCH + timedelta(hours=1),
    state="met",
    breached_at=None,
    business_elapsed_s=HOUR,
    calendar_elapsed_s=HOUR,
    paused_s=0.0,
    remaining_s=3 * HOUR,
)
TIERS = (
    CreditTier(metric="resolution", below=90.0, credit=10.0),
    CreditTier(metric="resolution", below=95.0, credit=5.0),
)
GOLD = Agreement(id="gold", credits=Credits(tiers=TIERS, fee=Fee(amount=12000.0, currency="EUR")))


def clocks(met: int, missed: int, start: datetime = MARCH, **changes: object) -> list[Clock]:
    """``met`` met and ``missed`` breached clocks on distinct tickets, all started at ``start``."""
    states = ["met"] * met + ["breached"] * missed
    return [
        replace(BASE, ticket=f"T-{start:%m%d%H%M}-{i}", start=start, state=state, **changes)  # type: ignore[arg-type]
        for i, state in enumerate(states)
    ]


def table(*groups: list[Clock]) -> ClockTable:
    return ClockTable.from_clocks([clock for group in groups for clock in group])


def test_a_month_at_85_percent_owes_the_worst_tier_ten_percent_of_the_fee():
    # 17 of 20 met = 85 % < 90 %: the first tier applies, 10 % of 12 000 = 1 200 EUR.
    credit = month_credit(table(clocks(17, 3)), GOLD, "2026-03")
    assert credit.tier == TIERS[0]
    assert credit.credit_pct == 10.0
    assert credit.amount == 1200.0
    assert credit.results == (MetricMonth("resolution", 20, 17),)
    assert credit.result("resolution").met_pct == 85.0


def test_a_month_exactly_at_below_does_not_owe_that_tier():
    # 18 of 20 = 90 %, not below 90 %: the first tier does not apply; below 95 % does: 600 EUR.
    credit = month_credit(table(clocks(18, 2)), GOLD, "2026-03")
    assert credit.tier == TIERS[1]
    assert credit.amount == 600.0


def test_a_month_exactly_at_the_last_below_owes_nothing():
    # 19 of 20 = 95 %: no tier's below is passed.
    credit = month_credit(table(clocks(19, 1)), GOLD, "2026-03")
    assert not credit.owed
    assert credit.tier is None
    assert credit.credit_pct == 0.0
    assert credit.amount == 0.0


def test_a_boundary_that_is_not_a_round_fraction_is_decided_without_rounding():
    # 2 of 3 = 66.666...%; a tier below 66.67 % applies (rounding to 66.67 would hide it).
    agreement = Agreement(id="gold", credits=Credits(tiers=(CreditTier("resolution", 66.67, 3),)))
    assert month_credit(table(clocks(2, 1)), agreement, "2026-03").owed
    at_two_thirds = Agreement(
        id="gold", credits=Credits(tiers=(CreditTier("resolution", 66.66, 3),))
    )
    assert not month_credit(table(clocks(2, 1)), at_two_thirds, "2026-03").owed


def test_without_a_fee_a_credit_is_a_percent_and_no_amount():
    agreement = Agreement(id="gold", credits=Credits(tiers=TIERS))
    credit = month_credit(table(clocks(17, 3)), agreement, "2026-03")
    assert credit.credit_pct == 10.0
    assert credit.amount is None


def test_running_and_cancelled_clocks_are_not_counted():
    # 9 met + 1 missed = 90 % (5 % tier); 5 running and 5 cancelled clocks would make it 60 %
    # (10 % tier) if they counted as not met.
    running = [replace(c, state="active", stop=None) for c in clocks(5, 0, MARCH + timedelta(1))]
    cancelled = [replace(c, state="cancelled") for c in clocks(5, 0, MARCH + timedelta(2))]
    credit = month_credit(table(clocks(9, 1), running, cancelled), GOLD, "2026-03")
    assert credit.results == (MetricMonth("resolution", 10, 9),)
    assert credit.tier == TIERS[1]


def test_other_agreements_and_other_metrics_do_not_count():
    # Gold: 19 of 20 (no credit). Silver's misses and gold's first_reply misses are not gold's
    # resolution clocks.
    silver = clocks(0, 10, MARCH + timedelta(hours=1), agreement="silver")
    replies = clocks(0, 10, MARCH + timedelta(hours=2), metric="first_reply")
    assert not month_credit(table(clocks(19, 1), silver, replies), GOLD, "2026-03").owed


def test_a_month_with_no_decided_clock_owes_nothing():
    credit = month_credit(table(clocks(0, 5)), GOLD, "2026-04")  # the misses are in March
    assert credit.results == (MetricMonth("resolution", 0, 0),)
    assert credit.result("resolution").met_pct is None
    assert not credit.owed


def test_the_first_matching_tier_in_written_order_applies_across_metrics():
    # Resolution 18/20 = 90 % passes its 90 % tier; first reply 1/2 = 50 % is below 80 %.
    tiers = (
        CreditTier("resolution", 90.0, 10.0),
        CreditTier("first_reply", 80.0, 8.0),
        CreditTier("first_reply", 99.0, 2.0),
    )
    agreement = Agreement(id="gold", credits=Credits(tiers=tiers, fee=Fee(1000.0, "USD")))
    replies = clocks(1, 1, MARCH + timedelta(hours=2), metric="first_reply")
    credit = month_credit(table(clocks(18, 2), replies), agreement, "2026-03")
    assert credit.tier == tiers[1]
    assert credit.amount == 80.0
    assert credit.results == (MetricMonth("resolution", 20, 18), MetricMonth("first_reply", 2, 1))


def test_the_month_of_a_clock_is_its_start_in_the_time_zone_given():
    # 23:30 UTC on 31 March is 01:30 on 1 April in Stockholm (summer time: UTC+2).
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    t = table(clocks(0, 2, late))
    assert month_credit(t, GOLD, "2026-03").owed
    assert not month_credit(t, GOLD, "2026-03", ZoneInfo("Europe/Stockholm")).owed
    assert month_credit(t, GOLD, "2026-04", ZoneInfo("Europe/Stockholm")).owed


def test_every_month_with_decided_clocks_is_listed_oldest_first_owed_or_not():
    # March: 19/20 (nothing); February: 1/2 = 50 % (10 %); April: 17/20 = 85 % (10 %).
    february = clocks(1, 1, datetime(2026, 2, 10, tzinfo=UTC))
    april = clocks(17, 3, datetime(2026, 4, 10, tzinfo=UTC))
    months = monthly_credits(table(clocks(19, 1), february, april), GOLD)
    assert [(m.month, m.amount) for m in months] == [
        ("2026-02", 1200.0),
        ("2026-03", 0.0),
        ("2026-04", 1200.0),
    ]


def test_an_agreement_without_credits_owes_nothing_in_any_month():
    plain = Agreement(id="gold")
    assert monthly_credits(table(clocks(0, 5)), plain) == []
    credit = month_credit(table(clocks(0, 5)), plain, "2026-03")
    assert not credit.owed
    assert credit.amount is None
