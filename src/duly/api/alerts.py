"""Alerts fired and their deliveries; sending dead-lettered deliveries again."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query

from duly.api import API_PREFIX
from duly.api.auth import Admin, Viewer
from duly.api.context import Ctx
from duly.api.parameters import Cursor, Many, values
from duly.service.alert_channels import retry_alert
from duly.service.queries import list_alerts
from duly.store.alerts import AlertFilter

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["alerts"])

_KINDS: Final = ("warning", "breach", "escalation")
_DELIVERY_STATES: Final = ("pending", "delivered", "dead")


@router.get("/alerts", summary="Alerts newest first, with their deliveries")
def get_alerts(
    _identity: Viewer,
    ctx: Ctx,
    kind: Many = None,
    ticket: Many = None,
    delivery: Many = None,
    limit: Annotated[int, Query(description="1 to 1000 alerts per page.")] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    where = AlertFilter(
        tickets=values(ticket, "ticket"),
        kinds=values(kind, "kind", _KINDS),
        delivery_states=values(delivery, "delivery", _DELIVERY_STATES),
    )
    return list_alerts(ctx.db, where, limit, cursor)


@router.post("/alerts/{alert_id}/retry", summary="Queue an alert's dead deliveries again (admin)")
def retry(_identity: Admin, ctx: Ctx, alert_id: int) -> dict[str, int]:
    return {"requeued": retry_alert(ctx.db, alert_id, ctx.now())}
