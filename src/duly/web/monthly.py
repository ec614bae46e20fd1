"""The monthly customer report: pick an agreement and a month, read the report the CLI writes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duly.service.catalogue import agreements
from duly.service.errors import ServiceError
from duly.service.monthly_report import render_monthly_html
from duly.web.pages import problem, render
from duly.web.sessions import Ctx, SignedIn

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_MONTH: Final = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
#: The report is a document of its own (its own styles, made to be printed or mailed), so it is
#: shown in a frame and answered without the dashboard's no-inline-styles policy.
_DOCUMENT_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
}


def _checked(agreement: str, month: str, known: list[str]) -> str | None:
    """What is wrong with the choice, or None."""
    if agreement not in known:
        return f"agreement: no agreement {agreement!r}"
    if not _MONTH.fullmatch(month):
        return f"month: {month!r} is not a month (YYYY-MM)"
    return None


@router.get("/reports/monthly")
def monthly_page(
    request: Request, session: SignedIn, ctx: Ctx, agreement: str = "", month: str = ""
) -> HTMLResponse:
    known = [a["id"] for a in agreements(ctx.db, ctx.configs)]
    today = ctx.now().date()
    default_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    error = _checked(agreement, month, known) if agreement or month else None
    show = bool(agreement and month and error is None)
    return render(
        request,
        "monthly.html",
        422 if error else 200,
        session=session,
        agreements=known,
        agreement=agreement,
        month=month or default_month,
        error=error,
        document=(
            "/reports/monthly/document?" + urlencode({"agreement": agreement, "month": month})
        )
        if show
        else None,
    )


@router.get("/reports/monthly/document")
def monthly_document(
    request: Request, session: SignedIn, ctx: Ctx, agreement: str = "", month: str = ""
) -> HTMLResponse:
    """The report alone, as ``duly report monthly`` writes it (to print or save)."""
    error = _checked(agreement, month, [a["id"] for a in agreements(ctx.db, ctx.configs)])
    if error:
        return problem(request, 422, error, session)
    ticket_url = f"{request.base_url}tickets/{{id}}"
    try:
        html = render_monthly_html(
            ctx.db, ctx.configs, agreement, month, ctx.now(), ticket_url=ticket_url
        )
    except ServiceError as exc:
        return problem(request, 404 if exc.code == "not_found" else 422, exc.message, session)
    return HTMLResponse(html, headers=_DOCUMENT_HEADERS)
