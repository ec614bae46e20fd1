"""A ticket's events and the agreements in force -> every SLA clock on it.

Evaluation is a pure function, ``evaluate_ticket(events, config, now)``: the ticket is replayed
into states (``tickets``), each metric's cycles are found (``metrics``), and each cycle is measured
against the target of the policy in force, in business time of the target's calendar, with its
pauses. Changing the config or learning of a late event means calling it again.

The rules where DESIGN.md leaves a choice, all documented in docs/clocks.md:

* A clock's due time is where its running business time reaches the target, assuming it runs
  from now on; a pause pushes it back. A clock is breached once running time exceeds the target.
* When the policy or priority changes while a clock runs, the new target's ``on_change`` decides:
  ``retarget`` keeps the start and applies the new target, ``restart`` cancels the clock (unless it
  had already breached) and starts a new one at the change, ``stricter`` keeps the earlier due.
* A clock whose metric has no target under the new policy (or priority) is cancelled.
* ``max_pause`` caps each pause in real time; afterwards the clock runs again until the pause ends.
* An OLA's clocks run only while its team holds the ticket; other teams' time is a pause.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from duly.core.agreements import (
    CUMULATIVE_METRICS,
    DEFAULT_PAUSE_ON,
    Agreement,
    Policy,
    SlaConfig,
    Target,
)
from duly.core.calendar import BusinessReading, Calendar
from duly.core.conditions import Condition
from duly.core.events import Event
from duly.core.metrics import Cycle, cycles_of
from duly.core.tickets import DONE_STATUSES, Step, TicketHistory, replay

__all__ = ["Attribution", "Clock", "Pause", "evaluate_history", "evaluate_ticket"]

CLOCK_STATES: Final = ("active", "paused", "met", "breached", "cancelled")
# Causes of a pause that ``max_pause`` does not cap: resting while solved, another team's time.
_SOLVED: Final = "solved"
_OTHER_TEAM: Final = "other_team"
_UNCAPPED: Final = frozenset({_SOLVED, _OTHER_TEAM})
_NEVER: Final[frozenset[str]] = frozenset()
# At most this many answers are kept with a config (SlaConfig.derived).
_KEPT_MAX: Final = 1 << 16
_new: Final = object.__new__
_set: Final = object.__setattr__
_US: Final = 1_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
# Business time this long (71 years) could lose a microsecond on its way through float seconds,
# as ``Calendar.between`` gives it: only there is that way taken, so every total stays the same.
_EXACT_US: Final = 1 << 51


@dataclass(frozen=True, slots=True)
class Pause:
    """A span in which the clock did not run, and the status (or reason) that caused it."""

    start: datetime
    end: datetime | None
    cause: str
    business_s: float


@dataclass(frozen=True, slots=True)
class Attribution:
    """Business time of a clock spent while ``group`` and ``assignee`` held the ticket."""

    group: str | None
    assignee: str | None
    business_s: float


@dataclass(frozen=True)
class Clock:
    """One measurement of one metric on one ticket, as of ``now``."""

    ticket: str
    agreement: str
    policy: str
    metric: str
    cycle: int
    priority: str | None
    calendar: str
    target_s: float
    start: datetime
    due: datetime
    stop: datetime | None
    state: str
    breached_at: datetime | None
    business_elapsed_s: float
    calendar_elapsed_s: float
    paused_s: float
    remaining_s: float
    group: str | None = None
    assignee: str | None = None
    organization: str | None = None
    channel: str | None = None
    pauses: tuple[Pause, ...] = ()
    attribution: tuple[Attribution, ...] = ()
    agreement_kind: str = "sla"
    config_version: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in ("met", "breached", "cancelled") and self.stop is not None


def evaluate_ticket(events: Iterable[Event], config: SlaConfig, now: datetime) -> list[Clock]:
    """Every clock of one ticket as of ``now``: a pure function of its inputs."""
    if now.tzinfo is None:
        raise ValueError("now is a naive datetime; give it a time zone")
    history = replay(events, now, config.statuses)
    if history is None:
        return []
    return evaluate_history(history, config, now)


def evaluate_history(history: TicketHistory, config: SlaConfig, now: datetime) -> list[Clock]:
    """Clocks of a replayed ticket (the batch path replays once and calls this)."""
    ranks = config.ranks
    created_on = history.created_at.astimezone(UTC).date()
    steps = history.steps
    # Policies and targets change only at steps whose event sets a field some agreement reads,
    # or the priority: they are decided there, and hold until the next such step.
    watched = config.fields_watched
    changes = [0]
    for i in range(1, len(steps)):
        if not watched.isdisjoint(steps[i].event.fields):
            changes.append(i)
    priorities = [steps[i].state.get("priority") for i in changes]
    cycles: dict[str, list[Cycle]] = {}
    clocks: list[Clock] = []
    ticket = _Ticket(history, config, now)
    for agreement in config.agreements:
        if not agreement.in_force_on(created_on):
            continue
        policies = _policies(agreement, steps, changes, ranks)
        if policies is None:
            continue
        for metric in agreement.metrics:
            # The cumulative metrics share their one cycle.
            key = _CUMULATIVE if metric in CUMULATIVE_METRICS else metric
            if key not in cycles:
                cycles[key] = cycles_of(metric, history, config.custom_metrics, ranks)
            if not cycles[key]:
                continue
            targets = _targets(config, policies, metric, priorities)
            for cycle in cycles[key]:
                clocks.extend(
                    _clocks_of_cycle(ticket, agreement, metric, cycle, changes, policies, targets)
                )
    return clocks


_CUMULATIVE: Final = "(cumulative)"


def _policies(
    agreement: Agreement,
    steps: tuple[Step, ...],
    changes: list[int],
    ranks: Mapping[str, Mapping[str, int]] | None,
) -> list[Policy | None] | None:
    """The agreement's policy from each of the ``changes`` steps on; None if it never has one."""
    fields = agreement.fields_read
    read = agreement.fields_read_set
    decided: dict[tuple[Any, ...], Policy | None] = {}
    policies: list[Policy | None] = []
    for i in changes:
        step = steps[i]
        if policies and read.isdisjoint(step.event.fields):
            policies.append(policies[-1])  # nothing the agreement reads changed
            continue
        # Steps that agree on every field the agreement reads get the same policy.
        state = step.state
        key = tuple([_hashable(state.get(f)) for f in fields])
        if key in decided:
            policies.append(decided[key])
        else:
            policy = decided[key] = _policy_at(agreement, step, ranks)
            policies.append(policy)
    if policies.count(None) == len(policies):
        return None
    return policies


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | set | frozenset) else value


def _policy_at(
    agreement: Agreement, step: Step, ranks: Mapping[str, Mapping[str, int]] | None
) -> Policy | None:
    if agreement.scope is not None and not agreement.scope.matches(step.state, ranks):
        return None
    for policy in agreement.policies:
        if policy.when is None or policy.when.matches(step.state, ranks):
            return policy
    return None


_Found = tuple[Target, float] | None
_Labels = tuple[str | None, str | None, str | None, str | None, str | None]


def _targets(
    config: SlaConfig, policies: list[Policy | None], metric: str, priorities: list[Any]
) -> list[_Found]:
    """The metric's target and its seconds under each policy and priority (None: none)."""
    found: list[_Found] = []
    kept = config.derived
    for i, (policy, priority) in enumerate(zip(policies, priorities, strict=True)):
        if i and policy is policies[i - 1] and priority == priorities[i - 1]:
            found.append(found[-1])
        elif policy is None:
            found.append(None)
        else:
            # Kept with the config like ``_rule``'s answers (policies cannot be hashed either).
            text = priority if isinstance(priority, str) else None
            key = ("target", id(policy), metric, text)
            entry = kept.get(key)
            if entry is None or entry[0] is not policy:
                entry = (policy, _target_of(policy, metric, text))
                if len(kept) < _KEPT_MAX:  # priorities are the tickets' own text: keep a few
                    kept[key] = entry
            found.append(entry[1])
    return found


def _target_of(policy: Policy | None, metric: str, priority: Any) -> tuple[Target, float] | None:
    if policy is None:
        return None
    for target in policy.targets:
        if target.metric == metric:
            seconds = target.duration_for(priority if isinstance(priority, str) else None)
            return None if seconds is None else (target, seconds)
    return None


@dataclass
class _Running:
    """A clock being assembled while its cycle's target phases are walked."""

    start: datetime
    policy: Policy
    candidates: list[tuple[Target, float]]


def _running(start: datetime, policy: Policy, found: tuple[Target, float]) -> _Running:
    """``_Running(start, policy, [found])`` without the dataclass call (one per clock)."""
    running = _new(_Running)
    running.start, running.policy, running.candidates = start, policy, [found]
    return running


def _clocks_of_cycle(
    ticket: _Ticket,
    agreement: Agreement,
    metric: str,
    cycle: Cycle,
    changes: list[int],
    policies: list[Policy | None],
    targets: list[_Found],
) -> list[Clock]:
    """Split a cycle into clocks by the targets in force while it ran, and measure each.

    From each step in ``changes`` on, until the next, ``policies`` and ``targets`` give the
    agreement's policy and the metric's target (None: none).
    """
    history = ticket.history
    end = cycle.stop if cycle.stop is not None else ticket.now
    steps = history.steps
    # The last step at or before the start (cycles start at steps: there is one), and the phase
    # it is in; then the steps where a phase begins (between them nothing changes).
    first = max(bisect_right(history.times, cycle.start) - 1, 0)
    k = bisect_right(changes, first) - 1
    walk: Iterable[tuple[int, Policy | None, _Found]]
    if k == len(changes) - 1:  # no change after the start (most clocks)
        walk = ((first, policies[k], targets[k]),)
    else:
        walk = zip([first, *changes[k + 1 :]], policies[k:], targets[k:], strict=True)
    done: list[tuple[_Running, datetime | None, str]] = []  # clock, stop, how it ended
    running: _Running | None = None
    for i, policy, found in walk:
        at = max(steps[i].at, cycle.start)
        if i > first and at >= end:
            break
        if found is None or policy is None:
            if running is not None:
                done.append((running, at, "cancelled"))
                running = None
            continue
        if running is None:
            running = _running(at, policy, found)
        elif at == running.start:  # settled in the same instant it started: no change yet
            running.policy, running.candidates = policy, [found]
        elif found == running.candidates[-1] and policy.id == running.policy.id:
            continue
        elif found[0].on_change == "restart":
            done.append((running, at, "restarted"))
            running = _running(at, policy, found)
        elif found[0].on_change == "stricter":
            running.policy = policy
            running.candidates.append(found)
        else:
            running.policy, running.candidates = policy, [found]
    if running is not None:
        done.append((running, cycle.stop, "final"))
    return [
        _measure_best(ticket, agreement, metric, cycle, item, stop, ending)
        for item, stop, ending in done
    ]


def _measure_best(
    ticket: _Ticket,
    agreement: Agreement,
    metric: str,
    cycle: Cycle,
    item: _Running,
    stop: datetime | None,
    ending: str,
) -> Clock:
    """Measure under each candidate target; ``stricter`` keeps the one due first.

    A clock ended by a ``restart`` keeps a breach it already had and is otherwise cancelled; a
    clock whose metric lost its target is cancelled whatever it was.
    """
    best: Clock | None = None
    for target, seconds in item.candidates:
        clock = _measure(ticket, agreement, metric, cycle, item, target, seconds, stop)
        if best is None or clock.due < best.due:
            best = clock
    assert best is not None
    if ending == "cancelled" or (ending == "restarted" and best.state != "breached"):
        best = replace(best, state="cancelled", breached_at=None)
    return best


def _rule(
    config: SlaConfig, agreement: Agreement, metric: str, target: Target, cumulative: bool
) -> _Rule:
    """The pause rule of a target's clocks, kept with the config (every ticket asks again).

    Agreements and targets cannot be hashed (their durations are dicts): they are keyed by
    identity, and an entry is used only for the very objects it was made for, so that a copied
    config cannot meet another object under a stale id.
    """
    rules = config.derived
    key = ("pause rule", id(agreement), metric, id(target), cumulative)
    kept = rules.get(key)
    if kept is not None and kept[0] is agreement and kept[1] is target:
        rule: _Rule = kept[2]
        return rule
    custom = config.custom_metrics.get(metric)
    rule = _Rule(
        cumulative,
        agreement.team if agreement.kind in ("ola", "uc") else None,
        target.pauses(DEFAULT_PAUSE_ON.get(metric, _NEVER)),
        None if custom is None else custom.pause,
        config.ranks,
    )
    rules[key] = (agreement, target, rule)
    return rule


class _Ticket:
    """One evaluation of a ticket, and what its clocks share."""

    __slots__ = ("_before", "_labels", "config", "history", "now", "now_us")

    def __init__(self, history: TicketHistory, config: SlaConfig, now: datetime) -> None:
        self.history = history
        self.config = config
        self.now = now
        self.now_us = (now - _EPOCH) // _ONE_US
        self._before: dict[str, BusinessReading | None] = {}
        self._labels: dict[int, _Labels] = {}

    def labels(self, i: int) -> _Labels:
        """A clock's priority, group, assignee, organization and channel, as text, from the
        state after step ``i`` (the ticket's clocks mostly read the same one or two)."""
        labels = self._labels.get(i)
        if labels is None:
            state = self.history.steps[i].state
            labels = self._labels[i] = (
                _text(state.get("priority")),
                _text(state.get("group")),
                _text(state.get("assignee")),
                _text(state.get("organization")),
                _text(state.get("channel")),
            )
        return labels

    def before_steps(self, name: str) -> BusinessReading | None:
        """Business time before each step and before ``now`` (last) in calendar ``name``, from
        one origin; None when ``now`` comes before a step or lies outside the calendar's years
        (the clocks are then cut one by one, which also raises where it must)."""
        if name not in self._before:
            times = self.history.times_us
            found: BusinessReading | None = None
            if self.now_us >= times[-1]:
                try:
                    found = self.config.calendar(name).reading_us([*times, self.now_us])
                except ValueError:
                    found = None
            self._before[name] = found
        return self._before[name]


# What walking a clock's pieces gives: running and paused business microseconds, the due
# instant, the pauses as [start, end, cause, business seconds], business microseconds per
# (group, assignee), and whether the clock is paused now.
_Walked = tuple[int, int, int, list[list[Any]], dict[tuple[Any, Any], int], bool]


def _measure(
    ticket: _Ticket,
    agreement: Agreement,
    metric: str,
    cycle: Cycle,
    item: _Running,
    target: Target,
    seconds: float,
    stop: datetime | None,
) -> Clock:
    history, config = ticket.history, ticket.config
    start = item.start
    running = stop is None
    start_us = (start - _EPOCH) // _ONE_US
    if stop is None:
        end, end_us = ticket.now, ticket.now_us
    else:
        end, end_us = stop, (stop - _EPOCH) // _ONE_US
    rule = _rule(config, agreement, metric, target, cycle.cumulative)
    remaining_us = round(seconds * _US)
    walked: _Walked | None = None
    if target.max_pause is None:
        walked = _walk_steps(
            ticket, target.calendar, start_us, end, end_us, running, rule, remaining_us
        )
    if walked is None:
        calendar = config.calendar(target.calendar)
        walked = _walk_pieces(
            history, calendar, start, start_us, end, end_us, running, rule, target, remaining_us
        )
    running_us, paused_us, due_us, pauses, holders, paused_now = walked
    due = _EPOCH + timedelta(microseconds=due_us)
    if pauses and paused_now:
        pauses[-1][1] = None

    breached = end_us > due_us
    if not running:
        state = "breached" if breached else "met"
    elif breached:
        state = "breached"
    else:
        state = "paused" if paused_now else "active"
    priority, group, assignee, organization, channel = ticket.labels(
        len(history.steps) - 1 if running else max(bisect_left(history.times_us, end_us) - 1, 0)
    )
    clock = object.__new__(Clock)
    # Built without the frozen dataclass's per-field ``__setattr__``: the per-ticket path
    # builds a few clocks per event it evaluates, and the frozen ``__init__`` was a tenth of its
    # time. Every field is given (a test checks), and the clock is as immutable as any other.
    object.__setattr__(
        clock,
        "__dict__",
        {
            "ticket": history.ticket,
            "agreement": agreement.id,
            "policy": item.policy.id,
            "metric": metric,
            "cycle": cycle.number,
            "priority": priority,
            "calendar": target.calendar,
            "target_s": seconds,
            "start": start,  # event times are UTC already, and so are the calendar's answers
            "due": due,
            "stop": stop,
            "state": state,
            "breached_at": due if breached else None,
            "business_elapsed_s": running_us / _US,
            "calendar_elapsed_s": (end_us - start_us) / _US,
            "paused_s": paused_us / _US,
            "remaining_s": seconds - running_us / _US,
            "group": group,
            "assignee": assignee,
            "organization": organization,
            "channel": channel,
            "pauses": tuple([_pause(a, b, c, s) for a, b, c, s in pauses]),
            "attribution": tuple(
                [_attribution(_text(g), _text(a), us / _US) for (g, a), us in holders.items()]
            ),
            "agreement_kind": agreement.kind,
            "config_version": config.version,
            "extra": _NO_EXTRA,
        },
    )
    return clock


_NO_EXTRA: Final[Mapping[str, Any]] = MappingProxyType({})


def _pause(start: datetime, end: datetime | None, cause: str, business_s: float) -> Pause:
    """``Pause(...)`` field by field: a third of the cost of calling the frozen dataclass."""
    pause = _new(Pause)
    _set(pause, "start", start)
    _set(pause, "end", end)
    _set(pause, "cause", cause)
    _set(pause, "business_s", business_s)
    return pause


def _attribution(group: str | None, assignee: str | None, business_s: float) -> Attribution:
    """``Attribution(...)`` field by field, as ``_pause``."""
    attribution = _new(Attribution)
    _set(attribution, "group", group)
    _set(attribution, "assignee", assignee)
    _set(attribution, "business_s", business_s)
    return attribution


def _exact(us: int) -> int:
    """Microseconds as ``calendar.between`` and ``calendar.add`` would see them: through float
    seconds, which changes nothing below 71 years."""
    return us if -_EXACT_US < us < _EXACT_US else round(us / _US * _US)


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _walk_steps(
    ticket: _Ticket,
    name: str,
    start_us: int,
    end: datetime,
    end_us: int,
    running: bool,
    rule: _Rule,
    remaining_us: int,
) -> _Walked | None:
    """Walk a clock that starts and ends at steps (or ends now) and whose pauses are not
    capped, as almost every clock does: its pieces are the spans between steps, and their
    business time comes from the ticket's table in the calendar, shared by all its clocks.

    It reads exactly as ``_walk_pieces`` (a test compares them); None when the clock is not
    such a clock.
    """
    history = ticket.history
    times = history.times_us
    last = len(times) - 1
    first = max(bisect_right(times, start_us) - 1, 0)
    if times[first] != start_us:
        return None
    if running:
        end_at = last + 1  # the table's slot for now
    else:
        end_at = bisect_left(times, end_us)
        if end_at > last or times[end_at] != end_us:
            return None
    reading = ticket.before_steps(name)
    if reading is None:
        return None
    before = reading.before
    steps = history.steps
    running_us = 0
    paused_us = 0
    due_us = -1
    pauses: list[list[Any]] = []
    holders: dict[tuple[Any, Any], int] = {}
    cause: str | None = None
    for i in range(first, last + 1):
        at_us = times[i]
        if at_us > end_us:
            break
        at_step = i < last and times[i + 1] <= end_us  # the piece ends at the next step
        if at_step:
            j = i + 1
            b_us = times[j]
        else:
            j = end_at
            b_us = end_us
        if at_us < b_us or (running and i == last and at_us == b_us):
            step = steps[i]
            state = step.state
            cause = _pause_cause(step, rule)
            business = before[j] - before[i]
            if business >= _EXACT_US:
                business = _exact(business)
            if cause is not None:
                paused_us += business
                b = steps[j].at if at_step else end
                if pauses and pauses[-1][2] == cause and pauses[-1][1] == step.at:
                    pause = pauses[-1]
                    pause[1] = b
                    pause[3] = pause[3] + business / _US
                else:
                    pauses.append([step.at, b, cause, business / _US])
            else:
                running_us += business
                if b_us > at_us:
                    key = (state.get("group"), state.get("assignee"))
                    holders[key] = holders.get(key, 0) + business
                if due_us < 0:
                    if business > remaining_us:
                        due_us = reading.add_us(at_us, before[i], _exact(remaining_us))
                    else:
                        remaining_us -= business
    if due_us < 0:
        due_us = reading.add_us(end_us, before[end_at], _exact(remaining_us))
    return running_us, paused_us, due_us, pauses, holders, running and cause is not None


def _walk_pieces(
    history: TicketHistory,
    calendar: Calendar,
    start: datetime,
    start_us: int,
    end: datetime,
    end_us: int,
    running: bool,
    rule: _Rule,
    target: Target,
    remaining_us: int,
) -> _Walked:
    """Walk any clock: cut it at every step (and where a capped pause expires) and measure the
    pieces with one call to the calendar."""
    spans, cuts = _spans(history, start, start_us, end, end_us, running, rule)
    if target.max_pause is not None:
        spans, cuts = _cap_pauses(spans, cuts, target.max_pause)
    # Piece k runs from cuts[k] to cuts[k + 1]; with the business time before each cut, from
    # one origin, a piece's business time is a difference.
    before = calendar.business_before_us(cuts)

    # Sums are kept in whole microseconds so that any order of adding gives the same total
    # (the batch path adds the same pieces with NumPy).
    running_us = 0
    paused_us = 0
    due_us = -1
    # Pauses as [start, end, cause, business seconds], merged while one cause goes on.
    pauses: list[list[Any]] = []
    holders: dict[tuple[Any, Any], int] = {}
    for k, (a, b, cause, held) in enumerate(spans):
        business = before[k + 1] - before[k]
        if business >= _EXACT_US:
            business = _exact(business)
        if cause is not None:
            paused_us += business
            if pauses and pauses[-1][2] == cause and pauses[-1][1] == a:
                last = pauses[-1]
                last[1] = b
                last[3] = last[3] + business / _US
            else:
                pauses.append([a, b, cause, business / _US])
        else:
            running_us += business
            if cuts[k + 1] > cuts[k]:
                key = (held.get("group"), held.get("assignee"))
                holders[key] = holders.get(key, 0) + business
            if due_us < 0:
                if business > remaining_us:
                    due_us = calendar.add_us(cuts[k], _exact(remaining_us))
                else:
                    remaining_us -= business
    if due_us < 0:
        due_us = calendar.add_us(end_us, _exact(remaining_us))
    paused_now = running and bool(spans) and spans[-1][2] is not None
    return running_us, paused_us, due_us, pauses, holders, paused_now


Span = tuple[datetime, datetime, str | None, Mapping[str, Any]]


class _Rule(NamedTuple):
    """What pauses a clock: see docs/clocks.md, "Pauses" (the first cause that holds wins)."""

    cumulative: bool  # rests while the ticket is solved
    team: str | None  # an OLA's team: other groups' time is a pause
    statuses: frozenset[str]
    custom: Condition | None  # a custom metric's pause condition
    ranks: Mapping[str, Mapping[str, int]] | None


def _pause_cause(step: Step, rule: _Rule) -> str | None:
    """Why the clock rests during ``step`` (None: it runs); the first cause that holds wins."""
    status = step.status
    if rule.cumulative and status in DONE_STATUSES:
        return _SOLVED
    if rule.team is not None and step.state.get("group") != rule.team:
        return _OTHER_TEAM
    if status in rule.statuses:
        return status
    if rule.custom is not None and rule.custom.matches(step.state, rule.ranks):
        return "custom"
    return None


def _spans(
    history: TicketHistory,
    start: datetime,
    start_us: int,
    end: datetime,
    end_us: int,
    running: bool,
    rule: _Rule,
) -> tuple[list[Span], list[int]]:
    """``[start, end)`` cut at every step, each piece with its pause cause (None = running).

    A running clock also gets the empty piece of a step made at ``end`` itself, so that a ticket
    that went pending this very instant reads as paused. The pieces follow one another, so their
    ends in epoch microseconds come as one list of cuts, one longer than the pieces.
    """
    spans: list[Span] = []
    cuts: list[int] = []
    steps = history.steps
    times = history.times_us
    last = len(steps) - 1
    # Steps wholly before the start leave nothing: begin at the one in force at the start.
    i = max(bisect_right(times, start_us) - 1, 0)
    while i <= last:
        at_us = times[i]
        if at_us > end_us:
            break
        step = steps[i]
        if start_us > at_us:
            a, a_us = start, start_us
        else:
            a, a_us = step.at, at_us
        if i < last and times[i + 1] <= end_us:
            b, b_us = steps[i + 1].at, times[i + 1]
        else:
            b, b_us = end, end_us
        if a_us < b_us or (running and i == last and a_us == b_us):
            if not cuts:
                cuts.append(a_us)
            cuts.append(b_us)
            spans.append((a, b, _pause_cause(step, rule), step.state))
        i += 1
    return spans, cuts


def _cap_pauses(
    spans: list[Span], cuts: list[int], max_pause: float
) -> tuple[list[Span], list[int]]:
    """Let the clock run again once a pause has lasted ``max_pause`` real seconds."""
    limit = timedelta(seconds=max_pause)
    limit_us = limit // _ONE_US
    capped: list[Span] = []
    capped_cuts = cuts[:1]
    pause_began: datetime | None = None
    previous: str | None = None
    expires = _EPOCH
    expires_us = 0
    for k, (a, b, cause, state) in enumerate(spans):
        a_us, b_us = cuts[k], cuts[k + 1]
        if cause is None or cause in _UNCAPPED:
            pause_began, previous = None, None
            capped.append((a, b, cause, state))
            capped_cuts.append(b_us)
            continue
        if cause != previous or pause_began is None:
            pause_began, previous = a, cause  # each status's pause has its own cap
            expires, expires_us = a + limit, a_us + limit_us
        if b_us <= expires_us:
            capped.append((a, b, cause, state))
        elif a_us >= expires_us:
            capped.append((a, b, None, state))
        else:
            capped.append((a, expires, cause, state))
            capped.append((expires, b, None, state))
            capped_cuts.append(expires_us)
        capped_cuts.append(b_us)
    return capped, capped_cuts
