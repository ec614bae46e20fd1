"""Compliance: met % per period as charts, the table below, and the same rows as CSV.

The figures are ``compliance_report``'s, the function behind ``GET /api/v1/reports/compliance``,
called with the same grouping and filters, so the dashboard and the API cannot disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from duly.service.catalogue import agreements
from duly.service.errors import InvalidError, ServiceError
from duly.service.queries import compliance_report
from duly.web.charts import LineChart, line_chart
from duly.web.pages import problem, render
from duly.web.queue import filter_choices
from duly.web.sessions import Ctx, SignedIn

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_PERIODS: Final = ("month", "week")
_SPLITS: Final = ("agreement", "metric", "priority")
#: The columns every compliance row has after its group keys (the API's CSV header too).
_HEAD: Final = ("total", "met", "missed", "met_pct", "open")


@dataclass(frozen=True)
class _Ask:
    """What the page was asked for, read from the query string."""

    period: str
    split: tuple[str, ...]
    agreement: str
    metric: str
    start_from: str
    start_to: str
    tz: str

    @property
    def by(self) -> list[str]:
        return [self.period, *self.split]

    def query(self) -> str:
        """The query string that asks for the same report (the CSV link)."""
        pairs = {
            "period": self.period,
            "split": list(self.split),
            "agreement": self.agreement,
            "metric": self.metric,
            "from": self.start_from,
            "to": self.start_to,
            "tz": self.tz,
        }
        return urlencode({k: v for k, v in pairs.items() if v}, doseq=True)


def _zone(name: str) -> tzinfo:
    if name.strip().upper() in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidError(f"tz: unknown time zone {name!r}", "tz") from None


def _day(text: str, field: str, tz: tzinfo) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=tz)
    except ValueError:
        raise InvalidError(f"{field}: {text!r} is not a date (YYYY-MM-DD)", field) from None


def _ask(
    period: str,
    split: list[str] | None,
    agreement: str,
    metric: str,
    start_from: str,
    start_to: str,
    tz: str,
) -> _Ask:
    if period not in _PERIODS:
        raise InvalidError(f"period: must be one of {', '.join(_PERIODS)}", "period")
    chosen = tuple(s for s in _SPLITS if s in (split or ["agreement"]))
    unknown = set(split or ()) - set(_SPLITS)
    if unknown:
        raise InvalidError(
            f"split: {sorted(unknown)[0]!r} is not one of {', '.join(_SPLITS)}", "split"
        )
    return _Ask(
        period, chosen, agreement.strip(), metric.strip(), start_from, start_to, tz.strip() or "UTC"
    )


def _rows(ctx: Ctx, ask: _Ask) -> list[dict[str, Any]]:
    tz = _zone(ask.tz)
    return compliance_report(
        ctx.db,
        ctx.configs,
        ctx.now(),
        ask.by,
        tz,
        start_from=_day(ask.start_from, "from", tz),
        start_to=_day(ask.start_to, "to", tz),
        agreements=(ask.agreement,) if ask.agreement else (),
        metrics=(ask.metric,) if ask.metric else (),
    )


def _charts(rows: list[dict[str, Any]], ask: _Ask) -> list[LineChart]:
    """One chart per value of the first split key; one line per value of the others."""
    periods = sorted({str(r[ask.period]) for r in rows})
    groups: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for row in rows:
        keys = [str(row[k]) for k in ask.split]
        chart = (
            keys[0] if len(keys) > 1 else "All " + (ask.split[0] + "s" if ask.split else "clocks")
        )
        line = " / ".join(keys[1:] if len(keys) > 1 else keys) or "all"
        groups.setdefault(chart, {}).setdefault(line, {})[str(row[ask.period])] = row
    return [line_chart(title, periods, series) for title, series in sorted(groups.items())]


Split = Annotated[list[str] | None, Query()]
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]


def _asked(
    period: str = "month",
    split: Split = None,
    agreement: str = "",
    metric: str = "",
    start_from: From = "",
    start_to: To = "",
    tz: str = "UTC",
) -> _Ask | ServiceError:
    """The form's question, or what is wrong with it: each page renders a refusal its own way."""
    try:
        return _ask(period, split, agreement, metric, start_from, start_to, tz)
    except ServiceError as exc:
        return exc


Asked = Annotated[_Ask | ServiceError, Depends(_asked)]


def _answer(ctx: Ctx, asked: _Ask | ServiceError) -> tuple[_Ask, list[dict[str, Any]]]:
    if isinstance(asked, ServiceError):
        raise asked
    return asked, _rows(ctx, asked)


@router.get("/compliance")
def compliance_page(
    request: Request,
    session: SignedIn,
    ctx: Ctx,
    asked: Asked,
) -> HTMLResponse:
    try:
        ask, rows = _answer(ctx, asked)
    except ServiceError as exc:
        return problem(request, 422, exc.message, session)
    choices = filter_choices(agreements(ctx.db, ctx.configs))
    return render(
        request,
        "compliance.html",
        session=session,
        ask=ask,
        query=ask.query(),
        rows=rows,
        charts=_charts(rows, ask),
        choices=choices,
        periods=_PERIODS,
        splits=_SPLITS,
    )


@router.get("/compliance.csv")
def compliance_csv(
    request: Request,
    session: SignedIn,
    ctx: Ctx,
    asked: Asked,
) -> Response:
    """The table as CSV, in the columns and format of the API's ``?format=csv``."""
    try:
        ask, rows = _answer(ctx, asked)
    except ServiceError as exc:
        return problem(request, 422, exc.message, session)
    columns = list(rows[0]) if rows else [*ask.by, *_HEAD]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="compliance.csv"'},
    )
