"""Alert rules as code: who hears of warnings, breaches and escalations, or every problem."""

import re
import textwrap
from pathlib import Path

import pytest

from duly.config import ConfigError, Problem, load_config, load_config_text
from duly.core.agreements import AlertRules, Escalation

HOUR = 3600.0
ROOT = Path(__file__).resolve().parents[2]

# One agreement with alert rules and two policies: `urgent` brings its own rules, `rest` inherits.
VALID = """\
agreements:
  - id: gold
    alerts:
      warning: [support-leads]
      breach: [support-leads, pager]
      escalations:
        - after: 1h
          notify: [team-lead]
        - after: 4h
          notify: [manager]
    policies:
      - id: urgent
        when: {field: priority, op: is, value: urgent}
        targets: {first_reply: 30m}
        alerts:
          breach: pager
      - id: rest
        targets: {first_reply: 4h}
"""


def text(yaml: str) -> str:
    return textwrap.dedent(yaml).lstrip("\n")


def problems_in(yaml: str) -> list[Problem]:
    with pytest.raises(ConfigError) as raised:
        load_config_text(text(yaml), source="sla.yaml")
    return raised.value.problems


def the_problem(yaml: str, field: str) -> Problem:
    """The one problem reported, which must be about ``field`` in sla.yaml."""
    problems = problems_in(yaml)
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    assert problems[0].file == "sla.yaml"
    assert problems[0].field == field
    return problems[0]


def with_alerts(block: str) -> str:
    """An agreement whose ``alerts:`` starts on line 3 with the block given (indented under it)."""
    return (
        "agreements:\n"
        "  - id: gold\n"
        "    alerts:\n"
        + textwrap.indent(text(block), "      ")
        + "    policies:\n"
        + "      - {id: all, targets: {first_reply: 4h}}\n"
    )


# --- a valid block ------------------------------------------------------------------------------


def test_an_agreements_alert_block_loads_into_alert_rules():
    agreement = load_config_text(VALID).agreements[0]
    assert agreement.alerts == AlertRules(
        warning=("support-leads",),
        breach=("support-leads", "pager"),
        escalations=(
            Escalation(after=1 * HOUR, notify=("team-lead",)),
            Escalation(after=4 * HOUR, notify=("manager",)),
        ),
    )


def test_a_policys_alert_block_replaces_its_agreements_whole_block():
    agreement = load_config_text(VALID).agreements[0]
    # Only breach was written, so the policy has no warning channels and no escalations.
    assert agreement.alerts_for("urgent") == AlertRules(breach=("pager",))


def test_a_policy_without_alerts_gets_its_agreements_rules():
    agreement = load_config_text(VALID).agreements[0]
    assert agreement.policies[1].alerts is None
    assert agreement.alerts_for("rest") == agreement.alerts


def test_a_policy_can_silence_its_agreements_alerts_with_an_empty_block():
    config = load_config_text(
        text("""
        agreements:
          - id: gold
            alerts: {breach: [pager]}
            policies:
              - {id: quiet, targets: {first_reply: 4h}, alerts: {}}
        """)
    )
    assert config.agreements[0].alerts_for("quiet") == AlertRules()


def test_without_any_alert_block_the_rules_are_empty():
    config = load_config_text("agreements: [{id: gold, policies: [{id: all}]}]\n")
    assert config.agreements[0].alerts is None
    assert config.agreements[0].alerts_for("all") == AlertRules()


def test_asking_for_the_rules_of_a_policy_the_agreement_lacks_is_an_error():
    agreement = load_config_text(VALID).agreements[0]
    with pytest.raises(KeyError, match="'gold' has no policy 'silver'"):
        agreement.alerts_for("silver")


def test_escalation_after_reads_every_duration_syntax():
    config = load_config_text(
        with_alerts("""
        escalations:
          - {after: 90, notify: [a]}
          - {after: PT30M, notify: [b]}
          - {after: 1h30m, notify: [c]}
        """)
    )
    rules = config.agreements[0].alerts_for("all")
    assert [step.after for step in rules.escalations] == [90, 1800, 5400]


def test_the_example_config_pages_on_call_sooner_for_gold_urgent_incidents():
    gold = load_config(ROOT / "examples" / "sla.yaml").agreements[0]
    assert gold.alerts_for("emea").escalations[0] == Escalation(1 * HOUR, ("team-lead",))
    urgent = gold.alerts_for("urgent")
    assert urgent.breach == ("pager",)
    assert [step.after for step in urgent.escalations] == [15 * 60, 1 * HOUR]


def test_the_configuration_docs_examples_of_alert_rules_load():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    complete = load_config_text(blocks[0]).agreements[0]
    assert complete.alerts_for("standard").breach == ("support-leads", "pager")
    assert complete.alerts_for("urgent").breach == ("pager",)
    (section,) = [b for b in blocks if b.startswith("alerts:")]
    agreement = load_config_text(
        "agreements:\n  - id: gold\n" + textwrap.indent(section, "    ")
    ).agreements[0]
    assert agreement.alerts == load_config_text(VALID).agreements[0].alerts


# --- problems ----------------------------------------------------------------------------------


def test_an_unknown_key_in_alerts_is_named_with_a_suggestion():
    problem = the_problem(with_alerts("breech: [pager]\n"), "agreements[0].alerts.breech")
    assert problem.line == 4
    assert problem.reason == (
        "unknown key (did you mean breach?); expected one of warning, breach, escalations"
    )


def test_alerts_that_is_not_a_mapping_is_refused():
    problem = the_problem(
        "agreements:\n  - id: gold\n    alerts: [pager]\n", "agreements[0].alerts"
    )
    assert problem.line == 3
    assert problem.reason == "must be a mapping of warning, breach, escalations, got a list"


def test_a_channel_name_that_is_not_an_identifier_is_refused():
    problem = the_problem(
        with_alerts("breach: [pager, Support Leads]\n"), "agreements[0].alerts.breach[1]"
    )
    assert problem.line == 4
    assert problem.reason == (
        "'Support Leads' is not a channel name: use lowercase letters, digits, _ and -"
    )


def test_a_channel_that_is_not_text_is_refused():
    problem = the_problem(with_alerts("warning: [42]\n"), "agreements[0].alerts.warning[0]")
    assert problem.reason == "must be a name, got the number 42"


def test_a_channel_listed_twice_is_refused_with_where_it_was_first():
    problem = the_problem(
        with_alerts("""
        warning:
          - pager
          - support-leads
          - pager
        """),
        "agreements[0].alerts.warning[2]",
    )
    assert problem.line == 7
    assert problem.reason == "channel 'pager' is listed twice; first at line 5"


def test_escalations_out_of_order_are_refused_at_the_later_one():
    problem = the_problem(
        with_alerts("""
        escalations:
          - {after: 4h, notify: [manager]}
          - {after: 1h, notify: [team-lead]}
        """),
        "agreements[0].alerts.escalations[1].after",
    )
    assert problem.line == 6
    assert problem.reason == (
        "escalations go in increasing after: 1h comes after 4h (escalations[0], line 5); move it up"
    )


def test_two_escalations_at_the_same_time_are_a_duplicate():
    problem = the_problem(
        with_alerts("""
        escalations:
          - {after: 1h, notify: [team-lead]}
          - {after: 60m, notify: [manager]}
        """),
        "agreements[0].alerts.escalations[1].after",
    )
    assert problem.line == 6
    assert problem.reason == (
        "duplicate escalation: 1h is also the after of escalations[0] (line 5); "
        "merge their notify lists"
    )


def test_each_escalation_is_compared_with_the_latest_before_it():
    problems = problems_in(
        with_alerts("""
        escalations:
          - {after: 4h, notify: [a]}
          - {after: 1h, notify: [b]}
          - {after: 2h, notify: [c]}
        """)
    )
    # 2h follows the misplaced 1h but is still earlier than 4h, the latest so far.
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].alerts.escalations[1].after", 6),
        ("agreements[0].alerts.escalations[2].after", 7),
    ]
    assert "2h comes after 4h (escalations[0], line 5)" in problems[1].reason


@pytest.mark.parametrize(
    ("after", "reason"),
    [
        ("0", "must be longer than zero, got 0"),
        ("0m", "must be longer than zero, got '0m'"),
        ("-1h", "cannot read duration '-1h': write it like 8h, 1h30m, 2d, 45m or PT8H30M"),
    ],
)
def test_an_escalation_after_must_be_longer_than_zero(after, reason):
    problem = the_problem(
        with_alerts(f"escalations: [{{after: {after}, notify: [manager]}}]\n"),
        "agreements[0].alerts.escalations[0].after",
    )
    assert problem.line == 4
    assert problem.reason == reason


def test_an_escalation_without_after_says_what_after_is():
    problem = the_problem(
        with_alerts("escalations: [{notify: [manager]}]\n"),
        "agreements[0].alerts.escalations[0].after",
    )
    assert problem.reason == "is required: how long after the breach to escalate"


@pytest.mark.parametrize("notify", ["", "notify: [], ", "notify: null, "])
def test_an_escalation_must_notify_someone(notify):
    problem = the_problem(
        with_alerts(f"escalations: [{{{notify}after: 1h}}]\n"),
        "agreements[0].alerts.escalations[0].notify",
    )
    assert problem.reason == "is required: the channels to escalate to"


def test_an_unknown_key_in_an_escalation_is_refused():
    problem = the_problem(
        with_alerts("escalations: [{after: 1h, notify: [manager], level: 2}]\n"),
        "agreements[0].alerts.escalations[0].level",
    )
    assert problem.reason == "unknown key; expected one of after, notify"


def test_escalations_must_be_a_list():
    problem = the_problem(
        with_alerts("escalations: {after: 1h, notify: [manager]}\n"),
        "agreements[0].alerts.escalations",
    )
    assert problem.reason == "must be a list of escalations, got a mapping"


def test_each_escalation_must_be_a_mapping():
    problem = the_problem(with_alerts("escalations: [1h]\n"), "agreements[0].alerts.escalations[0]")
    assert problem.reason == "an escalation is a mapping of after and notify, got the text '1h'"


def test_a_policys_alert_problems_are_located_under_the_policy():
    problem = the_problem(
        """\
        agreements:
          - id: gold
            policies:
              - id: all
                targets: {first_reply: 4h}
                alerts:
                  escalations:
                    - {after: 2h, notify: [manager]}
                    - {after: 3h, notify: [Team Lead]}
        """,
        "agreements[0].policies[0].alerts.escalations[1].notify[0]",
    )
    assert problem.line == 9
    assert problem.reason.startswith("'Team Lead' is not a channel name")


def test_every_alert_problem_is_reported_at_once_in_line_order():
    problems = problems_in(
        with_alerts("""
        warning: [Pager]
        breach: [pager, pager]
        escalations:
          - {after: 0, notify: [manager]}
        """)
    )
    assert [(p.line, p.field) for p in problems] == [
        (4, "agreements[0].alerts.warning[0]"),
        (5, "agreements[0].alerts.breach[1]"),
        (7, "agreements[0].alerts.escalations[0].after"),
    ]
