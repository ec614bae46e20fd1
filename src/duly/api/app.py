"""The FastAPI application: every router under ``/api/v1``, one error shape, metrics.

Built per context by ``create_app`` rather than at import time, so tests and ``duly serve`` wire
the same app to their own database and clock.
"""

from __future__ import annotations

from fastapi import FastAPI

from duly import __version__
from duly.api import (
    agreements,
    alerts,
    channels,
    clocks,
    config,
    events,
    health,
    metrics,
    reports,
    tickets,
)
from duly.api.errors import install_error_handlers
from duly.api.event_intake import EventIntake
from duly.api.metrics import ApiMetrics, RequestTiming
from duly.service.context import Context

__all__ = ["create_app"]

_DESCRIPTION = """\
SLA clocks, queue, reports and alerts over the events your help desk sends.

Authenticate with `Authorization: Bearer TOKEN`. A **viewer** reads, an **agent** also posts
events, an **admin** also changes the config and channels and retries alerts. Every error is
`{"error": {"code", "message", "field"}}`.
"""


def create_app(ctx: Context, *, event_intake: bool = True) -> FastAPI:
    """The API on ``ctx``; ``event_intake=False`` leaves ``POST /events`` to FastAPI too."""
    app = FastAPI(
        title="duly",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.context = ctx
    app.state.metrics = ApiMetrics(ctx.db)
    install_error_handlers(app)
    for module in (
        config,
        agreements,
        events,
        tickets,
        clocks,
        reports,
        alerts,
        channels,
        health,
        metrics,
    ):
        app.include_router(module.router)
    if event_intake:
        app.add_middleware(EventIntake, context=ctx, metrics=app.state.metrics)
    app.add_middleware(RequestTiming, metrics=app.state.metrics)
    return app
