"""The agreements and calendars of the config in force, as plain data a client can show.

Entry points need no knowledge of the config model: they get dicts of strings, numbers and lists
that render the same as JSON, in a template or in a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from duly.core.agreements import Agreement, AlertRules, Policy, RateTarget, SlaConfig, Target
from duly.core.calendar import WEEKDAYS, Calendar, Hours
from duly.core.conditions import Condition, describe
from duly.service.configs import ConfigCache, LoadedConfig
from duly.service.errors import NotFoundError
from duly.store.database import Database

__all__ = ["agreement", "agreements", "calendars"]

_ALWAYS_OPEN = "24x7"


def _loaded(db: Database, configs: ConfigCache) -> LoadedConfig:
    with db.read() as connection:
        return configs.current(connection)


def agreements(db: Database, configs: ConfigCache) -> list[dict[str, Any]]:
    """Every agreement of the config in force, in config order."""
    loaded = _loaded(db, configs)
    return [_agreement(a, loaded.version) for a in loaded.config.agreements]


def agreement(db: Database, configs: ConfigCache, agreement_id: str) -> dict[str, Any]:
    loaded = _loaded(db, configs)
    for candidate in loaded.config.agreements:
        if candidate.id == agreement_id:
            return _agreement(candidate, loaded.version)
    raise NotFoundError(f"agreement: no agreement {agreement_id!r}", "id")


def calendars(db: Database, configs: ConfigCache, now: datetime) -> list[dict[str, Any]]:
    """Every calendar a target may name, ``24x7`` included, with a one-line summary.

    Holidays are frozen for every supported year; only those of ``now``'s year are listed.
    """
    config = _loaded(db, configs).config
    names = sorted(config.calendars)
    if _ALWAYS_OPEN not in config.calendars:
        names.append(_ALWAYS_OPEN)
    return [_calendar(name, config, now.year) for name in names]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _text(condition: Condition | None) -> str | None:
    return None if condition is None else describe(condition)


def _agreement(item: Agreement, version: int) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "kind": item.kind,
        "level": item.level,
        "status": item.status,
        "parties": [{"name": p.name, "role": p.role, "contact": p.contact} for p in item.parties],
        "services": list(item.services),
        "description": item.description,
        "owner": item.owner,
        "effective_from": _day(item.effective_from),
        "effective_to": _day(item.effective_to),
        "review_months": item.review_months,
        "scope": _text(item.scope),
        "team": item.team,
        "supports": list(item.supports),
        "alerts": _alerts(item.alerts),
        "policies": [_policy(p) for p in item.policies],
        "config_version": version,
    }


def _policy(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": policy.name,
        "when": _text(policy.when),
        "targets": [_target(t) for t in policy.targets],
        "rate_targets": [_rate_target(t) for t in policy.rate_targets],
        "alerts": _alerts(policy.alerts),
    }


def _target(target: Target) -> dict[str, Any]:
    return {
        "metric": target.metric,
        "within_s": dict(target.durations),
        "calendar": target.calendar,
        "warnings": [{"percent": w.percent, "before_s": w.before} for w in target.warnings],
        "pause_on": None if target.pause_on is None else sorted(target.pause_on),
        "on_change": target.on_change,
        "max_pause_s": target.max_pause,
    }


def _rate_target(target: RateTarget) -> dict[str, Any]:
    return {
        "metric": target.metric,
        "percent": target.percent,
        "within_s": dict(target.within),
        "period": target.period,
        "calendar": target.calendar,
    }


def _alerts(rules: AlertRules | None) -> dict[str, Any] | None:
    if rules is None:
        return None
    return {
        "warning": list(rules.warning),
        "breach": list(rules.breach),
        "escalations": [{"after_s": e.after, "notify": list(e.notify)} for e in rules.escalations],
    }


def _clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hours(hours: Hours) -> list[str]:
    return [f"{_clock_time(start)}-{_clock_time(end)}" for start, end in hours]


def _week_summary(week: Mapping[str, list[str]]) -> str:
    """``mon-fri 08:00-17:00``: runs of weekdays with the same hours share one phrase."""
    phrases: list[str] = []
    days = list(WEEKDAYS)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and week[days[j + 1]] == week[days[i]]:
            j += 1
        if week[days[i]]:
            span = days[i] if i == j else f"{days[i]}-{days[j]}"
            phrases.append(f"{span} {', '.join(week[days[i]])}")
        i = j + 1
    return "; ".join(phrases) or "never open"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _calendar(name: str, config: SlaConfig, year: int) -> dict[str, Any]:
    calendar: Calendar = config.calendar(name)
    holidays = sorted(d.isoformat() for d in calendar.holidays if d.year == year)
    week = {day: _hours(hours) for day, hours in zip(WEEKDAYS, calendar.week, strict=True)}
    parts = [_week_summary(week)]
    if name == _ALWAYS_OPEN and name not in config.calendars:
        parts = ["always open"]
    if holidays:
        parts.append(_count(len(holidays), "holiday") + f" in {year}")
    if calendar.exceptions:
        parts.append(_count(len(calendar.exceptions), "exception"))
    return {
        "name": name,
        "timezone": calendar.timezone,
        "summary": f"{calendar.timezone}: {'; '.join(parts)}",
        "week": week,
        "holidays": holidays,
        "exceptions": {d.isoformat(): _hours(h) for d, h in sorted(calendar.exceptions.items())},
    }
