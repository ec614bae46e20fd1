"""Events in: one JSON object or an array of them, stored all or nothing."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from duly.api import API_PREFIX
from duly.api.auth import Agent
from duly.api.bodies import JSON_BODY, JsonBody
from duly.api.errors import ApiError
from duly.api.metrics import ApiMetrics
from duly.service.context import Context
from duly.service.ingest import MAX_BATCH, ingest

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["events"])


@router.post(
    "/events",
    openapi_extra=JSON_BODY,
    summary="Take in events (agent); a repeated event id is counted as a duplicate",
)
async def post_events(
    _identity: Agent,
    request: Request,
    body: JsonBody,
    wait: Annotated[
        bool,
        Query(
            description="Answer only once the tickets' clocks are derived (slower). Without "
            "it the events are stored and queued, and derived moments later; any read of "
            "tickets, clocks or reports includes them either way."
        ),
    ] = False,
) -> dict[str, int]:
    # The busiest route: async, reading the context off the app rather than through the sync
    # ``Ctx`` dependency, so a request costs one trip to a worker thread (the ingest, which
    # blocks on the database), not one per dependency as well.
    ctx: Context = request.app.state.context
    metrics: ApiMetrics = request.app.state.metrics
    items: list[Any] = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise ApiError(
            413, f"events: at most {MAX_BATCH} events per request, not {len(items)}", "events"
        )
    result = await run_in_threadpool(
        partial(ingest, derive_now=wait), ctx.db, ctx.configs, items, ctx.now()
    )
    metrics.ingested(result.new, result.duplicates)
    return {"new": result.new, "duplicates": result.duplicates}
