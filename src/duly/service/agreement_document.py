"""An agreement as a document people read and sign: every promise of the YAML in plain words.

The config is written for the engine (``4h`` in ``stockholm``, ``pause_on: [pending]``); the
customer, the team lead and the auditor read "4 business hours (stockholm)" and "paused while
the ticket waits on the customer". This module turns one agreement into a dict of ready-made
sentences and table cells, so the page that shows it (the ``agreement_document.html`` fragment
of the dashboard) holds no SLA rules and a JSON client gets the same words.
"""

from __future__ import annotations

import calendar as month_days
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final

from duly.core.agreements import (
    BUILTIN_METRICS,
    DEFAULT_PAUSE_ON,
    Agreement,
    AlertRules,
    Credits,
    Policy,
    RateTarget,
    SlaConfig,
    Target,
)
from duly.core.calendar import Calendar
from duly.core.conditions import describe
from duly.service.errors import NotFoundError

__all__ = [
    "METRIC_DESCRIPTIONS",
    "REVIEW_NOTICE_DAYS",
    "UnknownAgreementError",
    "agreement_document",
    "duration_words",
    "next_review_on",
]

#: A review is due when the next review date is at most this many days away.
REVIEW_NOTICE_DAYS: Final = 30
_ANY: Final = "*"
_WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_MONTH_NAMES: Final = tuple(month_days.month_name)

#: How each built-in metric is measured, in the words of DESIGN.md's metric table, for a reader
#: who has never seen a help desk's admin screens.
METRIC_DESCRIPTIONS: Final[Mapping[str, tuple[str, str]]] = {
    "first_reply": (
        "First reply",
        "The time from when a ticket is opened until the first public reply from the support "
        "team. It is measured once per ticket.",
    ),
    "next_reply": (
        "Next reply",
        "Each time the customer writes and no earlier message of theirs is still waiting for "
        "an answer, the time until the support team's next public reply. It is measured for "
        "every such message.",
    ),
    "periodic_update": (
        "Periodic update",
        "After the first reply, the time from each public update by the support team to the "
        "next one, until the ticket is solved, so that the customer is kept informed.",
    ),
    "pausable_update": (
        "Periodic update (pausable)",
        "Like the periodic update, but the time does not count while the ticket waits on the "
        "customer or on a third party.",
    ),
    "requester_wait": (
        "Requester wait time",
        "The total time the customer waits for a solution: from when the ticket is opened "
        "until it is solved, not counting time spent waiting on the customer. If the ticket "
        "is reopened, the time counts on from where it stopped.",
    ),
    "agent_work": (
        "Agent work time",
        "The total time the ticket is in the support team's hands: from when it is opened "
        "until it is solved, not counting time spent waiting on the customer or on a third "
        "party. If the ticket is reopened, the time counts on from where it stopped.",
    ),
    "resolution": (
        "Resolution time",
        "The total time from when a ticket is opened until it is solved. If the ticket is "
        "reopened, the time counts on from where it stopped; it is final when the ticket is "
        "closed. It pauses only where a policy says so (see pause rules).",
    ),
}

_STATUS_WORDS: Final = {
    "new": "new",
    "open": "open",
    "pending": "waiting on the customer",
    "on_hold": "waiting on a third party",
    "solved": "solved",
    "closed": "closed",
}
_KIND_WORDS: Final = {
    "sla": ("Service level agreement (SLA)", "what the provider promises its customer"),
    "ola": ("Operational level agreement (OLA)", "what one internal team promises another"),
    "uc": ("Underpinning contract (UC)", "what a supplier promises the provider"),
}
_LEVEL_WORDS: Final = {
    "corporate": "Corporate level: applies to every customer",
    "customer": "Customer level: applies to one customer or group of customers",
    "service": "Service level: applies to one service",
}
_STATUS_OF_AGREEMENT: Final = {
    "draft": "Draft: not yet in force",
    "active": "Active",
    "expired": "Expired: no longer in force",
}
_ON_CHANGE_WORDS: Final = {
    "retarget": "its due time is worked out again from the original start",
    "restart": "the clock starts again from the change",
    "stricter": "the earlier of the old and the new due time applies",
}
_PERIOD_WORDS: Final = {
    "day": "each day",
    "week": "each week",
    "month": "each month",
    "quarter": "each quarter",
    "year": "each year",
}


class UnknownAgreementError(NotFoundError, KeyError):
    """No agreement with that id: a NotFoundError for the API, a KeyError for Python callers."""

    def __str__(self) -> str:
        return self.message


def agreement_document(config: SlaConfig, agreement_id: str, today: date) -> dict[str, Any]:
    """Everything a readable document of ``agreement_id`` shows, as words and table cells.

    ``today`` decides the next review date, whether a review is due, and which year's holidays
    are listed. Raises UnknownAgreementError (a NotFoundError and a KeyError) for an unknown id.
    """
    agreement = next((a for a in config.agreements if a.id == agreement_id), None)
    if agreement is None:
        known = ", ".join(a.id for a in config.agreements) or "none"
        raise UnknownAgreementError(
            f"agreement: no agreement {agreement_id!r} (known: {known})", "agreement"
        )
    kind_text, kind_means = _KIND_WORDS[agreement.kind]
    calendars = _calendars_used(agreement)
    return {
        "id": agreement.id,
        "title": agreement.name or agreement.id,
        "as_of": today.isoformat(),
        "summary": {
            "name": agreement.name or agreement.id,
            "kind": agreement.kind,
            "kind_text": kind_text,
            "kind_means": kind_means,
            "level": agreement.level,
            "level_text": _LEVEL_WORDS[agreement.level],
            "status": agreement.status,
            "status_text": _STATUS_OF_AGREEMENT[agreement.status],
            "owner": agreement.owner,
        },
        "parties": [
            {"name": p.name, "role": p.role, "contact": p.contact} for p in agreement.parties
        ],
        "services": list(agreement.services),
        "description": agreement.description.strip(),
        "scope": "every ticket" if agreement.scope is None else describe(agreement.scope),
        "team": agreement.team,
        "supports": list(agreement.supports),
        "service_hours": [_service_hours(name, config.calendar(name), today) for name in calendars],
        "policies": [_policy(config, agreement, p, i) for i, p in enumerate(agreement.policies)],
        "metrics": _metrics(config, agreement),
        "pause_rules": _pause_rules(config, agreement),
        "alerts": _alerts(agreement),
        "credits": _credits(agreement.credits),
        "effective": _effective(agreement),
        "review": _review(agreement, today),
    }


# --- durations and dates in words ----------------------------------------------------------------


def duration_words(seconds: float, calendar_name: str, calendar: Calendar) -> str:
    """``4 business hours (stockholm)``, or ``2 days (around the clock)`` on a 24x7 calendar.

    Business durations are given in hours, never days: "3d" on a 9-17 calendar is 72 business
    hours, which a reader would misread as three working days.
    """
    if _always_open(calendar):
        return f"{_amount(seconds, days=True)} (around the clock)"
    label = calendar.name or calendar_name
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{_plural(hours, 'hour')} {_plural(rest, 'minute')} of business time ({label})"
    if hours:
        return f"{_plural(hours, 'business hour')} ({label})"
    return f"{_plural(rest, 'business minute')} ({label})"


def _amount(seconds: float, days: bool) -> str:
    minutes = round(seconds / 60)
    parts = []
    units = ((1440, "day"), (60, "hour"), (1, "minute")) if days else ((60, "hour"), (1, "minute"))
    for size, name in units:
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(_plural(count, name))
    return " ".join(parts) or "0 minutes"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _always_open(calendar: Calendar) -> bool:
    return (
        all(day == ((0, 1440),) for day in calendar.week)
        and not calendar.holidays
        and not calendar.exceptions
    )


def _day_text(day: date) -> str:
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month]} {day.year}"


def _date_text(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month]} {day.year}"


def _clock(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours:02d}:{rest:02d}"


def _hours_text(hours: Sequence[tuple[int, int]]) -> str:
    if not hours:
        return "closed"
    return ", ".join(f"{_clock(a)}\u2013{_clock(b)}" for a, b in hours)


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _or(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


# --- service hours ------------------------------------------------------------------------------


def _days_text(first: int, last: int) -> str:
    if first == last:
        return _WEEKDAY_NAMES[first]
    joint = " and " if last == first + 1 else " to "
    return f"{_WEEKDAY_NAMES[first]}{joint}{_WEEKDAY_NAMES[last]}"


def _calendars_used(agreement: Agreement) -> list[str]:
    """The calendars the agreement's targets and rate targets count in, in order of first use."""
    names: list[str] = []
    for policy in agreement.policies:
        for item in _promises(policy):
            if item.calendar not in names:
                names.append(item.calendar)
    return names


def _promises(policy: Policy) -> list[Target | RateTarget]:
    return [*policy.targets, *policy.rate_targets]


def _service_hours(name: str, calendar: Calendar, today: date) -> dict[str, Any]:
    """One calendar in words: the week grouped into runs of days with the same hours, this
    year's holidays and the dated exceptions."""
    if _always_open(calendar):
        return {
            "calendar": name,
            "label": calendar.name or name,
            "timezone": calendar.timezone,
            "always_open": True,
            "week": [{"days": "Every day", "hours": "around the clock"}],
            "hours_per_week": "168 hours",
            "holidays": {"year": today.year, "count": 0, "dates": []},
            "exceptions": [],
            "text": "Around the clock, every day of the year.",
        }
    runs: list[dict[str, Any]] = []
    for i, hours in enumerate(calendar.week):
        text = _hours_text(hours)
        if runs and runs[-1]["hours"] == text:
            runs[-1]["last"] = i
        else:
            runs.append({"first": i, "last": i, "hours": text})
    week = [
        {
            "days": _days_text(r["first"], r["last"]),
            "hours": r["hours"],
        }
        for r in runs
    ]
    weekly_minutes = sum(b - a for day in calendar.week for a, b in day)
    holidays = sorted(d for d in calendar.holidays if d.year == today.year)
    exceptions = sorted(calendar.exceptions.items())
    open_runs = [f"{w['days']} {w['hours']}" for w in week if w["hours"] != "closed"]
    text = f"{_and(open_runs) or 'Never open'} ({calendar.timezone} time)"
    closed = [f"closed on {_plural(len(holidays), 'holiday')} in {today.year}"]
    if exceptions:
        closed.append(f"with other hours on {_plural(len(exceptions), 'date')}")
    return {
        "calendar": name,
        "label": calendar.name or name,
        "timezone": calendar.timezone,
        "always_open": False,
        "week": week,
        "hours_per_week": _amount(weekly_minutes * 60, days=False),
        "holidays": {
            "year": today.year,
            "count": len(holidays),
            "dates": [{"on": d.isoformat(), "text": _day_text(d)} for d in holidays],
        },
        "exceptions": [
            {"on": d.isoformat(), "text": _day_text(d), "hours": _hours_text(h)}
            for d, h in exceptions
        ],
        "text": f"{text}, {_and(closed)}.",
    }


# --- policies and targets ------------------------------------------------------------------------


def _metric_name(metric: str) -> str:
    if metric in METRIC_DESCRIPTIONS:
        return METRIC_DESCRIPTIONS[metric][0]
    return metric.replace("_", " ").capitalize()


def _columns(config: SlaConfig, targets: Iterable[Mapping[str, float]]) -> list[str]:
    """The priorities a policy's table needs, most urgent first, then ``*`` (the rest)."""
    named = {p for durations in targets for p in durations}
    order = list(reversed(config.priorities)) or sorted(named - {_ANY})
    columns = [p for p in order if p in named]
    return [*columns, _ANY] if _ANY in named else columns


def _column_label(priority: str, columns: Sequence[str]) -> str:
    if priority != _ANY:
        return priority
    return "every priority" if len(columns) == 1 else "other priorities"


def _policy(config: SlaConfig, agreement: Agreement, policy: Policy, index: int) -> dict[str, Any]:
    columns = _columns(config, (t.durations for t in policy.targets))
    earlier = "every ticket" if index == 0 else "every ticket no policy above applies to"
    return {
        "id": policy.id,
        "name": policy.name or policy.id,
        "applies_to": earlier if policy.when is None else describe(policy.when),
        "priorities": [{"key": p, "label": _column_label(p, columns)} for p in columns],
        "targets": [
            {
                "metric": t.metric,
                "metric_name": _metric_name(t.metric),
                "cells": [_cell(config, t, p) for p in columns],
                "warnings": _warning_text(t),
            }
            for t in policy.targets
        ],
        "rate_targets": [_rate_target(config, r) for r in policy.rate_targets],
        "alerts": None if policy.alerts is None else _alert_rules(policy.alerts),
    }


def _cell(config: SlaConfig, target: Target, priority: str) -> str:
    seconds = target.durations.get(priority)
    if seconds is None:
        return "no target"
    return duration_words(seconds, target.calendar, config.calendar(target.calendar))


def _warning_text(target: Target) -> str:
    parts = []
    for warning in target.warnings:
        if warning.percent is not None:
            parts.append(f"at {warning.percent:g} % of the target")
        elif warning.before is not None:
            parts.append(f"{_amount(warning.before, days=True)} before it is due")
    return f"Warned {_and(parts)}." if parts else ""


def _rate_target(config: SlaConfig, rate: RateTarget) -> dict[str, Any]:
    calendar = config.calendar(rate.calendar)
    columns = _columns(config, [rate.within])
    within = [
        duration_words(rate.within[p], rate.calendar, calendar)
        + ("" if len(columns) == 1 else f" for {_column_label(p, columns)}")
        for p in columns
    ]
    return {
        "metric": rate.metric,
        "percent": rate.percent,
        "period": rate.period,
        "text": (
            f"{rate.percent:g} % of {_metric_name(rate.metric).lower()} measurements within "
            f"{_and(within)}, {_PERIOD_WORDS[rate.period]}."
        ),
    }


# --- metrics and pauses --------------------------------------------------------------------------


def _metrics(config: SlaConfig, agreement: Agreement) -> list[dict[str, Any]]:
    """Each metric the agreement measures and how, in order of first use."""
    used = list(
        dict.fromkeys(item.metric for policy in agreement.policies for item in _promises(policy))
    )
    result = []
    for metric in used:
        if metric in METRIC_DESCRIPTIONS:
            name, text = METRIC_DESCRIPTIONS[metric]
        else:
            name, text = _metric_name(metric), _custom_text(config, metric)
        if agreement.team:
            text += f" Time counts only while the {agreement.team} team holds the ticket."
        result.append(
            {
                "metric": metric,
                "name": name,
                "description": text,
                "custom": metric not in BUILTIN_METRICS,
            }
        )
    return result


def _custom_text(config: SlaConfig, metric: str) -> str:
    custom = config.custom_metrics.get(metric)
    if custom is None:  # a config that did not load its custom metric cannot say more
        return "A metric defined for this agreement."
    text = f"Starts when {describe(custom.start)} and stops when {describe(custom.stop)}"
    if custom.pause is not None:
        text += f"; it does not count while {describe(custom.pause)}"
    again = "It is measured again each time it starts." if custom.repeat else "It is measured once."
    return f"{text}. {again}"


def _pause_rules(config: SlaConfig, agreement: Agreement) -> list[dict[str, Any]]:
    rules = []
    for policy in agreement.policies:
        for target in policy.targets:
            rules.append(
                {
                    "policy": policy.name or policy.id,
                    "metric": target.metric,
                    "metric_name": _metric_name(target.metric),
                    "text": _pause_text(config, target),
                }
            )
    return rules


def _pause_text(config: SlaConfig, target: Target) -> str:
    custom = config.custom_metrics.get(target.metric)
    if custom is not None and target.pause_on is None:
        paused = "" if custom.pause is None else f"Paused while {describe(custom.pause)}."
    else:
        statuses = target.pauses(DEFAULT_PAUSE_ON.get(target.metric, frozenset()))
        ordered = [s for s in _STATUS_WORDS if s in statuses]
        paused = (
            f"Paused while the ticket is {_or([_STATUS_WORDS[s] for s in ordered])}."
            if ordered
            else "Never paused."
        )
    parts = [paused] if paused else []
    if target.max_pause is not None:
        parts.append(f"At most {_amount(target.max_pause, days=True)} of pauses count.")
    parts.append(f"If a ticket's priority or policy changes, {_ON_CHANGE_WORDS[target.on_change]}.")
    return " ".join(parts)


# --- alerts, credits, dates ----------------------------------------------------------------------


def _alert_rules(rules: AlertRules) -> dict[str, Any]:
    return {
        "warning": ", ".join(rules.warning) or "nobody",
        "breach": ", ".join(rules.breach) or "nobody",
        "escalations": [
            {"after": _amount(e.after, days=True), "notify": ", ".join(e.notify)}
            for e in rules.escalations
        ],
    }


def _alerts(agreement: Agreement) -> dict[str, Any] | None:
    if agreement.alerts is None:
        return None
    return _alert_rules(agreement.alerts)


def money(amount: float, currency: str) -> str:
    """``12,000 EUR``, or ``1,234.50 EUR`` when there are cents."""
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"{text} {currency}"


def _credits(credits: Credits | None) -> dict[str, Any] | None:
    if credits is None:
        return None
    fee = credits.fee
    tiers = []
    for tier in credits.tiers:
        metric = _metric_name(tier.metric).lower()
        amount = None if fee is None else money(fee.amount * tier.credit / 100, fee.currency)
        owed = f"{tier.credit:g} % of the monthly fee" + ("" if amount is None else f" ({amount})")
        tiers.append(
            {
                "metric": tier.metric,
                "metric_name": _metric_name(tier.metric),
                "below": f"{tier.below:g} %",
                "credit": f"{tier.credit:g} %",
                "amount": amount,
                "text": f"Fewer than {tier.below:g} % of {metric} targets met: {owed}.",
            }
        )
    return {
        "fee": None if fee is None else f"{money(fee.amount, fee.currency)} a month",
        "tiers": tiers,
        "rule": (
            "Each month, the clocks that started in the month and were met or missed are "
            "counted. The first tier that the month falls under applies; a month exactly at a "
            "tier's percentage does not fall under it."
        ),
    }


def _effective(agreement: Agreement) -> dict[str, Any]:
    start, end = agreement.effective_from, agreement.effective_to
    since = "" if start is None else f" from {_date_text(start)}"
    until = " until further notice" if end is None else f" to {_date_text(end)}"
    if start is None and end is not None:
        until = f" until {_date_text(end)}"
    text = f"In force{since}{until}."
    return {
        "from": None if start is None else start.isoformat(),
        "to": None if end is None else end.isoformat(),
        "text": text,
    }


def _add_months(day: date, months: int) -> date:
    """``day`` moved on ``months`` months, on the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_days.monthrange(year, month)[1]))


def next_review_on(effective_from: date, review_months: int, today: date) -> date:
    """The first review date ``effective_from + k * review_months`` (k >= 1) on or after today.

    Each date is counted from ``effective_from``, not from the previous review, so an agreement
    starting on 31 January is reviewed on the last day of the month every time, not drifting
    to the 28th after February.
    """
    if review_months <= 0:
        raise ValueError(f"review_months must be more than 0, got {review_months}")
    months = (today.year - effective_from.year) * 12 + today.month - effective_from.month
    k = max(1, months // review_months)
    review = _add_months(effective_from, k * review_months)
    while review < today:
        k += 1
        review = _add_months(effective_from, k * review_months)
    return review


def _review(agreement: Agreement, today: date) -> dict[str, Any]:
    months = agreement.review_months
    interval = None
    if months is not None:
        interval = (
            f"every {_plural(months // 12, 'year')}"
            if months % 12 == 0
            else f"every {_plural(months, 'month')}"
        )
        interval = interval.replace("every 1 year", "every year").replace(
            "every 1 month", "every month"
        )
    ended = agreement.effective_to is not None and agreement.effective_to < today
    if months is None or agreement.effective_from is None:
        due = ended and agreement.status == "active"
        return {
            "interval_months": months,
            "interval_text": interval,
            "next_on": None,
            "next_text": None,
            "days_until": None,
            "due": due,
            "reason": _ended_reason(agreement) if due else "",
        }
    review = next_review_on(agreement.effective_from, months, today)
    days = (review - today).days
    due = days <= REVIEW_NOTICE_DAYS or (ended and agreement.status == "active")
    if ended and agreement.status == "active":
        reason = _ended_reason(agreement)
    elif due:
        reason = "today" if days == 0 else f"in {_plural(days, 'day')}"
        reason = f"The review is due {reason}, on {_date_text(review)}."
    else:
        reason = ""
    return {
        "interval_months": months,
        "interval_text": interval,
        "next_on": review.isoformat(),
        "next_text": _date_text(review),
        "days_until": days,
        "due": due,
        "reason": reason,
    }


def _ended_reason(agreement: Agreement) -> str:
    end = agreement.effective_to or date.min
    return (
        f"The agreement ended on {_date_text(end)} but is still marked active: renew it or "
        "mark it expired."
    )
