"""Rendering dashboard pages: the template environment, display formats and error pages.

Every page answer goes through ``render`` so they all carry the same security headers (no inline
scripts or styles allowed, not framed by other sites, never cached) and the same layout.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["STATIC", "duration", "environment", "instant", "problem", "render"]

_HERE: Final = Path(__file__).resolve().parent
STATIC: Final = _HERE / "static"
_TEMPLATES: Final = _HERE / "templates"
#: What an empty figure shows: an en dash, read as "none" by screen readers' punctuation.
_NONE: Final = "\u2013"

#: Our own pages load scripts, styles and images from this server only. Inline SVG is markup,
#: not a resource, so charts need nothing more.
_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def duration(seconds: float | None) -> str:
    """``9000`` -> ``2h 30m``: the two largest units, which is what a person compares."""
    if seconds is None:
        return _NONE
    sign = "-" if seconds < 0 else ""
    rest = int(abs(seconds))
    days, rest = divmod(rest, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def instant(text: str | None) -> str:
    """``2026-03-16T12:00:00Z`` -> ``2026-03-16 12:00 UTC`` (the browser may show local time)."""
    if not text:
        return _NONE
    at = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _percent(value: float | None) -> str:
    return _NONE if value is None else f"{value:.1f} %"


@functools.cache
def environment() -> Environment:
    """Built on first use, not at import time, like everything else in duly."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=duration, instant=instant, percent=_percent)
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` with ``context``; ``request`` lets the layout mark the current page."""
    html = environment().get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def problem(request: Request, status: int, message: str, session: Any = None) -> HTMLResponse:
    """A refusal as a page a person can read, with the way back."""
    return render(request, "problem.html", status, session=session, code=status, message=message)
