"""What a route is handed: the service context ``create_app`` put on the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from duly.service.context import Context

__all__ = ["Ctx"]


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Ctx = Annotated[Context, Depends(_context)]
