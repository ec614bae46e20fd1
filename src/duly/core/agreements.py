"""The SLA-as-code model: agreements, their ordered policies, targets and metrics.

These are plain frozen values, built and validated by ``duly.config`` from YAML; the clock engine
reads them and nothing else. Durations are seconds, counted in the business time of the target's
calendar, named by the config's ``calendars`` (or ``24x7``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final, Literal

from duly.core.calendar import Calendar
from duly.core.conditions import Condition

__all__ = [
    "BUILTIN_METRICS",
    "Agreement",
    "AgreementKind",
    "AgreementLevel",
    "AgreementStatus",
    "AlertRules",
    "CreditTier",
    "Credits",
    "CustomMetric",
    "Escalation",
    "Fee",
    "OnChange",
    "Party",
    "Period",
    "Policy",
    "RateTarget",
    "SlaConfig",
    "Target",
    "Warning",
]

#: The metrics of DESIGN.md's table; a config may add custom ones.
BUILTIN_METRICS: Final = (
    "first_reply",
    "next_reply",
    "periodic_update",
    "pausable_update",
    "requester_wait",
    "agent_work",
    "resolution",
)
#: Metrics that measure one cumulative clock per ticket (they resume on reopen).
CUMULATIVE_METRICS: Final = ("requester_wait", "agent_work", "resolution")
#: Statuses that pause each built-in metric unless a target says otherwise (``pause_on``).
DEFAULT_PAUSE_ON: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "first_reply": frozenset(),
        "next_reply": frozenset(),
        "periodic_update": frozenset(),
        "pausable_update": frozenset({"pending", "on_hold"}),
        "requester_wait": frozenset({"pending"}),
        "agent_work": frozenset({"pending", "on_hold"}),
        "resolution": frozenset(),
    }
)

AgreementKind = Literal["sla", "ola", "uc"]
AgreementLevel = Literal["corporate", "customer", "service"]
AgreementStatus = Literal["draft", "active", "expired"]
OnChange = Literal["retarget", "restart", "stricter"]
Period = Literal["day", "week", "month", "quarter", "year"]
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True)
class Warning:
    """Warn when ``percent`` of the target has elapsed, or ``before`` seconds remain."""

    percent: float | None = None
    before: float | None = None


@dataclass(frozen=True)
class Target:
    """A metric's duration per priority, the calendar it counts in, and how it behaves.

    ``durations`` maps a priority to seconds; the key ``"*"`` applies to priorities not listed.
    A ticket whose priority has no duration gets no clock for this metric.
    """

    metric: str
    durations: Mapping[str, float]
    calendar: str = "24x7"
    warnings: tuple[Warning, ...] = ()
    pause_on: frozenset[str] | None = None
    on_change: OnChange = "retarget"
    max_pause: float | None = None

    def duration_for(self, priority: str | None) -> float | None:
        """Seconds of target for a ticket of ``priority``, or None if it has none."""
        if priority is not None and priority in self.durations:
            return self.durations[priority]
        return self.durations.get("*")

    def pauses(self, default: frozenset[str]) -> frozenset[str]:
        """The statuses that pause this target's clock."""
        return self.pause_on if self.pause_on is not None else default


@dataclass(frozen=True)
class RateTarget:
    """``percent`` of a metric's clocks must finish within ``within`` seconds, each period.

    ``within`` maps priorities to seconds like ``Target.durations`` (``"*"`` for the rest); the
    rate counts clocks that started in the period and are finished (met or missed).
    """

    metric: str
    percent: float
    within: Mapping[str, float]
    period: Period = "month"
    calendar: str = "24x7"

    def within_for(self, priority: str | None) -> float | None:
        if priority is not None and priority in self.within:
            return self.within[priority]
        return self.within.get("*")


@dataclass(frozen=True)
class CustomMetric:
    """A metric defined by conditions over the ticket and the event being applied.

    The clock starts when ``start`` becomes true, pauses while ``pause`` holds and stops when
    ``stop`` becomes true; with ``repeat`` it starts again on the next ``start``.
    """

    name: str
    start: Condition
    stop: Condition
    pause: Condition | None = None
    repeat: bool = False


@dataclass(frozen=True)
class Escalation:
    """Once a clock has breached and still runs, tell ``notify`` ``after`` wall-clock seconds on.

    Wall-clock rather than business time: a breach is already late, and the people escalated to
    (a team lead, a manager, a pager) are the ones who act outside business hours.
    """

    after: float
    notify: tuple[str, ...]


@dataclass(frozen=True)
class AlertRules:
    """Who hears of a clock's warnings, its breach, and each escalation after the breach.

    The names are notification channels kept by the server, not in the config, so a config can
    be checked (and versioned) without knowing where its alerts go. ``escalations`` are in
    strictly increasing ``after``.
    """

    warning: tuple[str, ...] = ()
    breach: tuple[str, ...] = ()
    escalations: tuple[Escalation, ...] = ()


_NO_ALERTS: Final = AlertRules()


@dataclass(frozen=True)
class Policy:
    """Which tickets it covers (``when``; None = all) and what it promises them.

    ``alerts``, when given, replaces its agreement's whole ``alerts`` block (None: inherit it).
    """

    id: str
    when: Condition | None = None
    targets: tuple[Target, ...] = ()
    rate_targets: tuple[RateTarget, ...] = ()
    name: str = ""
    alerts: AlertRules | None = None


@dataclass(frozen=True)
class Party:
    """Someone bound by an agreement, in a role such as provider, customer or team."""

    name: str
    role: str = ""
    contact: str = ""


@dataclass(frozen=True)
class Fee:
    """What the customer pays a month, the base a credit's percent is taken of."""

    amount: float
    currency: str


@dataclass(frozen=True)
class CreditTier:
    """In a month where fewer than ``below`` percent of ``metric``'s clocks were met, the customer
    is owed ``credit`` percent of the monthly fee."""

    metric: str
    below: float
    credit: float


@dataclass(frozen=True)
class Credits:
    """An agreement's credit schedule: the first tier that matches a month applies.

    Tiers go worst first (lowest ``below`` first for each metric), so the first match is the
    largest credit a month earns and tiers never add up. Without a ``fee`` a credit is only a
    percent, for contracts whose fee is kept elsewhere.
    """

    tiers: tuple[CreditTier, ...]
    fee: Fee | None = None


@dataclass(frozen=True)
class Agreement:
    """A contract and its ordered policies.

    An agreement applies to a ticket when it is in force on the ticket's creation date and its
    ``scope`` matches; then the first of its policies whose ``when`` matches applies. An OLA names
    the ``team`` (group) it binds: its clocks run only while that group holds the ticket.
    """

    id: str
    name: str = ""
    kind: AgreementKind = "sla"
    level: AgreementLevel = "customer"
    status: AgreementStatus = "active"
    parties: tuple[Party, ...] = ()
    services: tuple[str, ...] = ()
    description: str = ""
    owner: str = ""
    effective_from: date | None = None
    effective_to: date | None = None
    review_months: int | None = None
    scope: Condition | None = None
    team: str | None = None
    supports: tuple[str, ...] = ()
    policies: tuple[Policy, ...] = ()
    alerts: AlertRules | None = None
    credits: Credits | None = None

    def alerts_for(self, policy_id: str) -> AlertRules:
        """The alert rules for clocks under ``policy_id``: its own block, else the agreement's.

        A policy's block replaces the agreement's whole block rather than merging key by key, so
        what a policy says is all that applies to it (``alerts: {}`` silences it). Raises
        KeyError for a policy this agreement does not have.
        """
        for policy in self.policies:
            if policy.id == policy_id:
                if policy.alerts is not None:
                    return policy.alerts
                return self.alerts if self.alerts is not None else _NO_ALERTS
        raise KeyError(f"agreement {self.id!r} has no policy {policy_id!r}")

    @cached_property
    def fields_read(self) -> tuple[str, ...]:
        """Every field its scope and policies look at, sorted: a step that changes none of them
        keeps the policy of the step before (kept, because every ticket asks)."""
        names: set[str] = set()
        for condition in (self.scope, *(p.when for p in self.policies)):
            if condition is not None:
                names |= condition.fields()
        return tuple(sorted(names))

    @cached_property
    def fields_read_set(self) -> frozenset[str]:
        """``fields_read`` as a set, to test an event's fields against."""
        return frozenset(self.fields_read)

    @cached_property
    def metrics(self) -> tuple[str, ...]:
        """The metrics its policies have targets for, in order of first mention."""
        seen: dict[str, None] = {}
        for policy in self.policies:
            for target in policy.targets:
                seen.setdefault(target.metric, None)
        return tuple(seen)

    def in_force_on(self, day: date) -> bool:
        """Whether the agreement binds tickets created on ``day`` (drafts never do)."""
        if self.status == "draft":
            return False
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


@dataclass(frozen=True)
class SlaConfig:
    """Everything the clock engine needs: calendars, agreements, status and priority vocab."""

    calendars: Mapping[str, Calendar]
    agreements: tuple[Agreement, ...]
    statuses: Mapping[str, str] = field(default_factory=dict)
    priorities: tuple[str, ...] = ()
    custom_metrics: Mapping[str, CustomMetric] = field(default_factory=dict)
    version: str = ""

    @cached_property
    def ranks(self) -> Mapping[str, Mapping[str, int]] | None:
        """Priority ranks for conditions' ``lt``/``gt`` (None when no priorities are listed)."""
        if not self.priorities:
            return None
        return {"priority": {p: i for i, p in enumerate(self.priorities)}}

    @cached_property
    def derived(self) -> dict[Any, Any]:
        """What the clock engine derives from the config once rather than for every ticket
        (its own keys; the config itself never changes)."""
        return {}

    @cached_property
    def fields_watched(self) -> frozenset[str]:
        """The priority and every field an agreement reads: a step that sets none of them keeps
        every policy and target of the step before (kept, because every ticket asks)."""
        return frozenset(("priority", *(f for a in self.agreements for f in a.fields_read)))

    def calendar(self, name: str) -> Calendar:
        """The calendar named ``name``; ``24x7`` always exists."""
        if name in self.calendars:
            return self.calendars[name]
        if name == "24x7":
            return _ALWAYS_OPEN
        raise KeyError(f"unknown calendar {name!r}")

    def status_of(self, source_status: str | None) -> str | None:
        """A source's status mapped onto duly's (unmapped duly statuses pass through)."""
        if source_status is None:
            return None
        return self.statuses.get(source_status, source_status)


_ALWAYS_OPEN: Final = Calendar.always_open()
