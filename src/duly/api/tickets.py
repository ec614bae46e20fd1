"""One ticket: its state and every clock, as of now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from duly.api import API_PREFIX
from duly.api.auth import Viewer
from duly.api.context import Ctx
from duly.service.queries import ticket_view

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["tickets"])


@router.get("/tickets/{ticket}", summary="A ticket's state and clocks")
def get_ticket(_identity: Viewer, ctx: Ctx, ticket: str) -> dict[str, Any]:
    return ticket_view(ctx.db, ctx.configs, ticket, ctx.now())
