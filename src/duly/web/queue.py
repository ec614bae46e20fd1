"""The queue: running clocks soonest breach first, with live countdowns and filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duly.service.catalogue import agreements
from duly.service.errors import ServiceError
from duly.service.queries import clock_queue
from duly.store.clocks import ClockFilter
from duly.web.pages import problem, render
from duly.web.sessions import Ctx, SignedIn

__all__ = ["WARNING_USED", "display_state", "router"]

router = APIRouter(include_in_schema=False)

#: Share of its target a running clock has used when the queue starts showing it as a warning.
#: One threshold for every clock keeps the colours comparable across agreements; the alerts a
#: target configures fire on their own thresholds whatever the queue shows.
WARNING_USED: Final = 0.75
PAGE_SIZE: Final = 50
_FILTERS: Final = ("agreement", "policy", "metric", "priority", "group", "assignee")
_LABELS: Final = {
    "on_track": "on track",
    "warning": "warning",
    "breached": "breached",
    "paused": "paused",
}


def display_state(clock: dict[str, Any]) -> str:
    """``on_track``, ``warning``, ``breached`` or ``paused``: what a row is coloured and named."""
    if clock["state"] in ("breached", "paused"):
        return str(clock["state"])
    target = clock["target_s"] or 0
    if target and clock["business_elapsed_s"] >= WARNING_USED * target:
        return "warning"
    return "on_track"


def _due_in_s(clock: dict[str, Any], now: datetime) -> float:
    due = datetime.fromisoformat(clock["due"].replace("Z", "+00:00"))
    return round((due - now).total_seconds(), 3)


def _row(clock: dict[str, Any], now: datetime) -> dict[str, Any]:
    state = display_state(clock)
    target = clock["target_s"] or 0
    return clock | {
        "shown": state,
        "shown_label": _LABELS[state],
        "due_in_s": _due_in_s(clock, now),
        "used_pct": round(100 * clock["business_elapsed_s"] / target) if target else None,
        "ticking": clock["state"] != "paused",
    }


def filter_choices(catalogue: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The values the filter menus offer, in config order, from the agreements in force."""
    policies: dict[str, None] = {}
    metrics: dict[str, None] = {}
    priorities: dict[str, None] = {}
    for agreement in catalogue:
        for policy in agreement["policies"]:
            policies[policy["id"]] = None
            for target in policy["targets"] + policy["rate_targets"]:
                metrics[target["metric"]] = None
                priorities.update(dict.fromkeys(target["within_s"]))
    return {
        "agreement": [a["id"] for a in catalogue],
        "policy": list(policies),
        "metric": list(metrics),
        "priority": list(priorities),
    }


def _one(value: str) -> tuple[str, ...]:
    return (value.strip(),) if value.strip() else ()


@router.get("/")
def queue_page(
    request: Request,
    session: SignedIn,
    ctx: Ctx,
    agreement: str = "",
    policy: str = "",
    metric: str = "",
    priority: str = "",
    group: str = "",
    assignee: str = "",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> HTMLResponse:
    chosen = dict(
        zip(_FILTERS, (agreement, policy, metric, priority, group, assignee), strict=True)
    )
    where = ClockFilter(
        agreements=_one(agreement),
        policies=_one(policy),
        metrics=_one(metric),
        priorities=_one(priority),
        groups=_one(group),
        assignees=_one(assignee),
        running_only=True,
    )
    now = ctx.now()
    try:
        page = clock_queue(ctx.db, ctx.configs, where, now, limit, cursor)
    except ServiceError as exc:
        return problem(request, 422, exc.message, session)
    kept: dict[str, str | int] = {k: v for k, v in chosen.items() if v}
    if limit != PAGE_SIZE:
        kept["limit"] = limit
    return render(
        request,
        "queue.html",
        session=session,
        rows=[_row(c, now) for c in page["clocks"]],
        next_cursor=page["next_cursor"],
        paged=cursor is not None,
        chosen=chosen,
        kept=kept,
        choices=filter_choices(agreements(ctx.db, ctx.configs)),
        rendered_at=now.isoformat().replace("+00:00", "Z"),
        warning_pct=round(WARNING_USED * 100),
    )
