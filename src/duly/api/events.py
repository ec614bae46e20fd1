"""Events in: one JSON object or an array of them, stored all or nothing.

The busiest route by far. FastAPI serves it as declared here (and documents it in OpenAPI),
but the app puts ``duly.api.event_intake`` in front, which answers the same requests with the
same code (``take_events``) without FastAPI's routing and dependency machinery.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request

from duly.api import API_PREFIX
from duly.api.auth import Agent
from duly.api.bodies import JSON_BODY, JsonBody
from duly.api.errors import ApiError
from duly.api.metrics import ApiMetrics
from duly.service.context import Context
from duly.service.ingest import MAX_BATCH, ingest_async

__all__ = ["EVENTS_PATH", "WAIT_HELP", "router", "take_events"]

router = APIRouter(prefix=API_PREFIX, tags=["events"])
EVENTS_PATH: Final = f"{API_PREFIX}/events"
WAIT_HELP: Final = (
    "Answer only once the tickets' clocks are derived (slower). Without it the events are "
    "stored and queued, and derived moments later; any read of tickets, clocks or reports "
    "includes them either way."
)


async def take_events(ctx: Context, metrics: ApiMetrics, body: Any, wait: bool) -> dict[str, int]:
    """Store the events of a request body (an event or an array); the new and repeated counts."""
    items: list[Any] = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise ApiError(
            413, f"events: at most {MAX_BATCH} events per request, not {len(items)}", "events"
        )
    result = await ingest_async(ctx.db, ctx.configs, items, ctx.now(), derive_now=wait)
    metrics.ingested(result.new, result.duplicates)
    return {"new": result.new, "duplicates": result.duplicates}


@router.post(
    "/events",
    openapi_extra=JSON_BODY,
    summary="Take in events (agent); a repeated event id is counted as a duplicate",
)
async def post_events(
    _identity: Agent,
    request: Request,
    body: JsonBody,
    wait: Annotated[bool, Query(description=WAIT_HELP)] = False,
) -> dict[str, int]:
    return await take_events(request.app.state.context, request.app.state.metrics, body, wait)
