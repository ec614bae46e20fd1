"""Events in: one JSON object or an array of them, stored all or nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from duly.api import API_PREFIX
from duly.api.auth import Agent
from duly.api.bodies import JSON_BODY, JsonBody
from duly.api.context import Ctx, Metrics
from duly.api.errors import ApiError
from duly.service.ingest import MAX_BATCH, ingest

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["events"])


@router.post(
    "/events",
    openapi_extra=JSON_BODY,
    summary="Take in events (agent); a repeated event id is counted as a duplicate",
)
def post_events(_identity: Agent, ctx: Ctx, metrics: Metrics, body: JsonBody) -> dict[str, int]:
    items: list[Any] = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise ApiError(
            413, f"events: at most {MAX_BATCH} events per request, not {len(items)}", "events"
        )
    result = ingest(ctx.db, ctx.configs, items, ctx.now())
    metrics.ingested(result.new, result.duplicates)
    return {"new": result.new, "duplicates": result.duplicates}
