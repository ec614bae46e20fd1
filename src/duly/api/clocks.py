"""The queue: clocks soonest breach first, filtered, a page at a time."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query

from duly.api import API_PREFIX
from duly.api.auth import Viewer
from duly.api.context import Ctx
from duly.api.parameters import Cursor, Many, values
from duly.service.queries import clock_queue
from duly.store.clocks import ClockFilter

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["clocks"])

_STATES: Final = ("active", "paused", "met", "breached", "cancelled")


@router.get("/clocks", summary="Clocks ordered by due, soonest first")
def list_clocks(
    _identity: Viewer,
    ctx: Ctx,
    state: Many = None,
    agreement: Many = None,
    policy: Many = None,
    metric: Many = None,
    priority: Many = None,
    group: Many = None,
    assignee: Many = None,
    ticket: Many = None,
    running: Annotated[bool, Query(description="Only clocks not yet stopped.")] = False,
    order: Annotated[
        Literal["due"], Query(description="Only `due`: soonest breach first.")
    ] = "due",
    limit: Annotated[int, Query(description="1 to 1000 clocks per page.")] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    where = ClockFilter(
        states=values(state, "state", _STATES),
        agreements=values(agreement, "agreement"),
        policies=values(policy, "policy"),
        metrics=values(metric, "metric"),
        priorities=values(priority, "priority"),
        groups=values(group, "group"),
        assignees=values(assignee, "assignee"),
        tickets=values(ticket, "ticket"),
        running_only=running,
    )
    return clock_queue(ctx.db, ctx.configs, where, ctx.now(), limit, cursor)
