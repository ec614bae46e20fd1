"""Service credits as code: a fee and tiers load into ``Credits``, or every problem is named."""

import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from duly.config import ConfigError, Problem, load_config, load_config_text
from duly.core.agreements import Credits, CreditTier, Fee
from duly.core.clock_table import ClockTable
from duly.core.clocks import Clock
from duly.core.credits import month_credit

ROOT = Path(__file__).resolve().parents[2]


def with_credits(block: str) -> str:
    """An agreement whose ``credits:`` key is on line 3, the block indented under it (line 4 on)."""
    return (
        "agreements:\n"
        "  - id: gold\n"
        "    credits:\n"
        + textwrap.indent(textwrap.dedent(block).lstrip("\n"), "      ")
        + "    policies:\n"
        + "      - {id: all, targets: {resolution: 8h, first_reply: 1h}}\n"
    )


def problems_in(yaml: str) -> list[Problem]:
    with pytest.raises(ConfigError) as raised:
        load_config_text(yaml, source="sla.yaml")
    return raised.value.problems


def the_problem(block: str) -> Problem:
    problems = problems_in(with_credits(block))
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    assert problems[0].file == "sla.yaml"
    return problems[0]


def test_a_fee_and_worst_first_tiers_load_into_credits():
    yaml = with_credits("""
        fee: {amount: 12000, currency: EUR}
        tiers:
          - {metric: resolution, below: 90%, credit: 10%}
          - {metric: resolution, below: 95, credit: 5}
          - {metric: first_reply, below: "99.5%", credit: 1%}
    """)
    assert load_config_text(yaml).agreements[0].credits == Credits(
        tiers=(
            CreditTier("resolution", 90.0, 10.0),
            CreditTier("resolution", 95.0, 5.0),
            CreditTier("first_reply", 99.5, 1.0),
        ),
        fee=Fee(12000.0, "EUR"),
    )


def test_tiers_without_a_fee_load_with_no_fee():
    yaml = with_credits("tiers: [{metric: resolution, below: 90%, credit: 10%}]\n")
    credits = load_config_text(yaml).agreements[0].credits
    assert credits is not None
    assert credits.fee is None


def test_an_agreement_without_credits_has_none():
    yaml = "agreements:\n  - id: gold\n    policies: [{id: all, targets: {resolution: 8h}}]\n"
    assert load_config_text(yaml).agreements[0].credits is None


def test_the_example_config_gives_gold_and_silver_credits():
    config = load_config(ROOT / "examples" / "sla.yaml")
    by_id = {a.id: a for a in config.agreements}
    assert by_id["gold"].credits is not None
    assert by_id["gold"].credits.fee is not None
    assert by_id["silver"].credits is not None


def test_an_unknown_metric_is_named_with_its_file_line_and_field():
    problem = the_problem("""
        tiers:
          - {metric: resolutoin, below: 90%, credit: 10%}
    """)
    assert (problem.line, problem.field) == (5, "agreements[0].credits.tiers[0].metric")
    assert "unknown metric 'resolutoin' (did you mean resolution?)" in problem.reason


def test_a_metric_the_agreement_has_no_target_for_is_refused():
    problem = the_problem("""
        tiers:
          - {metric: next_reply, below: 90%, credit: 10%}
    """)
    assert (problem.line, problem.field) == (5, "agreements[0].credits.tiers[0].metric")
    assert "no policy of this agreement has a next_reply target" in problem.reason


@pytest.mark.parametrize(("key", "value"), [("below", "120%"), ("below", 0), ("credit", "-5%")])
def test_a_percent_out_of_range_is_refused(key, value):
    tier = {"metric": "resolution", "below": "90%", "credit": "10%", key: value}
    inline = ", ".join(
        f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}" for k, v in tier.items()
    )
    problem = the_problem(f"tiers:\n  - {{{inline}}}\n")
    assert (problem.line, problem.field) == (5, f"agreements[0].credits.tiers[0].{key}")
    assert problem.reason.startswith("must be a percentage more than 0 and at most 100")


def test_tiers_not_worst_first_are_refused_at_the_later_tier():
    problem = the_problem("""
        tiers:
          - {metric: resolution, below: 95%, credit: 5%}
          - {metric: first_reply, below: 80%, credit: 8%}
          - {metric: resolution, below: 90%, credit: 10%}
    """)
    assert (problem.line, problem.field) == (7, "agreements[0].credits.tiers[2].below")
    assert problem.reason == (
        "tiers go worst first: below 90% must come before below 95% (tiers[0], line 5), "
        "because the first matching tier applies; move it up"
    )


def test_two_tiers_at_the_same_below_are_refused():
    problem = the_problem("""
        tiers:
          - {metric: resolution, below: 90%, credit: 10%}
          - {metric: resolution, below: 90%, credit: 5%}
    """)
    assert problem.field == "agreements[0].credits.tiers[1].below"


def test_a_better_month_owing_more_credit_is_refused():
    problem = the_problem("""
        tiers:
          - {metric: resolution, below: 90%, credit: 5%}
          - {metric: resolution, below: 95%, credit: 10%}
    """)
    assert (problem.line, problem.field) == (6, "agreements[0].credits.tiers[1].credit")
    assert "a better month owes more" in problem.reason


def test_unknown_keys_are_refused_at_every_level():
    problems = problems_in(
        with_credits("""
            fee: {amount: 100, currency: EUR, per: month}
            tiers:
              - {metric: resolution, below: 90%, credit: 10%, above: 1}
            cap: 50%
        """)
    )
    assert [(p.line, p.field) for p in problems] == [
        (4, "agreements[0].credits.fee.per"),
        (6, "agreements[0].credits.tiers[0].above"),
        (7, "agreements[0].credits.cap"),
    ]
    assert all(p.reason.startswith("unknown key") for p in problems)


def test_a_missing_tiers_list_and_tier_fields_are_required():
    assert the_problem("fee: {amount: 100, currency: EUR}\n").field == (
        "agreements[0].credits.tiers"
    )
    problem = the_problem("tiers: [{metric: resolution, below: 90%}]\n")
    assert (problem.field, problem.reason) == (
        "agreements[0].credits.tiers[0].credit",
        "is required",
    )


@pytest.mark.parametrize(
    ("fee", "field"),
    [
        ("{amount: 0, currency: EUR}", "amount"),
        ("{amount: lots, currency: EUR}", "amount"),
        ("{amount: 100, currency: euro}", "currency"),
        ("{amount: 100}", "currency"),
    ],
)
def test_a_fee_needs_a_positive_amount_and_a_currency_code(fee, field):
    problem = the_problem(f"fee: {fee}\ntiers: [{{metric: resolution, below: 90%, credit: 10%}}]\n")
    assert (problem.line, problem.field) == (4, f"agreements[0].credits.fee.{field}")


def test_credits_that_are_not_a_mapping_are_refused():
    yaml = with_credits("").replace("credits:\n", "credits: 10%\n")
    problems = problems_in(yaml)
    assert [(p.line, p.field) for p in problems] == [(3, "agreements[0].credits")]


def test_the_configuration_docs_credits_example_loads_and_owes_what_the_docs_say():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    (section,) = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
        if b.startswith("credits:")
    ]
    yaml = (
        "agreements:\n  - id: gold\n"
        + textwrap.indent(section, "    ")
        + "    policies: [{id: all, targets: {resolution: 8h}}]\n"
    )
    credits = load_config_text(yaml).agreements[0].credits
    assert credits is not None
    assert credits.fee == Fee(12000.0, "EUR")

    # The docs: 85 % owes 1,200 EUR, 92 % owes 600 EUR, 95 % owes nothing.
    agreement = load_config_text(yaml).agreements[0]
    owed = [
        month_credit(month_of(met, 100 - met), agreement, "2026-03").amount for met in (85, 92, 95)
    ]
    assert owed == [1200.0, 600.0, 0.0]


def month_of(met: int, missed: int) -> ClockTable:
    """``met`` met and ``missed`` breached resolution clocks of gold, started in March 2026."""
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return ClockTable.from_clocks(
        Clock(
            ticket=f"T-{i}",
            agreement="gold",
            policy="all",
            metric="resolution",
            cycle=1,
            priority="high",
            calendar="24x7",
            target_s=3600.0,
            start=start,
            due=start + timedelta(hours=1),
            stop=start + timedelta(hours=2),
            state="met" if i < met else "breached",
            breached_at=None,
            business_elapsed_s=0.0,
            calendar_elapsed_s=0.0,
            paused_s=0.0,
            remaining_s=0.0,
        )
        for i in range(met + missed)
    )
