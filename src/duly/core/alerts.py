"""When a running clock's alerts are due, and who hears of them.

``alert_schedule(clock, config)`` is a pure function: from a clock as the engine last derived it
and the config's alert rules it lists every crossing the clock will make (or has made) while it
keeps running: each warning threshold of its target, the breach at its due time, and each
escalation after the breach. A monitor sends those whose time has come and records their keys;
the keys are stable strings, so "once per clock, cycle and threshold" is a unique key in the
store, and re-deriving the schedule after an event never sends one twice.

Only a running clock has crossings. A paused clock's due time is not known until it resumes (the
engine then gives it a new due and the schedule is derived again); a met or cancelled clock will
never cross anything.

Thresholds are counted back from the due time in the clock's calendar, the way the due time was
counted forward from now. Since the engine's due assumes the clock runs from now on, every
crossing still ahead of a running clock is exact; one it already passed before a pause is placed
as if that pause had not been, which matters only for its ``at`` as a record, not for sending it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from duly.core.agreements import AlertRules, SlaConfig, Target, Warning
from duly.core.clocks import Clock

#: Pause causes ``max_pause`` does not cap (as the engine has them).
_UNCAPPED: Final = frozenset({"solved", "other_team"})

__all__ = ["Crossing", "CrossingKind", "alert_schedule", "resumes_at", "rules_for"]

CrossingKind = Literal["warning", "breach", "escalation"]
#: States of a clock that still runs: only these cross anything.
RUNNING_STATES: Final = frozenset({"active", "breached"})
# At the same instant a warning is told before the breach, and the breach before escalations.
_KIND_ORDER: Final[dict[str, int]] = {"warning": 0, "breach": 1, "escalation": 2}


@dataclass(frozen=True)
class Crossing:
    """One alert a clock makes: its dedupe ``key``, when it is due and who is told.

    ``level`` is the escalation's number (1 for the first) and 0 for warnings and the breach.
    ``notify`` may be empty: the crossing is still recorded, it just reaches no channel.
    """

    key: str
    kind: CrossingKind
    at: datetime
    notify: tuple[str, ...]
    level: int = 0


def rules_for(config: SlaConfig, agreement_id: str, policy_id: str) -> AlertRules:
    """The alert rules in force for a policy: its own block, else its agreement's, else none.

    Raises KeyError when the config has no such agreement or policy (a clock derived from
    another config version must be derived again first).
    """
    for agreement in config.agreements:
        if agreement.id == agreement_id:
            return agreement.alerts_for(policy_id)
    raise KeyError(f"no agreement {agreement_id!r} in the config")


def alert_schedule(clock: Clock, config: SlaConfig) -> tuple[Crossing, ...]:
    """Every crossing of a running clock, sorted by ``at`` (empty for any other clock).

    Warnings come from the clock's target in ``config`` and are dropped when they would fall at
    or before the clock's start (a threshold of a target too short to warn in); the breach is at
    ``due``; escalation n is ``after`` wall-clock seconds past ``due``. Raises KeyError when the
    clock's agreement, policy or target is not in ``config``.
    """
    if clock.stop is not None or clock.state not in RUNNING_STATES:
        return ()
    rules = rules_for(config, clock.agreement, clock.policy)
    calendar = config.calendar(clock.calendar)
    crossings: dict[str, Crossing] = {}
    for threshold in _target_of(config, clock).warnings:
        key, before_due = _warning(threshold, clock.target_s)
        at = calendar.add(clock.due, -before_due)
        if at > clock.start and key not in crossings:
            crossings[key] = Crossing(key, "warning", at, rules.warning)
    crossings["breach"] = Crossing("breach", "breach", clock.due, rules.breach)
    for level, step in enumerate(rules.escalations, start=1):
        key = f"escalation:{level}"
        at = clock.due + timedelta(seconds=step.after)
        crossings[key] = Crossing(key, "escalation", at, step.notify, level)
    return tuple(
        sorted(crossings.values(), key=lambda c: (c.at, _KIND_ORDER[c.kind], c.level, c.key))
    )


def resumes_at(clock: Clock, config: SlaConfig) -> datetime | None:
    """When a paused clock runs again by itself: its pause reaches the target's ``max_pause``.

    No event marks that moment, so whoever stores clocks must re-derive the ticket then (and
    only then does the clock get a due and crossings again). None for a clock that is not
    paused, has no cap, or waits for a reason the cap does not apply to (solved, another team).
    """
    if clock.stop is not None or clock.state != "paused" or not clock.pauses:
        return None
    pause = clock.pauses[-1]
    if pause.end is not None or pause.cause in _UNCAPPED:
        return None
    cap = _target_of(config, clock).max_pause
    return None if cap is None else pause.start + timedelta(seconds=cap)


def _target_of(config: SlaConfig, clock: Clock) -> Target:
    for agreement in config.agreements:
        if agreement.id != clock.agreement:
            continue
        for policy in agreement.policies:
            if policy.id != clock.policy:
                continue
            for target in policy.targets:
                if target.metric == clock.metric:
                    return target
    raise KeyError(
        f"no target for {clock.metric!r} in policy {clock.policy!r} of agreement "
        f"{clock.agreement!r}"
    )


def _warning(threshold: Warning, target_s: float) -> tuple[str, float]:
    """The threshold's key and how many business seconds before the due time it is crossed."""
    if threshold.percent is not None:
        key = f"warning:{_number(threshold.percent)}%"
        return key, (1 - threshold.percent / 100) * target_s
    if threshold.before is None:
        raise ValueError("a warning threshold needs a percent or a duration before due")
    return f"warning:before:{_number(threshold.before)}", threshold.before


def _number(value: float) -> str:
    """``80`` for 80.0 and ``99.5`` for 99.5: keys must not change with how a number was read."""
    return str(int(value)) if value == int(value) else repr(value)
