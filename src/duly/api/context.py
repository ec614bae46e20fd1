"""What a route is handed: the service context and the app's metrics, set by ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from duly.api.metrics import ApiMetrics
from duly.service.context import Context

__all__ = ["Ctx", "Metrics"]


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


Ctx = Annotated[Context, Depends(_context)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]
