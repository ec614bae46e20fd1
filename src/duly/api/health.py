"""Liveness for load balancers and orchestrators: open, and true only if the database answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from duly.api.context import Ctx
from duly.api.errors import error_body
from duly.service.stats import health

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", response_model=None, summary="Whether the server and its database answer (no auth)"
)
def healthz(ctx: Ctx) -> Any:
    status = health(ctx.db)
    if not status["ok"]:
        return JSONResponse(
            error_body("unavailable", f"database: {status['database']}", "database"),
            status_code=503,
        )
    return {
        "status": "ok",
        "database": status["database"],
        "config_version": status["config_version"],
        "derive_backlog": status["derive_backlog"],
    }
