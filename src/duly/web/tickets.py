"""One ticket: its fields, its events as a timeline, and each clock drawn against that timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duly.service.errors import ServiceError
from duly.service.queries import ticket_events, ticket_view
from duly.web.charts import clock_timeline, parse_instant
from duly.web.pages import problem, render
from duly.web.queue import display_state
from duly.web.sessions import Ctx, SignedIn

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _what(event: dict[str, Any]) -> str:
    parts = [str(event.get("type", "event"))]
    if event.get("actor"):
        parts.append(f"by {event['actor']}")
    if event.get("public") is False:
        parts.append("(internal)")
    return " ".join(parts)


@router.get("/tickets/{name}")
def ticket_page(request: Request, session: SignedIn, ctx: Ctx, name: str) -> HTMLResponse:
    now = ctx.now()
    try:
        view = ticket_view(ctx.db, ctx.configs, name, now)
    except ServiceError as exc:
        status = 404 if exc.code == "not_found" else 422
        return problem(request, status, exc.message, session)
    events = ticket_events(ctx.db, name)
    for event in events:
        event["what"] = _what(event)
    clocks = [
        c | {"shown": display_state(c) if c["stop"] is None else c["state"]} for c in view["clocks"]
    ]
    timeline = clock_timeline(
        view["clocks"], [(parse_instant(e["at"]), e["what"]) for e in events], now
    )
    return render(
        request,
        "ticket.html",
        session=session,
        ticket=view,
        clocks=clocks,
        events=events,
        timeline=timeline,
        now=now.isoformat().replace("+00:00", "Z"),
    )
