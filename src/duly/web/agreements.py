"""The agreements catalogue with review dates, and each agreement as a readable document."""

from __future__ import annotations

import calendar
import importlib
from datetime import date, timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from duly.service.catalogue import agreement, agreements
from duly.service.errors import ServiceError
from duly.web.pages import problem, render
from duly.web.sessions import Ctx, SignedIn

__all__ = ["REVIEW_NOTICE_DAYS", "add_months", "next_review", "router"]

router = APIRouter(include_in_schema=False)

#: A review is listed as due this many days before its date, and stays listed (as overdue) this
#: many days after it; the store keeps no record of reviews held, so the schedule then moves on.
REVIEW_NOTICE_DAYS: Final = 30


def add_months(day: date, months: int) -> date:
    """``2026-01-31`` + 1 month -> ``2026-02-28``: the same day of month, or the month's last."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_review(
    effective_from: date | None,
    review_months: int | None,
    today: date,
    effective_to: date | None = None,
) -> date | None:
    """The first scheduled review (``effective_from`` + k x ``review_months``, k >= 1) that is at
    most ``REVIEW_NOTICE_DAYS`` in the past; None without a schedule or past the agreement's end.
    """
    if effective_from is None or not review_months or review_months <= 0:
        return None
    earliest = today - timedelta(days=REVIEW_NOTICE_DAYS)
    k = 1
    review = add_months(effective_from, review_months)
    while review < earliest:
        k += 1
        review = add_months(effective_from, k * review_months)
    if effective_to is not None and review > effective_to:
        return None
    return review


def _review_state(review: date | None, today: date) -> str | None:
    if review is None:
        return None
    if review < today:
        return "overdue"
    if review <= today + timedelta(days=REVIEW_NOTICE_DAYS):
        return "due"
    return None


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _with_review(item: dict[str, Any], today: date) -> dict[str, Any]:
    review = None
    if item["status"] != "expired":
        review = next_review(
            _day(item["effective_from"]), item["review_months"], today, _day(item["effective_to"])
        )
    return item | {
        "next_review": None if review is None else review.isoformat(),
        "review_state": _review_state(review, today),
    }


def _previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@router.get("/agreements")
def agreements_page(request: Request, session: SignedIn, ctx: Ctx) -> HTMLResponse:
    today = ctx.now().date()
    items = [_with_review(a, today) for a in agreements(ctx.db, ctx.configs)]
    due = sorted((a for a in items if a["review_state"]), key=lambda a: a["next_review"])
    return render(
        request,
        "agreements.html",
        session=session,
        agreements=items,
        reviews_due=due,
        today=today.isoformat(),
        notice_days=REVIEW_NOTICE_DAYS,
    )


def _document(ctx: Ctx, agreement_id: str, today: date) -> dict[str, Any] | None:
    """The agreement document from the service, where this build has it."""
    try:
        module = importlib.import_module("duly.service.agreement_document")
    except ModuleNotFoundError:
        return None
    with ctx.db.read() as connection:
        config = ctx.configs.current(connection).config
    document: dict[str, Any] = module.agreement_document(config, agreement_id, today)
    return document


@router.get("/agreements/{agreement_id}")
def agreement_page(
    request: Request, session: SignedIn, ctx: Ctx, agreement_id: str
) -> HTMLResponse:
    today = ctx.now().date()
    try:
        item = _with_review(agreement(ctx.db, ctx.configs, agreement_id), today)
        document = _document(ctx, agreement_id, today)
    except ServiceError as exc:
        return problem(request, 404 if exc.code == "not_found" else 422, exc.message, session)
    return render(
        request,
        "agreement.html",
        session=session,
        agreement=item,
        document=document,
        report_month=_previous_month(today),
    )
