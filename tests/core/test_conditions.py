"""The condition language: what a rule means on a ticket, and what a config author is told."""

import pickle
from typing import Any

import numpy as np
import pytest

from duly.core.conditions import (
    FIELDS,
    OPS,
    TRUE,
    All,
    AnyOf,
    Condition,
    ConditionError,
    Not,
    Rule,
    describe,
    parse_condition,
)

PRIORITY_RANKS = {"priority": {"low": 0, "normal": 1, "high": 2, "urgent": 3}}
KNOWN_FIELDS = (
    "priority, status, group, assignee, organization, requester, channel, tags, custom.NAME, "
    "event.type, event.actor, event.public"
)
KNOWN_OPS = "is, is_not, in, not_in, contains, not_contains, lt, lte, gt, gte, present, absent"


def rule(field: str, op: str, value: Any = None) -> Condition:
    """A rule as a config author writes it, through the parser."""
    raw = (
        {"field": field, "op": op} if value is None else {"field": field, "op": op, "value": value}
    )
    return parse_condition(raw)


def parse_error(raw: Any, path: str = "when") -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        parse_condition(raw, path)
    return caught.value


# --- matching: single values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "op", "value", "actual", "expected"),
    [
        ("priority", "is", "high", "high", True),
        ("priority", "is", "high", "urgent", False),
        ("priority", "is", "high", "High", False),
        ("priority", "is_not", "high", "urgent", True),
        ("priority", "is_not", "high", "high", False),
        ("assignee", "is", 42, 42, True),
        ("assignee", "is", 42, "42", False),
        ("custom.seats", "is", 2, 2.0, True),
        ("group", "in", ["tier1", "tier2"], "tier2", True),
        ("group", "in", ["tier1", "tier2"], "tier3", False),
        ("group", "not_in", ["tier1", "tier2"], "tier3", True),
        ("group", "not_in", ["tier1", "tier2"], "tier1", False),
        ("requester", "contains", "@example.com", "ana@example.com", True),
        ("requester", "contains", "@Example.com", "ana@example.com", False),
        ("requester", "not_contains", "@example.com", "ana@other.org", True),
        ("requester", "not_contains", "@example.com", "ana@example.com", False),
        ("custom.seats", "contains", "1", 10, False),
        ("custom.seats", "gt", 10, 11, True),
        ("custom.seats", "gt", 10, 10, False),
        ("custom.seats", "gte", 10, 10, True),
        ("custom.seats", "lt", 10, 9.5, True),
        ("custom.seats", "lte", 10, 10.5, False),
        ("custom.plan", "lt", "m", "basic", True),
        ("custom.plan", "gt", "m", "basic", False),
    ],
)
def test_a_rule_on_a_single_valued_field_compares_values_as_documented(
    field, op, value, actual, expected
):
    assert rule(field, op, value).matches({field: actual}) is expected


@pytest.mark.parametrize(
    ("op", "value", "actual"),
    [
        ("lt", 10, "5"),
        ("gte", "5", 10),
        ("gt", 0, True),
        ("lt", 10, ["a"]),
        ("gt", 0, {"nested": 1}),
        ("lte", "z", object()),
    ],
)
def test_comparing_values_of_different_kinds_is_false_and_never_raises(op, value, actual):
    assert rule("custom.x", op, value).matches({"custom.x": actual}) is False


@pytest.mark.parametrize(
    ("value", "actual", "expected"),
    [(True, True, True), (True, False, False), (True, 1, False), (False, 0, False)],
)
def test_a_boolean_equals_only_a_boolean(value, actual, expected):
    assert rule("custom.flag", "is", value).matches({"custom.flag": actual}) is expected


@pytest.mark.parametrize(
    ("op", "value", "public", "expected"),
    [
        ("is", True, True, True),
        ("is", True, False, False),
        ("is", False, False, True),
        ("is_not", True, False, True),
        ("is_not", True, True, False),
    ],
)
def test_event_public_is_matched_with_is_true_or_false(op, value, public, expected):
    assert rule("event.public", op, value).matches({"event.public": public}) is expected


@pytest.mark.parametrize(
    "actual",
    ["gold", "Gold", "", "gold ", 1, 1.0, True, None, ["gold"], ("gold", "x"), {"gold"}, b"gold"],
)
@pytest.mark.parametrize("flat", [True, False], ids=["flat key", "nested"])
def test_is_with_a_text_value_is_the_complement_of_is_not_on_any_value(actual, flat):
    # ``is`` with a text value has a shortcut for text on the ticket; ``is_not`` takes the
    # general path, and the two must stay exact complements.
    ticket = {"custom.tier": actual} if flat else {"custom": {"tier": actual}}
    positive = rule("custom.tier", "is", "gold").matches(ticket)
    assert positive is (not rule("custom.tier", "is_not", "gold").matches(ticket))
    assert positive is (actual == "gold" or isinstance(actual, list | tuple | set))


def test_contains_matches_text_literally_never_as_a_pattern():
    condition = rule("custom.note", "contains", ".*")
    assert not condition.matches({"custom.note": "anything"})
    assert condition.matches({"custom.note": "see a.*b"})


# --- matching: tags and other collections ----------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "tags", "expected"),
    [
        ("is", "vip", ["vip", "billing"], True),
        ("is", "vip", ["billing"], False),
        ("is", "vip", ["VIP"], False),
        ("is_not", "vip", ["billing"], True),
        ("is_not", "vip", ("vip",), False),
        ("is", ["a", "b"], ["b", "a", "a"], True),
        ("is", ["a", "b"], ["a", "b", "c"], False),
        ("is", ["a", "b"], {"a"}, False),
        ("is_not", ["a", "b"], ["a"], True),
        ("in", ["vip", "gold"], ["gold", "billing"], True),
        ("in", ["vip", "gold"], ["billing"], False),
        ("not_in", ["vip", "gold"], frozenset({"billing"}), True),
        ("not_in", ["vip", "gold"], ["billing", "vip"], False),
        ("contains", "vip", {"vip", "billing"}, True),
        ("contains", "vi", ["vip"], False),
        ("not_contains", "vip", ["billing"], True),
        ("not_contains", "vip", ["vip"], False),
    ],
)
def test_tags_match_as_a_set_of_values(op, value, tags, expected):
    assert rule("tags", op, value).matches({"tags": tags}) is expected


def test_a_custom_field_holding_a_list_is_matched_as_a_set():
    condition = rule("custom.products", "in", ["router", "switch"])
    assert condition.matches({"custom.products": ["switch", "cable"]})
    assert rule("custom.products", "is", ["cable", "switch"]).matches(
        {"custom.products": ["switch", "cable"]}
    )


# --- matching: absent fields -----------------------------------------------------------------


@pytest.mark.parametrize("ticket", [{}, {"priority": None}], ids=["missing key", "None"])
@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("is", "high", False),
        ("in", ["high"], False),
        ("contains", "h", False),
        ("lt", "high", False),
        ("lte", "high", False),
        ("gt", "high", False),
        ("gte", "high", False),
        ("is_not", "high", True),
        ("not_in", ["high"], True),
        ("not_contains", "h", True),
        ("present", None, False),
        ("absent", None, True),
    ],
)
def test_an_absent_field_fails_positive_ops_and_passes_negative_ones(ticket, op, value, expected):
    assert rule("priority", op, value).matches(ticket, PRIORITY_RANKS) is expected


@pytest.mark.parametrize(
    ("actual", "present"),
    [
        (None, False),
        ("", False),
        ([], False),
        (set(), False),
        ({}, False),
        ("x", True),
        (" ", True),
        (0, True),
        (False, True),
        (["vip"], True),
    ],
)
def test_present_means_a_value_that_is_not_empty(actual, present):
    ticket = {"custom.x": actual}
    assert rule("custom.x", "present").matches(ticket) is present
    assert rule("custom.x", "absent").matches(ticket) is not present


@pytest.mark.parametrize(
    ("field", "ticket"),
    [
        ("custom.tier", {"custom.tier": "gold"}),
        ("custom.tier", {"custom": {"tier": "gold"}}),
        ("custom.sla.tier", {"custom": {"sla.tier": "gold"}}),
        ("event.type", {"event.type": "gold"}),
        ("event.type", {"event": {"type": "gold"}}),
    ],
)
def test_dotted_fields_are_read_flat_or_one_level_down(field, ticket):
    assert Rule(field, "contains", "gold").matches(ticket)


def test_a_flat_dotted_key_wins_over_the_nested_one():
    ticket = {"custom.tier": "silver", "custom": {"tier": "gold"}}
    assert rule("custom.tier", "is", "silver").matches(ticket)


# --- matching: ranks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "priority", "expected"),
    [
        ("gte", "high", "urgent", True),
        ("gte", "high", "high", True),
        ("gte", "high", "low", False),
        ("gt", "high", "high", False),
        ("lt", "high", "normal", True),
        ("lte", "normal", "urgent", False),
        ("gte", "high", "critical", False),
        ("lte", "critical", "low", False),
    ],
)
def test_comparisons_on_a_ranked_field_compare_ranks(op, value, priority, expected):
    assert rule("priority", op, value).matches({"priority": priority}, PRIORITY_RANKS) is expected


def test_without_ranks_text_compares_in_code_point_order():
    # "low" > "high" as text, which is exactly why priorities need ranks.
    condition = rule("priority", "gt", "high")
    assert condition.matches({"priority": "low"})
    assert not condition.matches({"priority": "low"}, PRIORITY_RANKS)
    assert condition.matches({"priority": "low"}, {"status": {"open": 0}})


# --- matching: groups ------------------------------------------------------------------------

VIP_HIGH = parse_condition(
    {
        "all": [
            {"field": "priority", "op": "in", "value": ["high", "urgent"]},
            {
                "any": [
                    {"field": "tags", "op": "contains", "value": "vip"},
                    {"field": "organization", "op": "is", "value": "acme"},
                ]
            },
            {"not": {"field": "status", "op": "in", "value": ["solved", "closed"]}},
        ]
    }
)


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ({"priority": "high", "tags": ["vip"], "status": "open"}, True),
        ({"priority": "urgent", "organization": "acme", "status": "new"}, True),
        ({"priority": "urgent", "organization": "acme"}, True),
        ({"priority": "normal", "tags": ["vip"], "status": "open"}, False),
        ({"priority": "high", "tags": ["billing"], "status": "open"}, False),
        ({"priority": "high", "tags": ["vip"], "status": "solved"}, False),
    ],
)
def test_all_any_and_not_combine_as_in_logic(ticket, expected):
    assert VIP_HIGH.matches(ticket) is expected


def test_empty_groups_match_everything_for_all_and_nothing_for_any():
    assert All(()).matches({})
    assert TRUE.matches({"priority": "low"})
    assert not AnyOf(()).matches({"priority": "low"})


def test_not_of_a_rule_agrees_with_the_negative_op():
    tickets: list[dict[str, Any]] = [
        {},
        {"tags": ["a"]},
        {"tags": ["b"]},
        {"tags": []},
        {"tags": "a"},
    ]
    for positive, negative, value in [
        ("is", "is_not", "a"),
        ("in", "not_in", ["a", "c"]),
        ("contains", "not_contains", "a"),
        ("present", "absent", None),
    ]:
        for ticket in tickets:
            assert Not(Rule("tags", positive, value)).matches(ticket) == Rule(
                "tags", negative, value
            ).matches(ticket)


# --- parsing ---------------------------------------------------------------------------------


def test_a_top_level_list_means_all_of_its_items():
    parsed = parse_condition(
        [{"field": "priority", "op": "is", "value": "high"}, {"field": "tags", "op": "present"}]
    )
    assert parsed == All((Rule("priority", "is", "high"), Rule("tags", "present")))


def test_parsing_builds_the_frozen_values_with_lists_as_tuples():
    parsed = parse_condition(
        {
            "any": [
                {"not": {"field": "group", "op": "in", "value": ["a", "b"]}},
                {"all": []},
            ]
        }
    )
    assert parsed == AnyOf((Not(Rule("group", "in", ("a", "b"))), TRUE))
    assert hash(parsed) == hash(AnyOf((Not(Rule("group", "in", ["a", "b"])), All(()))))


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (
            "priority is high",
            "when",
            "expected a condition (a mapping with field and op, or all, any or not), "
            "got the text 'priority is high'",
        ),
        (
            None,
            "when",
            "expected a condition (a mapping with field and op, or all, any or not), "
            "got nothing (null)",
        ),
        ({}, "when", "empty condition: give field and op, or all, any or not"),
        (
            {"priority": "high"},
            "when.priority",
            "unknown key 'priority'; a condition has field, op and value, or all, any or not",
        ),
        (
            {"all": [], "field": "priority"},
            "when",
            "a condition has exactly one of all, any, not or field; found all and field",
        ),
        (
            {"all": [], "any": [], "not": {}},
            "when",
            "a condition has exactly one of all, any, not or field; found all, any and not",
        ),
        (
            {"field": "priority", "op": "is", "value": "high", "negate": True},
            "when.negate",
            "unknown key 'negate' in a field condition; allowed: field, op, value",
        ),
        (
            {"not": {"field": "tags", "op": "present"}, "op": "is"},
            "when.op",
            "unknown key 'op' in a not condition; allowed: not",
        ),
        (
            {"all": {"field": "tags", "op": "present"}},
            "when.all",
            "all needs a list of conditions, got a mapping",
        ),
        ({"any": "vip"}, "when.any", "any needs a list of conditions, got the text 'vip'"),
        (
            {"all": [{"field": "tags", "op": "present"}, [{"field": "tags", "op": "present"}]]},
            "when.all[1]",
            "expected a condition (a mapping with field and op, or all, any or not), got a list",
        ),
        (
            {"field": "priorty", "op": "is", "value": "high"},
            "when.field",
            f"unknown field 'priorty' (did you mean priority?); known fields: {KNOWN_FIELDS}",
        ),
        (
            {"field": "custom.", "op": "present"},
            "when.field",
            "bad custom field 'custom.': write custom.NAME, NAME made of letters, digits, "
            "_, . and -",
        ),
        (
            {"field": "custom.a b", "op": "present"},
            "when.field",
            "bad custom field 'custom.a b': write custom.NAME, NAME made of letters, digits, "
            "_, . and -",
        ),
        ({"field": "priority"}, "when.op", f"op is required; one of {KNOWN_OPS}"),
        (
            {"field": "priority", "op": "equals", "value": "high"},
            "when.op",
            f"unknown op 'equals'; ops: {KNOWN_OPS}",
        ),
        (
            {"field": "priority", "op": "is_nt", "value": "high"},
            "when.op",
            f"unknown op 'is_nt' (did you mean is_not?); ops: {KNOWN_OPS}",
        ),
        (
            {"field": "priority", "op": "is"},
            "when.value",
            "is needs a value; to match an empty field use op: absent",
        ),
        ({"field": "priority", "op": "gt", "value": None}, "when.value", "gt needs a value"),
        (
            {"field": "assignee", "op": "present", "value": "x"},
            "when.value",
            "present takes no value",
        ),
        (
            {"field": "assignee", "op": "absent", "value": None},
            "when.value",
            "absent takes no value",
        ),
        (
            {"field": "group", "op": "in", "value": "tier1"},
            "when.value",
            "in needs a non-empty list, got the text 'tier1'",
        ),
        (
            {"field": "group", "op": "not_in", "value": []},
            "when.value",
            "not_in needs a non-empty list",
        ),
        (
            {"field": "tags", "op": "is", "value": []},
            "when.value",
            "is needs a non-empty list; to match an empty field use op: absent",
        ),
        (
            {"field": "priority", "op": "is", "value": ["high", "urgent"]},
            "when.value",
            "priority holds a single value, so is takes one value, not a list; "
            "use in to match any of several",
        ),
        (
            {"field": "tags", "op": "contains", "value": ["a", "b"]},
            "when.value",
            "contains takes one value, not a list; to match any of several use in",
        ),
        (
            {"field": "custom.seats", "op": "gt", "value": [1]},
            "when.value",
            "gt needs a number or text, got a list",
        ),
        (
            {"field": "custom.seats", "op": "lte", "value": True},
            "when.value",
            "lte needs a number or text, got a boolean",
        ),
        (
            {"field": "custom.seats", "op": "gte", "value": {"min": 1}},
            "when.value",
            "a value is text, a number or true/false, got a mapping",
        ),
        (
            {"field": "custom.seats", "op": "gt", "value": float("nan")},
            "when.value",
            "NaN matches nothing; give a number",
        ),
        (
            {"field": "tags", "op": "gt", "value": "a"},
            "when.op",
            "tags is a set of values and has no order",
        ),
        (
            {"field": "channel", "op": "in", "value": ["email", None]},
            "when.value[1]",
            "a value is text, a number or true/false, got nothing (null)",
        ),
        (
            {"field": "status", "op": "is", "value": False},
            "when.value",
            "status takes text or a number, got the boolean false; quote the value if you meant "
            "the word (YAML reads yes, no, on and off as booleans)",
        ),
        (
            {"field": "event.type", "op": "in", "value": ["ticket.created", "comment"]},
            "when.value[1]",
            "unknown event.type 'comment' (did you mean comment.added?); known: ticket.created, "
            "ticket.updated, comment.added, ticket.rated, ticket.deleted",
        ),
        (
            {"field": "event.actor", "op": "is", "value": "bot"},
            "when.value",
            "unknown event.actor 'bot'; known: agent, customer, system",
        ),
        (
            {"field": "event.public", "op": "is", "value": "yes"},
            "when.value",
            "event.public is true or false, got the text 'yes'",
        ),
        (
            {"field": "event.public", "op": "in", "value": [True]},
            "when.op",
            "event.public is true or false; use is, is_not, present or absent, not in",
        ),
    ],
)
def test_a_bad_condition_is_refused_naming_the_exact_key_and_the_reason(raw, path, reason):
    error = parse_error(raw)
    assert (error.path, error.reason) == (path, reason)


def test_an_error_deep_in_a_config_names_the_full_path():
    raw = {
        "all": [
            {"field": "tags", "op": "present"},
            {"any": [{"field": "priority", "op": "is", "value": "high"}]},
            {"not": {"field": "group", "op": "in", "value": []}},
        ]
    }
    error = parse_error(raw, "agreements[0].policies[1].when")
    assert error.path == "agreements[0].policies[1].when.all[2].not.value"
    assert str(error) == f"{error.path}: in needs a non-empty list"


def test_an_error_in_a_top_level_list_names_the_item():
    error = parse_error([{"field": "tags", "op": "present"}, {"field": "tag", "op": "present"}])
    assert error.path == "when[1].field"


def test_a_condition_error_is_a_value_error_that_survives_pickling():
    error = ConditionError("when.op", "unknown op 'x'")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ConditionError)
    assert isinstance(copy, ValueError)
    assert (copy.path, copy.reason, str(copy)) == (
        "when.op",
        "unknown op 'x'",
        "when.op: unknown op 'x'",
    )


def test_a_rule_built_in_code_is_validated_like_parsed_yaml():
    with pytest.raises(ConditionError, match=r"^rule\.op: unknown op 'eq'"):
        Rule("priority", "eq", "high")
    with pytest.raises(ConditionError, match=r"^rule\.value: in needs a non-empty list"):
        Rule("group", "in", [])
    assert Rule("tags", "in", {"b", "a"}).value == ("a", "b")


def test_the_known_fields_and_ops_are_published():
    assert FIELDS == (
        "priority",
        "status",
        "group",
        "assignee",
        "organization",
        "requester",
        "channel",
        "tags",
        "event.type",
        "event.actor",
        "event.public",
    )
    assert set(OPS) == {
        "is",
        "is_not",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "lt",
        "lte",
        "gt",
        "gte",
        "present",
        "absent",
    }


# --- structure: always_true and fields -------------------------------------------------------

HIGH = Rule("priority", "is", "high")


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (TRUE, True),
        (All((TRUE, All(()))), True),
        (AnyOf((HIGH, TRUE)), True),
        (Not(AnyOf(())), True),
        (Not(All((HIGH, AnyOf(())))), True),
        (Not(Not(TRUE)), True),
        (HIGH, False),
        (Rule("tags", "absent"), False),
        (AnyOf(()), False),
        (All((TRUE, HIGH)), False),
        (Not(TRUE), False),
        (Not(HIGH), False),
        (AnyOf((HIGH, Not(HIGH))), False),
    ],
)
def test_always_true_is_claimed_only_when_the_structure_proves_it(condition, expected):
    assert condition.always_true() is expected


def test_fields_lists_every_field_a_nested_condition_reads():
    assert VIP_HIGH.fields() == {"priority", "tags", "organization", "status"}
    assert TRUE.fields() == frozenset()
    assert Not(Rule("custom.tier", "present")).fields() == {"custom.tier"}


# --- describe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (
            [
                {"field": "priority", "op": "is", "value": "high"},
                {"field": "tags", "op": "contains", "value": "vip"},
            ],
            "priority is high and tags contain vip",
        ),
        (
            {
                "all": [
                    {"field": "priority", "op": "in", "value": ["high", "urgent"]},
                    {
                        "any": [
                            {"field": "tags", "op": "is", "value": "vip"},
                            {"field": "custom.tier", "op": "is", "value": "gold"},
                        ]
                    },
                ]
            },
            "priority is one of high, urgent and (tags include vip or custom field tier is gold)",
        ),
        (
            {"not": {"field": "status", "op": "in", "value": ["solved", "closed"]}},
            "status is none of solved, closed",
        ),
        (
            {"not": {"field": "priority", "op": "lt", "value": "high"}},
            "not (priority is below high)",
        ),
        (
            {"field": "priority", "op": "gte", "value": "high"},
            "priority is at least high",
        ),
        (
            {"field": "tags", "op": "not_in", "value": ["spam", "test"]},
            "tags include none of spam, test",
        ),
        ({"field": "tags", "op": "is", "value": ["a", "b"]}, "tags are exactly a, b"),
        ({"field": "assignee", "op": "absent"}, "assignee is not set"),
        (
            [
                {"field": "event.type", "op": "is", "value": "comment.added"},
                {"field": "event.actor", "op": "is", "value": "agent"},
                {"field": "event.public", "op": "is", "value": True},
            ],
            "event type is comment.added and event actor is agent and the event is public",
        ),
        (
            {"any": [{"all": [{"field": "group", "op": "is", "value": "a, b"}]}, {"all": []}]},
            'group is "a, b" or always',
        ),
        ({"any": []}, "never"),
    ],
)
def test_describe_reads_as_an_unambiguous_english_sentence(raw, text):
    assert describe(parse_condition(raw)) == text


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (Rule("group", "is_not", "tier1"), "group is not tier1"),
        (Rule("group", "in", ["tier1"]), "group is tier1"),
        (Rule("group", "not_in", ["tier1"]), "group is not tier1"),
        (Rule("requester", "contains", "@acme"), "requester contains @acme"),
        (Rule("requester", "not_contains", "@acme"), "requester does not contain @acme"),
        (Rule("custom.seats", "lt", 5), "custom field seats is below 5"),
        (Rule("custom.seats", "lte", 5), "custom field seats is at most 5"),
        (Rule("custom.seats", "gt", 5), "custom field seats is above 5"),
        (Rule("custom.vip", "is", False), "custom field vip is false"),
        (Rule("custom.products", "is", ["a", "b"]), "custom field products is exactly a, b"),
        (Rule("custom.products", "is_not", ["a"]), "custom field products is not exactly a"),
        (Rule("organization", "present"), "organization is set"),
        (Rule("channel", "is", ""), 'channel is ""'),
        (Rule("tags", "present"), "tags are set"),
        (Rule("tags", "absent"), "tags are empty"),
        (Rule("tags", "in", ["vip"]), "tags include vip"),
        (Rule("tags", "in", ["vip", "gold"]), "tags include any of vip, gold"),
        (Rule("tags", "not_in", ["spam"]), "tags do not include spam"),
        (Rule("tags", "is_not", "spam"), "tags do not include spam"),
        (Rule("tags", "is_not", ["a", "b"]), "tags are not exactly a, b"),
        (Rule("tags", "not_contains", "spam"), "tags do not contain spam"),
        (Rule("event.public", "is_not", True), "the event is not public"),
        (Rule("event.public", "present"), "the event's visibility is known"),
        (Rule("event.public", "absent"), "the event's visibility is unknown"),
        (Not(Rule("tags", "present")), "tags are empty"),
        (Not(AnyOf((HIGH, TRUE))), "not (priority is high or always)"),
        (
            All((HIGH, All((HIGH, HIGH)))),
            "priority is high and priority is high and priority is high",
        ),
    ],
)
def test_describe_has_a_phrase_for_every_op(condition, text):
    assert describe(condition) == text


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (
            {"field": 5, "op": "is", "value": 1},
            "when.field",
            f"unknown field 5; known fields: {KNOWN_FIELDS}",
        ),
        ({"field": "group", "op": None}, "when.op", f"unknown op None; ops: {KNOWN_OPS}"),
        ({"any": 3}, "when.any", "any needs a list of conditions, got the number 3"),
        ({"all": True}, "when.all", "all needs a list of conditions, got the boolean true"),
        (
            {"field": "custom.x", "op": "is", "value": b"x"},
            "when.value",
            "a value is text, a number or true/false, got a bytes",
        ),
    ],
)
def test_an_error_names_the_kind_of_value_it_got(raw, path, reason):
    error = parse_error(raw)
    assert (error.path, error.reason) == (path, reason)


def test_a_list_rule_value_never_equals_a_single_ticket_value():
    assert not Rule("custom.products", "is", ["a"]).matches({"custom.products": "a"})


def test_a_value_whose_equality_is_ambiguous_is_not_equal_and_does_not_raise():
    # numpy arrays compare element-wise; a batch pipeline may hand one over by mistake.
    assert not Rule("custom.x", "is", 1).matches({"custom.x": np.array([1, 1])})
    assert Rule("custom.x", "is_not", 1).matches({"custom.x": np.array([1, 1])})


def test_a_numpy_number_compares_like_a_python_number():
    assert Rule("custom.seats", "gt", 10).matches({"custom.seats": np.int64(11)})
    assert Rule("custom.seats", "is", 11).matches({"custom.seats": np.int64(11)})


def test_a_nested_dotted_field_needs_a_mapping_one_level_down():
    assert not Rule("custom.tier", "present").matches({"custom": "gold"})


def test_describe_refuses_something_that_is_not_a_condition():
    class Odd(Condition):
        def matches(self, ticket, ranks=None):
            return True

        def fields(self):
            return frozenset()

        def always_true(self):
            return True

        def always_false(self):
            return False

    with pytest.raises(TypeError, match="not a condition"):
        describe(Odd())
