"""The condition language: which tickets an agreement, a policy or a custom metric applies to.

Agreement scopes, policy ``when`` clauses and the start/pause/stop of custom metrics are all
written in one small language, arriving here as the Python values YAML loads::

    when:
      all:
        - {field: priority, op: in, value: [high, urgent]}
        - {field: tags, op: contains, value: vip}
        - not: {field: custom.region, op: is, value: emea}

A rule is ``{field, op, value}`` (no value for ``present``/``absent``); ``{all: [...]}``,
``{any: [...]}`` and ``{not: cond}`` combine rules; a list at the top level means ``all``.
``parse_condition`` turns that into frozen values (``Rule``, ``All``, ``AnyOf``, ``Not``) and
refuses anything it cannot give one clear meaning, with a ``ConditionError`` naming the exact
path of the offending key. Nothing is evaluated as code and no user text becomes a regular
expression, so a configuration file can describe tickets but never run anything.

How a condition matches a ticket (``Condition.matches``)
--------------------------------------------------------
The ticket is a mapping of field name to current value. ``custom.NAME`` and ``event.X`` are
read from the flat key (``ticket["custom.tier"]``) or, failing that, one level down
(``ticket["custom"]["tier"]``), so callers may keep either shape.

- **Absent**: a missing key or ``None``. Every positive op (``is``, ``in``, ``contains``,
  ``lt``/``lte``/``gt``/``gte``) is false on an absent field.
- **Negative ops are exact complements**: ``is_not`` is ``not is``, ``not_in`` is ``not in``,
  ``not_contains`` is ``not contains``. So they are true on an absent field ("priority is not
  urgent" holds for a ticket without a priority), and ``Not(Rule(f, "is", v))`` always agrees
  with ``Rule(f, "is_not", v)``.
- **Collections**: a value that is a list, tuple, set or frozenset (``tags``, multi-select
  custom fields) is a set of elements; anything else is a single value. The kind of the
  ticket's value decides, so a custom field can be either.
- **Equality** is Python's ``==`` and case-sensitive everywhere (``"VIP"`` is not ``"vip"``),
  except that a boolean equals only a boolean: ``true`` is not ``1`` and not ``"true"``. Numbers
  compare by value (``2 == 2.0``), never with text (``"2"`` is not ``2``).
- ``is``: a single value equals the rule's value. On a collection, a single rule value means
  membership ("tags is vip" = the ticket has the tag vip) and a list means the same set of
  elements, order and duplicates ignored ("tags is [a, b]" = exactly the tags a and b); a list
  never equals a single value.
- ``in`` (value: a non-empty list): a single value equals one of the list; a collection shares
  at least one element with it. ``not_in``: equals none / shares none.
- ``contains``: a collection has the element; a text value has the rule's text as a substring;
  any other value (numbers, booleans, text against a non-text rule value) does not contain.
- ``lt``/``lte``/``gt``/``gte``: when ``ranks`` has a table for the field (e.g.
  ``ranks["priority"] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}``) the ranks of both
  sides are compared, and a value missing from the table on either side makes the rule false.
  Without a table, numbers compare with numbers and text with text (code-point order); mixed
  kinds, booleans and collections make the rule false. Comparisons never raise.
- ``present``: not ``None``, not ``""`` and not an empty collection or mapping (``False`` and
  ``0`` are present: they are values). ``absent`` is its opposite.
- ``event.public`` is a boolean and is matched with ``is``/``is_not`` ``true``/``false``.

Validation beyond the syntax catches what would otherwise silently never match: an unquoted
YAML ``yes``/``no``/``on``/``off`` given to a text field, a list given to ``is`` on a
single-valued field (``in`` was meant), an ``event.type`` or ``event.actor`` duly never emits.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Final

from duly.core.events import ACTORS, EVENT_TYPES, TICKET_FIELDS
from duly.core.wording import did_you_mean, kind_of

__all__ = [
    "FIELDS",
    "OPS",
    "TRUE",
    "All",
    "AnyOf",
    "Condition",
    "ConditionError",
    "Not",
    "Rule",
    "describe",
    "parse_condition",
]

#: Pseudo-fields describing the event being applied; custom metrics start and stop on them.
EVENT_FIELDS: Final = ("event.type", "event.actor", "event.public")
#: Every field a condition may read, besides ``custom.NAME``.
FIELDS: Final = (*TICKET_FIELDS, *EVENT_FIELDS)
OPS: Final = (
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
)

_NO_VALUE_OPS: Final = frozenset({"present", "absent"})
_LIST_OPS: Final = frozenset({"in", "not_in"})
_EQUALITY_OPS: Final = frozenset({"is", "is_not", "in", "not_in"})
_ORDER_OPS: Final = frozenset({"lt", "lte", "gt", "gte"})
_NEGATION: Final = {
    "is": "is_not",
    "is_not": "is",
    "in": "not_in",
    "not_in": "in",
    "contains": "not_contains",
    "not_contains": "contains",
    "present": "absent",
    "absent": "present",
}
_COLLECTIONS: Final = (list, tuple, set, frozenset)
_CUSTOM_FIELD: Final = re.compile(r"custom\.[A-Za-z0-9_.-]+")
_SET_FIELDS: Final = frozenset({"tags"})
_BOOLEAN_FIELDS: Final = frozenset({"event.public"})
_BOOLEAN_OPS: Final = frozenset({"is", "is_not", "present", "absent"})
# A rule naming an event type or actor duly never emits could never match: it is a typo.
_ENUMERATED: Final[Mapping[str, tuple[str, ...]]] = {
    "event.type": EVENT_TYPES,
    "event.actor": ACTORS,
}
_KINDS: Final = ("all", "any", "not", "field")
_RULE_KEYS: Final = ("field", "op", "value")
_FIELD_LIST: Final = ", ".join((*TICKET_FIELDS, "custom.NAME", *EVENT_FIELDS))
_OP_LIST: Final = ", ".join(OPS)


class ConditionError(ValueError):
    """A condition that cannot be used: ``path`` says where (``when.all[2].value``), ``reason`` why.

    The config layer prefixes the path with where the condition sits in the file, so a user reads
    ``agreements[0].policies[1].when.all[2].value: in needs a non-empty list``.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type[ConditionError], tuple[str, str]]:
        # Default pickling would call ConditionError(message): keep both parts across processes.
        return (type(self), (self.path, self.reason))


class Condition(ABC):
    """A test over one ticket's current fields (and, for custom metrics, the event applied)."""

    __slots__ = ()

    @abstractmethod
    def matches(
        self, ticket: Mapping[str, Any], ranks: Mapping[str, Mapping[str, int]] | None = None
    ) -> bool:
        """Whether the ticket satisfies the condition; ``ranks`` orders values for lt..gte."""

    @abstractmethod
    def fields(self) -> frozenset[str]:
        """Every field name the condition reads, so callers know what a change can affect."""

    @abstractmethod
    def always_true(self) -> bool:
        """True only if the condition holds for every ticket by its structure alone.

        Conservative: a rule is never assumed to be always true, so False means "not known".
        """

    @abstractmethod
    def always_false(self) -> bool:
        """True only if no ticket can match, by structure alone (e.g. ``any: []``)."""


@dataclass(frozen=True, slots=True)
class Rule(Condition):
    """One test of one field: ``priority in [high, urgent]``.

    Built directly in code it is validated like parsed YAML (with the path ``rule``), and a list
    value is stored as a tuple so the rule stays hashable and immutable.
    """

    field: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        value = _checked_rule(self.field, self.op, self.value, self.value is not None, "rule")
        if value is not self.value:
            object.__setattr__(self, "value", value)

    def matches(
        self, ticket: Mapping[str, Any], ranks: Mapping[str, Mapping[str, int]] | None = None
    ) -> bool:
        op = self.op
        if op == "is" and type(self.value) is str:
            actual = _lookup(ticket, self.field)
            if type(actual) is str:  # the common case, without the general dispatch below
                return actual == self.value
        if op in _NO_VALUE_OPS:
            present = not _is_empty(_lookup(ticket, self.field))
            return present if op == "present" else not present
        if op in _ORDER_OPS:
            return _compare(self.field, op, _lookup(ticket, self.field), self.value, ranks)
        negated = op.startswith("not_") or op == "is_not"
        positive = _NEGATION[op] if negated else op
        actual = _lookup(ticket, self.field)
        result = actual is not None and _POSITIVE[positive](actual, self.value)
        return not result if negated else result

    def fields(self) -> frozenset[str]:
        return frozenset((self.field,))

    def always_true(self) -> bool:
        return False

    def always_false(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class All(Condition):
    """Every item matches; ``All(())`` matches everything."""

    items: tuple[Condition, ...]

    def matches(
        self, ticket: Mapping[str, Any], ranks: Mapping[str, Mapping[str, int]] | None = None
    ) -> bool:
        return all(item.matches(ticket, ranks) for item in self.items)

    def fields(self) -> frozenset[str]:
        return _union(item.fields() for item in self.items)

    def always_true(self) -> bool:
        return all(item.always_true() for item in self.items)

    def always_false(self) -> bool:
        return any(item.always_false() for item in self.items)


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """At least one item matches; ``AnyOf(())`` matches nothing. (``any`` in YAML.)"""

    items: tuple[Condition, ...]

    def matches(
        self, ticket: Mapping[str, Any], ranks: Mapping[str, Mapping[str, int]] | None = None
    ) -> bool:
        return any(item.matches(ticket, ranks) for item in self.items)

    def fields(self) -> frozenset[str]:
        return _union(item.fields() for item in self.items)

    def always_true(self) -> bool:
        return any(item.always_true() for item in self.items)

    def always_false(self) -> bool:
        return all(item.always_false() for item in self.items)


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """The item does not match."""

    item: Condition

    def matches(
        self, ticket: Mapping[str, Any], ranks: Mapping[str, Mapping[str, int]] | None = None
    ) -> bool:
        return not self.item.matches(ticket, ranks)

    def fields(self) -> frozenset[str]:
        return self.item.fields()

    def always_true(self) -> bool:
        return self.item.always_false()

    def always_false(self) -> bool:
        return self.item.always_true()


#: The condition every ticket matches: a policy or scope without ``when``.
TRUE: Final = All(())


def parse_condition(raw: Any, path: str = "when") -> Condition:
    """The condition ``raw`` (as loaded from YAML) describes, or a ConditionError at ``path``.

    The first problem found is raised, with the dotted path of the exact key at fault so the
    user can go straight to it; a list at the top level means ``all`` of its items.
    """
    if isinstance(raw, list):
        return All(tuple(_parse(item, f"{path}[{i}]") for i, item in enumerate(raw)))
    return _parse(raw, path)


def describe(condition: Condition) -> str:
    """The condition in plain English, for agreement documents a customer reads and signs.

    ``priority is one of high, urgent and (tags contain vip or custom field tier is gold)``: a
    group nested in a different one is parenthesised and a rule's own list is written with
    commas, so the sentence cannot be read two ways.
    """
    return _describe(condition, top=True)


# --- parsing -------------------------------------------------------------------------------


def _parse(raw: Any, path: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise ConditionError(
            path,
            f"expected a condition (a mapping with field and op, or all, any or not), "
            f"got {kind_of(raw)}",
        )
    kinds = [k for k in _KINDS if k in raw]
    if len(kinds) > 1:
        raise ConditionError(
            path,
            f"a condition has exactly one of all, any, not or field; found {_and(kinds)}",
        )
    if not kinds:
        if not raw:
            raise ConditionError(path, "empty condition: give field and op, or all, any or not")
        key = next(iter(raw))
        raise ConditionError(
            f"{path}.{key}",
            f"unknown key {key!r}; a condition has field, op and value, or all, any or not",
        )
    kind = kinds[0]
    allowed = _RULE_KEYS if kind == "field" else (kind,)
    for key in raw:
        if key not in allowed:
            raise ConditionError(
                f"{path}.{key}",
                f"unknown key {key!r} in a {kind} condition; allowed: " + ", ".join(allowed),
            )
    if kind == "not":
        return Not(_parse(raw["not"], f"{path}.not"))
    if kind in ("all", "any"):
        items = raw[kind]
        if not isinstance(items, list):
            raise ConditionError(
                f"{path}.{kind}", f"{kind} needs a list of conditions, got {kind_of(items)}"
            )
        parsed = tuple(_parse(item, f"{path}.{kind}[{i}]") for i, item in enumerate(items))
        return All(parsed) if kind == "all" else AnyOf(parsed)
    field = raw["field"]
    if "op" not in raw:
        raise ConditionError(f"{path}.op", f"op is required; one of {_OP_LIST}")
    op = raw["op"]
    value = _checked_rule(field, op, raw.get("value"), "value" in raw, path)
    return Rule(field, op, value)


def _checked_rule(field: Any, op: Any, value: Any, has_value: bool, path: str) -> Any:
    """``value`` ready to store (lists become tuples), or the ConditionError the rule deserves."""
    if not isinstance(field, str) or not _known_field(field):
        raise ConditionError(f"{path}.field", _unknown_field(field))
    if not isinstance(op, str) or op not in OPS:
        hint = did_you_mean(op, OPS)
        raise ConditionError(f"{path}.op", f"unknown op {op!r}{hint}; ops: {_OP_LIST}")
    value_path = f"{path}.value"
    if op in _NO_VALUE_OPS:
        if has_value:
            raise ConditionError(value_path, f"{op} takes no value")
        return None
    if value is None:
        hint = "; to match an empty field use op: absent" if op in ("is", "is_not") else ""
        raise ConditionError(value_path, f"{op} needs a value{hint}")
    if field in _BOOLEAN_FIELDS:
        return _checked_boolean(field, op, value, path)
    if isinstance(value, _COLLECTIONS):
        ordered = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        items = tuple(
            _checked_scalar(field, op, item, f"{value_path}[{i}]") for i, item in enumerate(ordered)
        )
        if op in _LIST_OPS or (op in ("is", "is_not") and not _single_valued(field)):
            if not items:
                hint = "; to match an empty field use op: absent" if op in ("is", "is_not") else ""
                raise ConditionError(value_path, f"{op} needs a non-empty list{hint}")
            return items
        if op in ("is", "is_not"):
            alternative = "in" if op == "is" else "not_in"
            raise ConditionError(
                value_path,
                f"{field} holds a single value, so {op} takes one value, not a list; "
                f"use {alternative} to match any of several",
            )
        if op in _ORDER_OPS:
            raise ConditionError(value_path, f"{op} needs a number or text, got a list")
        raise ConditionError(
            value_path,
            f"{op} takes one value, not a list; to match any of several use "
            + ("in" if op == "contains" else "not_in"),
        )
    if op in _LIST_OPS:
        raise ConditionError(value_path, f"{op} needs a non-empty list, got {kind_of(value)}")
    checked = _checked_scalar(field, op, value, value_path)
    if op in _ORDER_OPS:
        if field in _SET_FIELDS:
            raise ConditionError(f"{path}.op", f"{field} is a set of values and has no order")
        if isinstance(checked, bool):
            raise ConditionError(value_path, f"{op} needs a number or text, got a boolean")
    return checked


def _checked_boolean(field: str, op: str, value: Any, path: str) -> bool:
    if op not in _BOOLEAN_OPS:
        raise ConditionError(
            f"{path}.op", f"{field} is true or false; use is, is_not, present or absent, not {op}"
        )
    if not isinstance(value, bool):
        raise ConditionError(f"{path}.value", f"{field} is true or false, got {kind_of(value)}")
    return value


def _checked_scalar(field: str, op: str, value: Any, path: str) -> Any:
    if isinstance(value, bool):
        if field.startswith("custom."):
            return value
        raise ConditionError(
            path,
            f"{field} takes text or a number, got the boolean {str(value).lower()}; "
            f"quote the value if you meant the word (YAML reads yes, no, on and off as booleans)",
        )
    if isinstance(value, float) and value != value:
        raise ConditionError(path, "NaN matches nothing; give a number")
    if not isinstance(value, str | int | float):
        raise ConditionError(path, f"a value is text, a number or true/false, got {kind_of(value)}")
    allowed = _ENUMERATED.get(field)
    if allowed is not None and op in _EQUALITY_OPS and value not in allowed:
        hint = did_you_mean(value, allowed)
        raise ConditionError(path, f"unknown {field} {value!r}{hint}; known: {', '.join(allowed)}")
    return value


def _known_field(field: str) -> bool:
    return field in FIELDS or _CUSTOM_FIELD.fullmatch(field) is not None


def _single_valued(field: str) -> bool:
    """Whether the field is known to hold one value (only ``tags`` and custom fields may not)."""
    return field not in _SET_FIELDS and not field.startswith("custom.")


def _unknown_field(field: Any) -> str:
    if isinstance(field, str) and field.startswith("custom."):
        return (
            f"bad custom field {field!r}: write custom.NAME, NAME made of letters, digits, "
            f"_, . and -"
        )
    hint = did_you_mean(field, FIELDS)
    return f"unknown field {field!r}{hint}; known fields: {_FIELD_LIST}"


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- matching ------------------------------------------------------------------------------


def _lookup(ticket: Mapping[str, Any], field: str) -> Any:
    if field in ticket:
        return ticket[field]
    head, dot, rest = field.partition(".")
    if dot:
        inner = ticket.get(head)
        if isinstance(inner, Mapping):
            return inner.get(rest)
    return None


def _is_empty(value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value):
        return True
    return isinstance(value, (*_COLLECTIONS, Mapping)) and len(value) == 0


def _same(a: Any, b: Any) -> bool:
    """Equality, except that a boolean equals only a boolean (YAML true is not the number 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, str) != isinstance(b, str):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. numpy arrays: ambiguous truth, so not equal
        return False


def _has(collection: Iterable[Any], value: Any) -> bool:
    return any(_same(element, value) for element in collection)


def _is(actual: Any, value: Any) -> bool:
    if isinstance(actual, _COLLECTIONS):
        if isinstance(value, _COLLECTIONS):
            return all(_has(value, a) for a in actual) and all(_has(actual, v) for v in value)
        return _has(actual, value)
    if isinstance(value, _COLLECTIONS):
        return False
    return _same(actual, value)


def _in(actual: Any, value: Any) -> bool:
    if isinstance(actual, _COLLECTIONS):
        return any(_has(value, a) for a in actual)
    return _has(value, actual)


def _contains(actual: Any, value: Any) -> bool:
    if isinstance(actual, _COLLECTIONS):
        return _has(actual, value)
    return isinstance(actual, str) and isinstance(value, str) and value in actual


_POSITIVE: Final = {"is": _is, "in": _in, "contains": _contains}


def _compare(
    field: str,
    op: str,
    actual: Any,
    value: Any,
    ranks: Mapping[str, Mapping[str, int]] | None,
) -> bool:
    left: Any
    right: Any
    table = ranks.get(field) if ranks is not None else None
    if table is not None:
        left, right = _rank(table, actual), _rank(table, value)
        if left is None or right is None:
            return False
    elif (_is_number(actual) and _is_number(value)) or (
        isinstance(actual, str) and isinstance(value, str)
    ):
        left, right = actual, value
    else:
        return False
    if op == "lt":
        return bool(left < right)
    if op == "lte":
        return bool(left <= right)
    if op == "gt":
        return bool(left > right)
    return bool(left >= right)


def _rank(table: Mapping[str, int], value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    return table.get(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _union(parts: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*parts)


# --- describing ----------------------------------------------------------------------------

_LABELS: Final = {"event.type": "event type", "event.actor": "event actor"}
_ORDER_WORDS: Final = {
    "lt": "is below",
    "lte": "is at most",
    "gt": "is above",
    "gte": "is at least",
}


def _describe(condition: Condition, top: bool = False) -> str:
    if isinstance(condition, Rule):
        return _describe_rule(condition)
    if isinstance(condition, Not):
        item = condition.item
        if isinstance(item, Rule) and item.op in _NEGATION:
            return _describe_rule(Rule(item.field, _NEGATION[item.op], item.value))
        return f"not ({_describe(item, top=True)})"
    if isinstance(condition, All | AnyOf):
        word = "and" if isinstance(condition, All) else "or"
        if not condition.items:
            return "always" if isinstance(condition, All) else "never"
        if len(condition.items) == 1:
            return _describe(condition.items[0], top=top)
        parts = [_describe(item, top=type(item) is type(condition)) for item in condition.items]
        text = f" {word} ".join(parts)
        return text if top else f"({text})"
    raise TypeError(f"not a condition: {condition!r}")


def _describe_rule(rule: Rule) -> str:
    field, op, value = rule.field, rule.op, rule.value
    if field == "event.public":
        if op in _NO_VALUE_OPS:
            return "the event's visibility is " + ("known" if op == "present" else "unknown")
        public = value if op == "is" else not value
        return "the event is public" if public else "the event is not public"
    if field.startswith("custom."):
        label = f"custom field {field.removeprefix('custom.')}"
    else:
        label = _LABELS.get(field, field)
    if field in _SET_FIELDS:
        return f"{label} {_set_phrase(op, value)}"
    if op == "present":
        return f"{label} is set"
    if op == "absent":
        return f"{label} is not set"
    if op in _ORDER_OPS:
        return f"{label} {_ORDER_WORDS[op]} {_text(value)}"
    if op in ("contains", "not_contains"):
        verb = "contains" if op == "contains" else "does not contain"
        return f"{label} {verb} {_text(value)}"
    if op in ("is", "is_not"):
        negation = "" if op == "is" else "not "
        if isinstance(value, tuple):
            return f"{label} is {negation}exactly {_listed(value)}"
        return f"{label} is {negation}{_text(value)}"
    if len(value) == 1:
        return f"{label} is {'' if op == 'in' else 'not '}{_text(value[0])}"
    return f"{label} is {'one' if op == 'in' else 'none'} of {_listed(value)}"


def _set_phrase(op: str, value: Any) -> str:
    """The verb phrase after a set field's name: ``tags`` *include any of a, b*."""
    if op == "present":
        return "are set"
    if op == "absent":
        return "are empty"
    if op in ("in", "not_in") and len(value) > 1:
        return f"include {'any' if op == 'in' else 'none'} of {_listed(value)}"
    if op in ("in", "not_in"):
        value, op = value[0], ("is" if op == "in" else "is_not")
    if isinstance(value, tuple):
        return f"are {'' if op == 'is' else 'not '}exactly {_listed(value)}"
    if op in ("is", "contains"):
        return f"{'include' if op == 'is' else 'contain'} {_text(value)}"
    return f"do not {'include' if op == 'is_not' else 'contain'} {_text(value)}"


def _listed(values: Sequence[Any]) -> str:
    # Commas, not "or"/"and": a list inside a rule must not read as the rule's and/or.
    return ", ".join(_text(v) for v in values)


def _text(value: Any) -> str:
    """A value as a reader sees it; text that would blur a list or the sentence is quoted."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and (not value or value != value.strip() or "," in value):
        return f'"{value}"'
    return str(value)
