"""SLA-as-code: the YAML a team writes becomes the agreements it meant, or every problem."""

import hashlib
import re
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from duly.config import ConfigError, Problem, check_config, load_config, load_config_text
from duly.core.agreements import (
    Agreement,
    CustomMetric,
    Party,
    Policy,
    RateTarget,
    Target,
    Warning,
)
from duly.core.conditions import parse_condition
from duly.core.durations import parse_duration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sla.yaml"
HOUR = 3600.0


def text(yaml: str) -> str:
    """The YAML with its indentation removed and its first line numbered 1."""
    return textwrap.dedent(yaml).lstrip("\n")


def problems_in(yaml: str) -> list[Problem]:
    with pytest.raises(ConfigError) as raised:
        load_config_text(text(yaml), source="sla.yaml")
    return raised.value.problems


def the_problem(yaml: str, field: str) -> Problem:
    """The one problem reported for ``field``."""
    problems = problems_in(yaml)
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, "\n".join(str(p) for p in problems)
    assert found[0].file == "sla.yaml"
    return found[0]


def one_agreement(yaml: str):
    config = load_config_text(text(yaml))
    assert len(config.agreements) == 1
    return config.agreements[0]


# --- the example --------------------------------------------------------------------------------


def test_the_example_loads_three_customer_tiers_and_the_ola_behind_them():
    config = load_config(EXAMPLE)
    assert [a.id for a in config.agreements] == ["gold", "silver", "bronze", "second-line"]
    assert set(config.calendars) == {"stockholm", "new_york"}
    assert config.priorities == ("low", "normal", "high", "urgent")
    ola = config.agreements[3]
    assert ola.kind == "ola"
    assert ola.team == "second-line"
    assert ola.supports == ("gold", "silver")
    assert "second_line_pickup" in config.custom_metrics


def test_the_example_has_no_problems():
    assert check_config(EXAMPLE) == []


def test_the_complete_example_in_the_configuration_docs_loads():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)[0]
    config = load_config_text(example, source="docs/configuration.md")
    assert [a.id for a in config.agreements] == ["acme-gold", "second-line"]


def test_the_example_maps_a_typical_help_desks_statuses_onto_dulys():
    config = load_config(EXAMPLE)
    assert config.status_of("Waiting on customer") == "pending"
    assert config.status_of("Waiting on vendor") == "on_hold"
    assert config.status_of("Resolved") == "solved"


def test_the_example_counts_in_two_time_zones_with_their_holidays():
    config = load_config(EXAMPLE)
    assert config.calendar("stockholm").timezone == "Europe/Stockholm"
    assert config.calendar("new_york").timezone == "America/New_York"
    assert date(2026, 6, 19) in config.calendar("stockholm").holidays  # Midsummer Eve
    assert date(2026, 7, 3) in config.calendar("new_york").holidays  # Independence Day observed


def test_the_example_gold_tier_answers_urgent_tickets_around_the_clock():
    gold = load_config(EXAMPLE).agreements[0]
    urgent = gold.policies[0]
    assert urgent.when == parse_condition({"field": "priority", "op": "is", "value": "urgent"})
    first_reply = urgent.targets[0]
    assert first_reply.metric == "first_reply"
    assert first_reply.calendar == "24x7"
    assert first_reply.duration_for("urgent") == 0.5 * HOUR
    assert gold.policies[1].targets[0].duration_for("high") == HOUR
    assert gold.policies[1].rate_targets[0].within_for("normal") == 16 * HOUR


# --- every field into the model -----------------------------------------------------------------

FULL = """
priorities: [low, normal, high, urgent]
statuses:
  Awaiting customer: pending
  "On hold": on_hold
calendars:
  stockholm:
    timezone: Europe/Stockholm
    week: {mon: ["08:00-17:00"], tue: ["08:00-17:00"]}
metrics:
  handover:
    start: {field: group, op: is, value: second-line}
    stop: {field: event.type, op: is, value: comment.added}
    pause: {field: status, op: is, value: pending}
    repeat: true
agreements:
  - id: acme-gold
    name: Acme Gold support
    kind: sla
    level: corporate
    status: draft
    parties:
      - {name: Acme AB, role: customer, contact: it@acme.example}
      - {name: Support team, role: provider}
      - Legal
    services: [E-mail support, Phone support]
    description: Everything Acme buys from us.
    owner: jane@example.com
    effective: {from: 2026-01-01, to: "2026-12-31"}
    review: 12 months
    scope: {field: organization, op: is, value: Acme}
    team: first-line
    policies:
      - id: urgent
        name: Urgent and high
        when: {field: priority, op: in, value: [urgent, high]}
        targets:
          first_reply:
            within: {urgent: 1h, high: 4h, "*": 8h}
            calendar: stockholm
            warn: [75%, 30m]
            pause_on: [pending, on_hold]
            on_change: restart
            max_pause: 3d
          handover: 2h
        rate_targets:
          - {metric: resolution, percent: 95, within: {high: 8h, "*": 2d}, period: quarter,
             calendar: stockholm}
          - {metric: first_reply, percent: "99.5%", within: 1h}
      - id: rest
"""


def test_every_agreement_field_is_read_into_the_model():
    config = load_config_text(text(FULL))
    assert config.agreements[0] == Agreement(
        id="acme-gold",
        name="Acme Gold support",
        kind="sla",
        level="corporate",
        status="draft",
        parties=(
            Party("Acme AB", "customer", "it@acme.example"),
            Party("Support team", "provider"),
            Party("Legal"),
        ),
        services=("E-mail support", "Phone support"),
        description="Everything Acme buys from us.",
        owner="jane@example.com",
        effective_from=date(2026, 1, 1),
        effective_to=date(2026, 12, 31),
        review_months=12,
        scope=parse_condition({"field": "organization", "op": "is", "value": "Acme"}),
        team="first-line",
        supports=(),
        policies=config.agreements[0].policies,
    )


def test_a_policy_is_read_with_its_when_targets_and_rate_targets_in_seconds():
    urgent, rest = load_config_text(text(FULL)).agreements[0].policies
    assert urgent == Policy(
        id="urgent",
        name="Urgent and high",
        when=parse_condition({"field": "priority", "op": "in", "value": ["urgent", "high"]}),
        targets=(
            Target(
                metric="first_reply",
                durations={"urgent": HOUR, "high": 4 * HOUR, "*": 8 * HOUR},
                calendar="stockholm",
                warnings=(Warning(percent=75.0), Warning(before=1800.0)),
                pause_on=frozenset({"pending", "on_hold"}),
                on_change="restart",
                max_pause=3 * 86400.0,
            ),
            Target(metric="handover", durations={"*": 2 * HOUR}),
        ),
        rate_targets=(
            RateTarget(
                metric="resolution",
                percent=95.0,
                within={"high": 8 * HOUR, "*": 2 * 86400.0},
                period="quarter",
                calendar="stockholm",
            ),
            RateTarget(metric="first_reply", percent=99.5, within={"*": HOUR}),
        ),
    )
    assert rest == Policy(id="rest")


def test_statuses_priorities_calendars_and_custom_metrics_are_read():
    config = load_config_text(text(FULL))
    assert config.priorities == ("low", "normal", "high", "urgent")
    assert dict(config.statuses) == {"Awaiting customer": "pending", "On hold": "on_hold"}
    assert config.calendar("stockholm").week[0] == ((480, 1020),)
    assert config.custom_metrics["handover"] == CustomMetric(
        name="handover",
        start=parse_condition({"field": "group", "op": "is", "value": "second-line"}),
        stop=parse_condition({"field": "event.type", "op": "is", "value": "comment.added"}),
        pause=parse_condition({"field": "status", "op": "is", "value": "pending"}),
        repeat=True,
    )


def test_an_agreement_with_only_an_id_gets_the_documented_defaults():
    agreement = one_agreement("""
        agreements:
          - id: basic
            policies:
              - id: all
                targets:
                  resolution: {within: 2d}
                rate_targets:
                  - {metric: resolution, percent: 90, within: 2d}
    """)
    assert agreement.kind == "sla"
    assert agreement.level == "customer"
    assert agreement.status == "active"
    assert (agreement.name, agreement.owner, agreement.description) == ("", "", "")
    assert agreement.effective_from is None
    assert agreement.effective_to is None
    assert agreement.review_months is None
    assert agreement.scope is None
    assert agreement.team is None
    policy = agreement.policies[0]
    assert policy.when is None
    target = policy.targets[0]
    assert target.durations == {"*": 2 * 86400.0}
    assert target.calendar == "24x7"
    assert target.warnings == ()
    assert target.pause_on is None
    assert target.on_change == "retarget"
    assert target.max_pause is None
    rate = policy.rate_targets[0]
    assert (rate.period, rate.calendar) == ("month", "24x7")


def test_a_config_without_calendars_or_statuses_has_empty_ones_and_24x7_still_exists():
    config = load_config_text("agreements: []\n")
    assert config.agreements == ()
    assert dict(config.calendars) == {}
    assert dict(config.statuses) == {}
    assert config.priorities == ()
    assert config.calendar("24x7").is_open(datetime(2026, 12, 25, 3, tzinfo=UTC))


def test_an_empty_pause_on_means_the_clock_never_pauses():
    agreement = one_agreement("""
        agreements:
          - id: a
            policies:
              - id: p
                targets: {agent_work: {within: 8h, pause_on: []}}
    """)
    assert agreement.policies[0].targets[0].pause_on == frozenset()


@pytest.mark.parametrize(
    ("written", "months"),
    [
        ("12", 12),
        ("'12 months'", 12),
        ("'1 month'", 1),
        ("'6 months'", 6),
        ("'1 year'", 12),
        ("'2 years'", 24),
        ("quarterly", 3),
        ("yearly", 12),
    ],
)
def test_a_review_interval_is_read_in_months(written, months):
    agreement = one_agreement(f"agreements: [{{id: a, review: {written}}}]\n")
    assert agreement.review_months == months


def test_a_single_name_is_accepted_where_a_list_is_expected():
    config = load_config_text(
        text("""
        agreements:
          - {id: gold}
          - {id: backing, kind: ola, team: l2, supports: gold, services: Phone support}
        """)
    )
    assert config.agreements[1].supports == ("gold",)
    assert config.agreements[1].services == ("Phone support",)


def test_the_version_is_the_sha256_of_the_source_text():
    source = text(FULL)
    config = load_config_text(source)
    assert config.version == hashlib.sha256(source.encode()).hexdigest()
    assert load_config_text(source + "\n# a comment\n").version != config.version


def test_a_file_and_its_text_load_to_the_same_config_and_version(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(text(FULL), encoding="utf-8")
    from_file, from_text = load_config(path), load_config_text(text(FULL))
    assert from_file.agreements == from_text.agreements
    assert from_file.custom_metrics == from_text.custom_metrics
    assert from_file.version == from_text.version
    assert from_file.calendar("stockholm").week == from_text.calendar("stockholm").week


# --- problems, each with its line and reason ------------------------------------------------


def test_a_yaml_syntax_error_is_reported_with_its_line():
    problems = problems_in("""
        agreements:
          - id: a
            name: [unclosed
          - id: b
    """)
    assert len(problems) == 1
    assert problems[0].file == "sla.yaml"
    assert problems[0].line == 4
    assert problems[0].reason.startswith("not valid YAML")


def test_an_unknown_top_level_key_is_reported_with_the_keys_allowed():
    problem = the_problem(
        """
        priorities: [low, high]
        agreement:
          - id: a
        """,
        "agreement",
    )
    assert problem.line == 2
    assert "unknown key (did you mean agreements?)" in problem.reason
    assert "priorities, statuses, calendars, metrics, agreements" in problem.reason


def test_unknown_keys_inside_agreements_policies_and_targets_are_reported():
    problems = problems_in("""
        agreements:
          - id: a
            sla_owner: jane
            policies:
              - id: p
                conditions: {field: priority, op: is, value: high}
                targets:
                  resolution: {within: 8h, warning: [75%]}
    """)
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].sla_owner", 3),
        ("agreements[0].policies[0].conditions", 6),
        ("agreements[0].policies[0].targets.resolution.warning", 8),
    ]
    assert all(p.reason.startswith("unknown key") for p in problems)


def test_an_unknown_calendar_is_reported_where_it_is_referenced():
    yaml = """
        calendars:
          stockholm: {timezone: Europe/Stockholm, week: {mon: ["08:00-17:00"]}}
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  resolution:
                    within: 8h
                    calendar: stokholm
                rate_targets:
                  - {metric: resolution, percent: 95, within: 8h, calendar: office}
    """
    target = the_problem(yaml, "agreements[0].policies[0].targets.resolution.calendar")
    assert target.line == 10
    assert target.reason.startswith("unknown calendar 'stokholm' (did you mean stockholm?)")
    assert "24x7, stockholm" in target.reason
    rate = the_problem(yaml, "agreements[0].policies[0].rate_targets[0].calendar")
    assert rate.line == 12


def test_the_always_open_calendar_cannot_be_redefined():
    problem = the_problem(
        """
        calendars:
          24x7: {timezone: Europe/Stockholm, week: {mon: ["08:00-17:00"]}}
        """,
        "calendars.24x7",
    )
    assert problem.line == 2
    assert "'24x7' is built in and always open" in problem.reason


def test_a_calendar_spec_problem_keeps_the_calendar_specs_field_path_and_gets_a_line():
    problem = the_problem(
        """
        calendars:
          office:
            timezone: Europe/Stokholm
            week: {mon: ["08:00-17:00"]}
        """,
        "calendars.office.timezone",
    )
    assert problem.line == 3
    assert "unknown time zone" in problem.reason


def test_an_unknown_metric_is_reported_and_a_custom_one_is_known():
    yaml = """
        metrics:
          handover:
            start: {field: group, op: is, value: l2}
            stop: {field: event.type, op: is, value: comment.added}
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  first_replay: 1h
                  handover: 2h
                rate_targets:
                  - {metric: handoff, percent: 95, within: 8h}
    """
    problems = problems_in(yaml)
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].policies[0].targets.first_replay", 10),
        ("agreements[0].policies[0].rate_targets[0].metric", 13),
    ]
    assert "unknown metric 'first_replay' (did you mean first_reply?)" in problems[0].reason
    assert "custom: handover" in problems[0].reason


def test_a_duration_that_does_not_parse_gives_the_reason_from_parse_duration():
    problem = the_problem(
        """
        priorities: [low, normal, high, urgent]
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  first_reply:
                    within:
                      urgent: 1h
                      high: 4 hours
        """,
        "agreements[0].policies[0].targets.first_reply.within.high",
    )
    assert problem.line == 10
    with pytest.raises(ValueError, match="cannot read duration") as raised:
        parse_duration("4 hours")
    assert problem.reason == str(raised.value)


def test_a_target_without_within_or_with_an_empty_within_is_reported():
    problems = problems_in("""
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  first_reply: {calendar: 24x7}
                  resolution: {within: {}}
    """)
    assert [(p.field, p.line, p.reason) for p in problems] == [
        (
            "agreements[0].policies[0].targets.first_reply.within",
            6,
            "is required: the target duration, or one per priority",
        ),
        (
            "agreements[0].policies[0].targets.resolution.within",
            7,
            "give a duration, or a mapping of priority to duration",
        ),
    ]


def test_a_zero_duration_is_refused_because_it_would_always_be_breached():
    problem = the_problem(
        "agreements: [{id: a, policies: [{id: p, targets: {resolution: 0}}]}]\n",
        "agreements[0].policies[0].targets.resolution",
    )
    assert problem.line == 1
    assert "longer than zero" in problem.reason


@pytest.mark.parametrize("percent", ["0", "-5", "100.5", "'150%'", "'lots'", "true"])
def test_a_percent_outside_zero_to_a_hundred_is_refused(percent):
    problem = the_problem(
        f"""
        agreements:
          - id: a
            policies:
              - id: p
                rate_targets:
                  - metric: resolution
                    within: 8h
                    percent: {percent}
        """,
        "agreements[0].policies[0].rate_targets[0].percent",
    )
    assert problem.line == 8
    assert "at most 100" in problem.reason


def test_a_percent_of_exactly_a_hundred_is_allowed():
    agreement = one_agreement("""
        agreements:
          - id: a
            policies:
              - id: p
                rate_targets: [{metric: resolution, within: 8h, percent: 100}]
    """)
    assert agreement.policies[0].rate_targets[0].percent == 100.0


def test_a_warning_percent_over_a_hundred_and_a_bare_number_are_refused():
    problems = problems_in("""
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  resolution:
                    within: 8h
                    warn:
                      - 120%
                      - 75
    """)
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].policies[0].targets.resolution.warn[0]", 9),
        ("agreements[0].policies[0].targets.resolution.warn[1]", 10),
    ]
    assert "at most 100" in problems[0].reason
    assert "write 75% for a share of the target" in problems[1].reason


@pytest.mark.parametrize(
    ("where", "yaml_line", "field", "allowed"),
    [
        ("agreement", "kind: contract", "agreements[0].kind", "sla, ola, uc"),
        ("agreement", "level: team", "agreements[0].level", "corporate, customer, service"),
        ("agreement", "status: live", "agreements[0].status", "draft, active, expired"),
        (
            "target",
            "on_change: later",
            "agreements[0].policies[0].targets.resolution.on_change",
            "retarget, restart, stricter",
        ),
        (
            "rate",
            "period: fortnight",
            "agreements[0].policies[0].rate_targets[0].period",
            "day, week, month, quarter, year",
        ),
    ],
)
def test_a_bad_enum_value_is_reported_with_the_values_allowed(where, yaml_line, field, allowed):
    agreement_extra = yaml_line if where == "agreement" else "name: x"
    target_extra = yaml_line if where == "target" else "calendar: 24x7"
    rate_extra = yaml_line if where == "rate" else "period: month"
    problem = the_problem(
        f"""
        agreements:
          - id: a
            {agreement_extra}
            policies:
              - id: p
                targets:
                  resolution:
                    within: 8h
                    {target_extra}
                rate_targets:
                  - metric: resolution
                    percent: 90
                    within: 8h
                    {rate_extra}
        """,
        field,
    )
    assert problem.line == {"agreement": 3, "target": 9, "rate": 14}[where]
    value = yaml_line.split(": ")[1]
    assert problem.reason.startswith(f"unknown {field.rpartition('.')[2]} {value!r}")
    assert problem.reason.endswith(f"expected one of {allowed}")


def test_an_unknown_status_is_reported_in_the_statuses_mapping_and_in_pause_on():
    yaml = """
        statuses:
          Awaiting customer: waiting
          Resolved: solved
        agreements:
          - id: a
            policies:
              - id: p
                targets:
                  resolution: {within: 8h, pause_on: [pending, hold]}
    """
    mapping = the_problem(yaml, "statuses.Awaiting customer")
    assert mapping.line == 2
    assert "unknown status 'waiting'" in mapping.reason
    assert "new, open, pending, on_hold, solved, closed" in mapping.reason
    pause = the_problem(yaml, "agreements[0].policies[0].targets.resolution.pause_on[1]")
    assert pause.line == 9
    assert "unknown status 'hold'" in pause.reason


def test_duplicate_agreement_ids_name_where_the_first_is():
    problem = the_problem(
        """
        agreements:
          - id: gold
            name: Gold
          - id: gold
            name: Gold again
        """,
        "agreements[1].id",
    )
    assert problem.line == 4
    assert problem.reason == "duplicate agreement id 'gold'; first defined at line 2"


def test_duplicate_policy_ids_within_an_agreement_are_reported():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: urgent
                when: {field: priority, op: is, value: urgent}
              - id: urgent
                when: {field: priority, op: is, value: high}
        """,
        "agreements[0].policies[1].id",
    )
    assert problem.line == 6
    assert "duplicate policy id 'urgent'" in problem.reason
    assert "line 4" in problem.reason


def test_the_same_policy_id_in_two_agreements_is_fine():
    config = load_config_text(
        text("""
        agreements:
          - {id: gold, policies: [{id: all}]}
          - {id: silver, policies: [{id: all}]}
        """)
    )
    assert [a.policies[0].id for a in config.agreements] == ["all", "all"]


def test_a_missing_or_malformed_id_is_reported_on_the_agreements_and_policys_line():
    problems = problems_in("""
        agreements:
          - name: No id
            policies:
              - name: no id either
          - id: Acme Gold
    """)
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].id", 2),
        ("agreements[0].policies[0].id", 4),
        ("agreements[1].id", 5),
    ]
    assert problems[0].reason == "is required: every agreement has an id"
    assert "lowercase letters, digits, _ and -" in problems[2].reason


def test_an_effective_from_after_its_to_is_reported():
    problem = the_problem(
        """
        agreements:
          - id: a
            effective:
              from: 2026-12-31
              to: 2026-01-01
        """,
        "agreements[0].effective",
    )
    assert problem.line == 3
    assert "from 2026-12-31 is after to 2026-01-01" in problem.reason


def test_an_impossible_date_is_reported_with_its_line():
    problem = the_problem(
        """
        agreements:
          - id: a
            effective: {from: 2026-13-01}
        """,
        "agreements[0].effective.from",
    )
    assert problem.line == 3
    assert problem.reason == "'2026-13-01' is not a date in YYYY-MM-DD"


def test_an_unreadable_review_interval_is_reported():
    problem = the_problem("agreements: [{id: a, review: soon}]\n", "agreements[0].review")
    assert "cannot read review interval 'soon'" in problem.reason


def test_a_policy_after_one_without_when_can_never_match():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: everything
              - id: urgent
                when: {field: priority, op: is, value: urgent}
        """,
        "agreements[0].policies[1]",
    )
    assert problem.line == 5
    assert "can never match" in problem.reason
    assert "the earlier policy 'everything' (policies[0]) matches every ticket" in problem.reason


def test_a_policy_after_one_whose_when_is_always_true_can_never_match():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: catch-all
                when: {all: []}
              - id: urgent
                when: {field: priority, op: is, value: urgent}
        """,
        "agreements[0].policies[1]",
    )
    assert "'catch-all'" in problem.reason


def test_a_policy_with_the_same_when_as_an_earlier_one_can_never_match():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: vip
                when: {field: tags, op: contains, value: vip}
              - id: urgent
                when: {field: priority, op: is, value: urgent}
              - id: vip-again
                when: {field: tags, op: contains, value: vip}
        """,
        "agreements[0].policies[2]",
    )
    assert problem.line == 8
    assert "the earlier policy 'vip' (policies[0]) has the same when" in problem.reason


def test_a_catch_all_policy_after_narrower_ones_is_fine():
    agreement = one_agreement("""
        agreements:
          - id: gold
            policies:
              - id: urgent
                when: {field: priority, op: is, value: urgent}
              - id: vip
                when: {field: tags, op: contains, value: vip}
              - id: rest
    """)
    assert [p.id for p in agreement.policies] == ["urgent", "vip", "rest"]


def test_a_policy_whose_when_matches_nothing_is_reported():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: nothing
                when: {any: []}
        """,
        "agreements[0].policies[0]",
    )
    assert problem.reason == "can never match: its when matches no ticket"


OLA = """
priorities: [low, normal, high, urgent]
calendars:
  stockholm: {{timezone: Europe/Stockholm, week: {{mon: ["08:00-17:00"]}}}}
agreements:
  - id: gold
    policies:
      - id: urgent
        when: {{field: priority, op: is, value: urgent}}
        targets:
          resolution: 2h
      - id: rest
        targets:
          resolution: {{within: {{high: 4h, "*": 8h}}, calendar: stockholm}}
  - id: second-line
    kind: ola
    team: second-line
    supports: [gold]
    policies:
      - id: all
        targets:
          resolution:
            within: {ola}
            calendar: {calendar}
"""


def test_an_ola_looser_than_the_sla_it_supports_names_both_metric_priority_and_durations():
    problem = the_problem(
        OLA.format(ola="{urgent: 1h, high: 6h, '*': 4h}", calendar="stockholm"),
        "agreements[1].policies[0].targets.resolution.within.high",
    )
    assert problem.line == 22
    assert problem.reason == (
        "the OLA 'second-line' is looser than the SLA 'gold' it supports: resolution for "
        "priority high is 6h in 'second-line' (policy 'all') but 4h in 'gold' (policy 'rest')"
    )


def test_an_ola_looser_than_the_sla_notes_when_the_calendars_differ():
    problems = problems_in(OLA.format(ola="{urgent: 3h, '*': 1h}", calendar="24x7"))
    assert [p.field for p in problems] == [
        "agreements[1].policies[0].targets.resolution.within.urgent"
    ]
    reason = problems[0].reason
    assert "priority urgent is 3h in 'second-line'" in reason
    assert "2h in 'gold' (policy 'urgent')" in reason
    assert "calendars differ" not in reason  # gold's urgent policy counts in 24x7 too
    problems = problems_in(OLA.format(ola="5h", calendar="24x7"))
    by_field = {p.field: p.reason for p in problems}
    assert set(by_field) == {"agreements[1].policies[0].targets.resolution.within"}
    assert len(problems) == 2  # urgent (vs 2h) and high (vs 4h), not normal or low (8h)
    assert any("calendars differ (24x7 and stockholm)" in p.reason for p in problems)


def test_an_ola_at_least_as_strict_as_the_sla_is_fine():
    config = load_config_text(
        text(OLA.format(ola="{urgent: 2h, high: 4h, '*': 8h}", calendar="24x7"))
    )
    assert config.agreements[1].supports == ("gold",)


def test_an_sla_policy_for_other_priorities_does_not_bind_the_ola():
    # gold's 2h applies only to urgent tickets, so a 3h OLA target for high is compared with 4h.
    config = load_config_text(
        text(OLA.format(ola="{urgent: 1h, high: 3h, '*': 8h}", calendar="stockholm"))
    )
    assert len(config.agreements) == 2


def test_an_sla_policy_for_priorities_at_or_above_high_follows_the_priorities_order():
    yaml = """
        priorities: [low, normal, high, urgent]
        agreements:
          - id: gold
            policies:
              - id: high-and-up
                when: {{field: priority, op: gte, value: high}}
                targets: {{first_reply: 1h}}
              - id: rest
                targets: {{first_reply: 4h}}
          - id: l2
            kind: ola
            team: l2
            supports: [gold]
            policies:
              - id: all
                targets: {{first_reply: {{within: {ola}}}}}
    """
    assert load_config_text(text(yaml.format(ola="{urgent: 1h, high: 1h, '*': 2h}")))
    problems = problems_in(yaml.format(ola="{urgent: 1h, high: 2h, '*': 2h}"))
    assert [p.field for p in problems] == [
        "agreements[1].policies[0].targets.first_reply.within.high"
    ]
    assert "2h in 'l2' (policy 'all') but 1h in 'gold' (policy 'high-and-up')" in problems[0].reason


def test_an_underpinning_contract_is_compared_with_what_it_supports_like_an_ola():
    problem = the_problem(
        """
        agreements:
          - {id: gold, policies: [{id: all, targets: {resolution: 8h}}]}
          - id: hosting-vendor
            kind: uc
            supports: [gold]
            policies: [{id: all, targets: {resolution: 1d}}]
        """,
        "agreements[1].policies[0].targets.resolution",
    )
    assert problem.line == 6
    assert problem.reason.startswith("the UC 'hosting-vendor' is looser than the SLA 'gold'")
    assert "for priorities not listed ('*') is 1d in 'hosting-vendor'" in problem.reason


def test_an_ola_without_a_team_is_reported():
    problem = the_problem(
        """
        agreements:
          - id: second-line
            kind: ola
        """,
        "agreements[0].team",
    )
    assert problem.line == 2
    assert "is required for an OLA" in problem.reason


def test_supports_naming_an_unknown_agreement_is_reported():
    problem = the_problem(
        """
        agreements:
          - id: gold
          - id: second-line
            kind: ola
            team: l2
            supports:
              - gold
              - silver
        """,
        "agreements[1].supports[1]",
    )
    assert problem.line == 8
    assert problem.reason == "unknown agreement 'silver'"


def test_an_agreement_cannot_support_itself():
    problem = the_problem(
        "agreements: [{id: l2, kind: ola, team: l2, supports: [l2]}]\n",
        "agreements[0].supports[0]",
    )
    assert problem.reason == "an agreement cannot support itself"


def test_a_condition_error_is_reported_at_its_path_inside_the_policy():
    problem = the_problem(
        """
        agreements:
          - id: gold
            scope: {field: organization, op: is, value: Acme}
            policies:
              - id: urgent
                when:
                  all:
                    - {field: priority, op: is, value: urgent}
                    - {field: tags, op: has, value: vip}
        """,
        "agreements[0].policies[0].when.all[1].op",
    )
    assert problem.line == 9
    assert problem.reason.startswith("unknown op 'has'")


def test_a_scope_condition_error_is_reported_at_its_path():
    problem = the_problem(
        "agreements: [{id: gold, scope: {field: org, op: is, value: Acme}}]\n",
        "agreements[0].scope.field",
    )
    assert "unknown field 'org'" in problem.reason


def test_event_fields_in_a_when_are_reported_because_they_never_match_a_ticket():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: replies
                when: {field: event.actor, op: is, value: agent}
        """,
        "agreements[0].policies[0].when",
    )
    assert problem.line == 5
    assert "event.actor" in problem.reason
    assert "custom metric" in problem.reason


def test_an_unknown_priority_in_a_condition_is_reported_when_priorities_are_given():
    problem = the_problem(
        """
        priorities: [low, normal, high, urgent]
        agreements:
          - id: gold
            policies:
              - id: urgent
                when: {field: priority, op: in, value: [urgent, hgh]}
        """,
        "agreements[0].policies[0].when.value[1]",
    )
    assert problem.line == 6
    assert problem.reason.startswith("unknown priority 'hgh' (did you mean high?)")


def test_custom_metric_problems_are_reported():
    problems = problems_in("""
        metrics:
          resolution:
            start: {field: group, op: present}
            stop: {field: group, op: absent}
          handover:
            start: {field: group, op: is, value: l2}
            repeat: sometimes
          pickup:
            start: {field: group, op: is, value: l2}
            stop: {field: event.kind, op: is, value: comment.added}
    """)
    assert [(p.field, p.line) for p in problems] == [
        ("metrics.resolution", 2),
        ("metrics.handover.stop", 5),
        ("metrics.handover.repeat", 7),
        ("metrics.pickup.stop.field", 10),
    ]
    assert "'resolution' is a built-in metric" in problems[0].reason
    assert problems[1].reason.startswith("is required")
    assert "true or false" in problems[2].reason
    assert "unknown field 'event.kind'" in problems[3].reason


def test_a_priority_in_a_within_mapping_must_be_a_known_priority():
    problem = the_problem(
        """
        priorities: [low, normal, high, urgent]
        agreements:
          - id: gold
            policies:
              - id: all
                targets:
                  first_reply: {within: {urgent: 1h, P2: 4h, "*": 8h}}
        """,
        "agreements[0].policies[0].targets.first_reply.within.P2",
    )
    assert problem.line == 7
    assert problem.reason == ("unknown priority 'P2'; expected one of low, normal, high, urgent, *")


def test_any_priority_name_is_allowed_in_within_when_priorities_are_not_given():
    agreement = one_agreement("""
        agreements:
          - id: gold
            policies:
              - id: all
                targets:
                  first_reply: {within: {P1: 1h, P2: 4h}}
    """)
    assert agreement.policies[0].targets[0].duration_for("P2") == 4 * HOUR


def test_a_key_given_twice_in_one_mapping_is_reported():
    problem = the_problem(
        """
        agreements:
          - id: gold
            policies:
              - id: all
                targets:
                  resolution: 8h
                  resolution: 4h
        """,
        "agreements[0].policies[0].targets.resolution",
    )
    assert problem.line == 7
    assert "given twice in one mapping (first on line 6)" in problem.reason


def test_yaml_anchors_and_merge_keys_can_share_a_target_between_policies():
    yaml = """
        agreements:
          - id: gold
            policies:
              - id: urgent
                when: {field: priority, op: is, value: urgent}
                targets:
                  resolution: &business {within: 8h, calendar: office, warn: [75%]}
              - id: rest
                targets:
                  resolution:
                    <<: *business
                    within: 2d
    """
    problems = problems_in(yaml)
    assert [(p.field, p.line) for p in problems] == [
        ("agreements[0].policies[0].targets.resolution.calendar", 7),
        ("agreements[0].policies[1].targets.resolution.calendar", 10),
    ]
    fixed = load_config_text(text(yaml.replace("calendar: office", "calendar: 24x7")))
    rest = fixed.agreements[0].policies[1].targets[0]
    assert (rest.durations, rest.warnings) == ({"*": 2 * 86400.0}, (Warning(percent=75.0),))


def test_every_problem_is_listed_at_once_in_line_order():
    problems = problems_in("""
        priorities: [low, high]
        colours: red
        agreements:
          - id: gold
            kind: gold
            policies:
              - id: all
                targets:
                  first_reply: {within: 1x, calendar: nowhere}
    """)
    assert [p.line for p in problems] == [2, 5, 9, 9]
    assert str(problems[0]) == (
        "sla.yaml:2: colours: unknown key; expected one of priorities, statuses, calendars, "
        "metrics, agreements"
    )


def test_sections_of_the_wrong_shape_are_reported():
    problems = problems_in("""
        priorities: [low, low, "*"]
        statuses: [pending]
        agreements: {id: gold}
    """)
    assert [(p.field, p.line) for p in problems] == [
        ("priorities[1]", 1),
        ("priorities[2]", 1),
        ("statuses", 2),
        ("agreements", 3),
    ]
    assert problems[0].reason == "priority 'low' is listed twice"
    assert problems[3].reason == "must be a list of agreements, got a mapping"


@pytest.mark.parametrize(
    ("yaml", "field", "reason"),
    [
        ("agreements: [gold]", "agreements[0]", "an agreement is a mapping with an id"),
        ("agreements: [{id: a, name: [x]}]", "agreements[0].name", "must be text, got a list"),
        ("agreements: [{id: a, parties: Acme}]", "agreements[0].parties", "must be a list"),
        (
            "agreements: [{id: a, parties: [{role: customer}]}]",
            "agreements[0].parties[0].name",
            "is required",
        ),
        ("agreements: [{id: a, parties: [7]}]", "agreements[0].parties[0]", "a party is a name"),
        ("agreements: [{id: a, services: {a: b}}]", "agreements[0].services", "must be a list"),
        ("agreements: [{id: a, services: ['']}]", "agreements[0].services[0]", "must be a name"),
        ("agreements: [{id: a, effective: 2026}]", "agreements[0].effective", "must be a mapping"),
        (
            "agreements: [{id: a, effective: {from: 2026-01-01T08:00:00}}]",
            "agreements[0].effective.from",
            "not a date and time",
        ),
        ("agreements: [{id: a, review: 0}]", "agreements[0].review", "cannot read review"),
        ("agreements: [{id: a, policies: {id: p}}]", "agreements[0].policies", "must be a list"),
        ("agreements: [{id: a, policies: [p]}]", "agreements[0].policies[0]", "a policy is a"),
        (
            "agreements: [{id: a, policies: [{id: p, targets: [resolution]}]}]",
            "agreements[0].policies[0].targets",
            "must map metrics to targets",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, targets: {resolution: "
            "{within: {true: 1h}}}}]}]",
            "agreements[0].policies[0].targets.resolution.within.True",
            "a priority is a name",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, targets: {resolution: {within: [1h]}}}]}]",
            "agreements[0].policies[0].targets.resolution.within",
            "must be a duration like 8h, 1h30m, 2d or PT8H30M, got a list",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, targets: {resolution: "
            "{within: 1h, warn: 2x}}}]}]",
            "agreements[0].policies[0].targets.resolution.warn",
            "cannot read duration '2x'",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, targets: {resolution: {within: 1h, "
            "pause_on: {a: b}}}}]}]",
            "agreements[0].policies[0].targets.resolution.pause_on",
            "must be a list of statuses",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, targets: {resolution: {within: 1h, "
            "pause_on: waiting}}}]}]",
            "agreements[0].policies[0].targets.resolution.pause_on",
            "unknown status 'waiting'",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, rate_targets: {metric: resolution}}]}]",
            "agreements[0].policies[0].rate_targets",
            "must be a list of rate targets",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, rate_targets: [resolution]}]}]",
            "agreements[0].policies[0].rate_targets[0]",
            "a rate target is a mapping",
        ),
        (
            "agreements: [{id: a, policies: [{id: p, rate_targets: [{metric: resolution, "
            "within: 1h}]}]}]",
            "agreements[0].policies[0].rate_targets[0].percent",
            "is required",
        ),
        ("metrics: {pickup: yes}", "metrics.pickup", "must be a mapping of start, stop"),
        (
            "metrics: {Pick Up: {start: {field: group, op: present}, stop: {field: group, "
            "op: absent}}}",
            "metrics.Pick Up",
            "a metric name is lowercase",
        ),
        ("statuses: {yes: solved}", "statuses.True", "a name is text; quote it"),
        ("priorities: low", "priorities", "must be a list of priority names"),
        ("priorities: [1, 2]", "priorities[0]", 'quote numbers: "1"'),
        (
            "agreements: [{id: a, kind: ola, team: l2, supports: {gold: 1}}]",
            "agreements[0].supports",
            "must be a list of names",
        ),
    ],
)
def test_a_value_of_the_wrong_shape_is_reported_with_what_to_write(yaml, field, reason):
    problem = the_problem(yaml + "\n", field)
    assert problem.line == 1
    assert reason in problem.reason


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_bytes(b"agreements: [{id: caf\xe9}]\n")
    assert check_config(path) == [
        Problem("", "cannot read file: it is not UTF-8 text", file=str(path))
    ]


def test_a_document_that_is_not_a_mapping_is_reported():
    problems = problems_in("- id: gold\n")
    assert problems == [
        Problem(
            "",
            "the file must be a mapping of priorities, statuses, calendars, metrics, "
            "agreements, got a list",
            file="sla.yaml",
            line=1,
        )
    ]


# --- files and folders --------------------------------------------------------------------------


def write(folder: Path, name: str, yaml: str) -> Path:
    path = folder / name
    path.write_text(text(yaml), encoding="utf-8")
    return path


def test_a_folders_files_are_merged_in_name_order(tmp_path):
    write(
        tmp_path,
        "10-calendars.yaml",
        """
        priorities: [low, high]
        statuses: {Waiting: pending}
        calendars:
          office: {timezone: Europe/Stockholm, week: {mon: ["08:00-17:00"]}}
        """,
    )
    write(
        tmp_path,
        "20-gold.yml",
        """
        agreements:
          - id: gold
            policies: [{id: all, targets: {resolution: {within: {high: 4h}, calendar: office}}}]
        """,
    )
    write(tmp_path, "30-silver.yaml", "agreements: [{id: silver}]\n")
    (tmp_path / "notes.txt").write_text("not read", encoding="utf-8")
    config = load_config(tmp_path)
    assert [a.id for a in config.agreements] == ["gold", "silver"]
    assert set(config.calendars) == {"office"}
    assert config.priorities == ("low", "high")
    assert config.status_of("Waiting") == "pending"
    texts = [
        (tmp_path / n).read_text() for n in ("10-calendars.yaml", "20-gold.yml", "30-silver.yaml")
    ]
    assert config.version == hashlib.sha256("\0".join(texts).encode()).hexdigest()


def test_names_defined_in_two_files_are_reported_with_both_places(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        """
        priorities: [low, high]
        statuses: {Waiting: pending}
        calendars:
          office: 24x7
        metrics:
          handover: {start: {field: group, op: present}, stop: {field: group, op: absent}}
        agreements:
          - id: gold
        """,
    )
    write(
        tmp_path,
        "b.yaml",
        """
        priorities: [low, high]
        statuses: {Waiting: on_hold}
        calendars:
          office: 24x7
        metrics:
          handover: {start: {field: group, op: present}, stop: {field: group, op: absent}}
        agreements:
          - id: silver
          - id: gold
        """,
    )
    a, b = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    problems = check_config(tmp_path)
    assert [(p.file, p.line, p.field) for p in problems] == [
        (b, 1, "priorities"),
        (b, 2, "statuses.Waiting"),
        (b, 4, "calendars.office"),
        (b, 6, "metrics.handover"),
        (b, 9, "agreements[1].id"),
    ]
    assert problems[0].reason == f"already given at {a}:1; give them once"
    assert problems[2].reason == f"calendar already defined at {a}:4"
    assert problems[4].reason == f"duplicate agreement id 'gold'; first defined at {a}:8"


def test_a_reference_across_files_is_resolved_and_a_problem_names_its_own_file(tmp_path):
    write(tmp_path, "a.yaml", "calendars: {office: 24x7}\n")
    write(
        tmp_path,
        "b.yaml",
        """
        agreements:
          - id: gold
            policies:
              - id: all
                targets:
                  resolution: {within: 8h, calendar: office}
                  first_reply: {within: 1h, calendar: home}
        """,
    )
    problems = check_config(tmp_path)
    assert [(p.file, p.line, p.field) for p in problems] == [
        (str(tmp_path / "b.yaml"), 7, "agreements[0].policies[0].targets.first_reply.calendar")
    ]


def test_syntax_errors_in_several_files_are_all_reported(tmp_path):
    write(tmp_path, "a.yaml", "agreements: [\n")
    write(tmp_path, "b.yaml", "agreements:\n  - id: a\n   name: bad indent\n")
    problems = check_config(tmp_path)
    assert [p.file for p in problems] == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    assert all(p.reason.startswith("not valid YAML") and p.line for p in problems)


def test_an_empty_folder_and_a_missing_path_are_reported(tmp_path):
    assert check_config(tmp_path) == [
        Problem("", "the folder holds no *.yaml or *.yml files", file=str(tmp_path))
    ]
    missing = tmp_path / "nope.yaml"
    assert check_config(missing) == [Problem("", "no such file or folder", file=str(missing))]
