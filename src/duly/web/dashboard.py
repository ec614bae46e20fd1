"""The dashboard mounted on the API app: its pages, its static files and its sign-in redirect.

``duly.bootstrap`` calls ``mount_dashboard`` on the app ``create_app`` built, so the dashboard
and the API share one process, one context and one port; nothing here is built at import time.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from duly.web import agreements, alerts, compliance, monthly, queue, signin, tickets
from duly.web.pages import STATIC
from duly.web.sessions import COOKIE, SignInRequiredError

__all__ = ["mount_dashboard"]


async def _to_signin(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)
    query = "" if exc.next_path == "/" else "?" + urlencode({"next": exc.next_path})
    answer = RedirectResponse(f"/signin{query}", status_code=303)
    if COOKIE in request.cookies:  # a token that no longer works: forget it
        answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return answer


def mount_dashboard(app: FastAPI) -> FastAPI:
    """Add the dashboard's routes to ``app`` (and return it, for one-line wiring)."""
    app.add_exception_handler(SignInRequiredError, _to_signin)
    for module in (signin, queue, tickets, compliance, agreements, alerts, monthly):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
