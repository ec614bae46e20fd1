"""Alert channels the server keeps: webhook, Slack-compatible, e-mail, log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from duly.api import API_PREFIX
from duly.api.auth import Admin, Viewer
from duly.api.bodies import JSON_BODY, JsonBody
from duly.api.context import Ctx
from duly.service import alert_channels

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["channels"])


@router.get("/channels", summary="Every channel (secrets masked)")
def list_channels(_identity: Viewer, ctx: Ctx) -> dict[str, Any]:
    return {"channels": alert_channels.list_channels(ctx.db)}


@router.get("/channels/{name}", summary="One channel (secrets masked)")
def get_channel(_identity: Viewer, ctx: Ctx, name: str) -> dict[str, Any]:
    return {"name": name} | alert_channels.get_channel(ctx.db, name)


@router.put(
    "/channels/{name}",
    openapi_extra=JSON_BODY,
    summary="Create or replace a channel (admin); the answer shows its secret once",
)
def put_channel(_identity: Admin, ctx: Ctx, name: str, body: JsonBody) -> dict[str, Any]:
    return {"name": name} | alert_channels.put_channel(ctx.db, name, body, ctx.now())


@router.delete(
    "/channels/{name}", status_code=204, response_class=Response, summary="Remove (admin)"
)
def delete_channel(_identity: Admin, ctx: Ctx, name: str) -> Response:
    alert_channels.delete_channel(ctx.db, name)
    return Response(status_code=204)
