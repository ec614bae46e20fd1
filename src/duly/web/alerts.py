"""Alerts: what fired and when, each delivery's state per channel, and retrying dead deliveries."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from duly.service.alert_channels import retry_alert
from duly.service.errors import ServiceError
from duly.service.queries import list_alerts
from duly.store.alerts import AlertFilter
from duly.web.pages import problem, render
from duly.web.sessions import Ctx, SignedIn, form_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_KINDS: Final = ("warning", "breach", "escalation")
_DELIVERY_STATES: Final = ("pending", "delivered", "dead")
PAGE_SIZE: Final = 50


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: SignedIn,
    ctx: Ctx,
    kind: str = "",
    delivery: str = "",
    ticket: str = "",
    cursor: str | None = None,
    retried: int | None = None,
    requeued: int = 0,
) -> HTMLResponse:
    if kind and kind not in _KINDS:
        return problem(request, 422, f"kind: must be one of {', '.join(_KINDS)}", session)
    if delivery and delivery not in _DELIVERY_STATES:
        return problem(
            request, 422, f"delivery: must be one of {', '.join(_DELIVERY_STATES)}", session
        )
    where = AlertFilter(
        tickets=(ticket.strip(),) if ticket.strip() else (),
        kinds=(kind,) if kind else (),
        delivery_states=(delivery,) if delivery else (),
    )
    try:
        page = list_alerts(ctx.db, where, PAGE_SIZE, cursor)
    except ServiceError as exc:
        return problem(request, 422, exc.message, session)
    kept = {k: v for k, v in {"kind": kind, "delivery": delivery, "ticket": ticket}.items() if v}
    next_page = None
    if page["next_cursor"]:
        next_page = "/alerts?" + urlencode(kept | {"cursor": page["next_cursor"]})
    return render(
        request,
        "alerts.html",
        session=session,
        alerts=page["alerts"],
        next_page=next_page,
        first_page=("/alerts?" + urlencode(kept)) if cursor else None,
        kinds=_KINDS,
        delivery_states=_DELIVERY_STATES,
        chosen={"kind": kind, "delivery": delivery, "ticket": ticket},
        retried=retried,
        requeued=requeued,
    )


@router.post("/alerts/{alert_id}/retry")
async def retry(request: Request, session: SignedIn, ctx: Ctx, alert_id: int) -> Response:
    """Queue the alert's dead deliveries again (admins only, from a dashboard form)."""
    form = await form_of(request)
    if not session.is_admin:
        message = (
            f"Retrying alerts needs the admin role; you are signed in as a {session.identity.role}."
        )
        return problem(request, 403, message, session)
    if not session.accepts(form):
        return problem(
            request, 403, "This form was not sent by this dashboard; reload and try again.", session
        )
    try:
        count = retry_alert(ctx.db, alert_id, ctx.now())
    except ServiceError as exc:
        return problem(request, 404 if exc.code == "not_found" else 422, exc.message, session)
    return RedirectResponse(f"/alerts?{urlencode({'retried': alert_id, 'requeued': count})}", 303)
