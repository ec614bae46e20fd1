"""The agreements catalogue with its review dates, and each agreement as a readable document.

Review dates and whether a review is due are the agreement document's (the service decides
them); this module only lists and lays them out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duly.service.agreement_document import REVIEW_NOTICE_DAYS, agreement_document
from duly.service.catalogue import agreements
from duly.service.context import Context
from duly.service.errors import ServiceError
from duly.web.pages import problem, render
from duly.web.sessions import Ctx, SignedIn

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _documents(ctx: Context, ids: list[str], today: date) -> dict[str, dict[str, Any]]:
    with ctx.db.read() as connection:
        config = ctx.configs.current(connection).config
    return {i: agreement_document(config, i, today) for i in ids}


def _previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@router.get("/agreements")
def agreements_page(request: Request, session: SignedIn, ctx: Ctx) -> HTMLResponse:
    today = ctx.now().date()
    items = agreements(ctx.db, ctx.configs)
    documents = _documents(ctx, [a["id"] for a in items], today)
    listed = [a | {"review": documents[a["id"]]["review"]} for a in items]
    due = [a for a in listed if a["review"]["due"]]
    due.sort(key=lambda a: a["review"]["next_on"] or "")
    return render(
        request,
        "agreements.html",
        session=session,
        agreements=listed,
        reviews_due=due,
        notice_days=REVIEW_NOTICE_DAYS,
    )


@router.get("/agreements/{agreement_id}")
def agreement_page(
    request: Request, session: SignedIn, ctx: Ctx, agreement_id: str
) -> HTMLResponse:
    today = ctx.now().date()
    try:
        document = _documents(ctx, [agreement_id], today)[agreement_id]
    except ServiceError as exc:
        return problem(request, 404, exc.message, session)
    return render(
        request,
        "agreement.html",
        session=session,
        document=document,
        report_month=_previous_month(today),
    )
