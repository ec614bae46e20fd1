"""Compliance and the SLA log over the stored clocks, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from duly.api import API_PREFIX
from duly.api.auth import Viewer
from duly.api.context import Ctx
from duly.api.parameters import Many, instant, values, zone
from duly.core.reports import LOG_COLUMNS
from duly.service.queries import compliance_report, log_report

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["reports"])

_CSV: Final = "text/csv; charset=utf-8"
#: Compliance columns after the group keys, for the header of a report with no rows.
_COMPLIANCE_HEAD: Final = ("total", "met", "missed", "met_pct", "open")
_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}
}
Format = Literal["json", "csv"]
FormatQuery = Annotated[
    Format | None, Query(alias="format", description="`csv` or `json` (else the Accept header).")
]


def _wants_csv(request: Request, fmt: Format | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return Response(buffer.getvalue(), media_type=_CSV)


def _filters(
    tz_name: str, start_from: str | None, start_to: str | None, agreement: Any, metric: Any
) -> dict[str, Any]:
    tz = zone(tz_name)
    return {
        "start_from": instant(start_from, "from", tz),
        "start_to": instant(start_to, "to", tz),
        "agreements": values(agreement, "agreement"),
        "metrics": values(metric, "metric"),
    }


_BY = "Group keys (comma-separated): day, week, month, agreement, policy, metric, priority, ..."
_FROM = "Clocks that started at or after this instant (ISO 8601 with offset) or date (in tz)."
_TO = "Clocks that started before this instant or date."


@router.get("/reports/compliance", responses=_ANSWERS, summary="Met and missed per group")
def compliance(
    _identity: Viewer,
    ctx: Ctx,
    request: Request,
    by: Annotated[list[str] | None, Query(description=_BY)] = None,
    start_from: Annotated[str | None, Query(alias="from", description=_FROM)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=_TO)] = None,
    tz: Annotated[
        str, Query(description="Zone that days, weeks and months are counted in.")
    ] = "UTC",
    agreement: Many = None,
    metric: Many = None,
    fmt: FormatQuery = None,
) -> Response:
    keys = values(by, "by")
    filters = _filters(tz, start_from, start_to, agreement, metric)
    rows = compliance_report(ctx.db, ctx.configs, ctx.now(), keys, zone(tz), **filters)
    if _wants_csv(request, fmt):
        return _csv(rows, list(rows[0]) if rows else [*keys, *_COMPLIANCE_HEAD])
    return JSONResponse({"rows": rows})


@router.get("/reports/log", responses=_ANSWERS, summary="One row per clock (the SLA log)")
def log(
    _identity: Viewer,
    ctx: Ctx,
    request: Request,
    start_from: Annotated[str | None, Query(alias="from", description=_FROM)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=_TO)] = None,
    tz: Annotated[str, Query(description="Zone a date in from/to is read in.")] = "UTC",
    agreement: Many = None,
    metric: Many = None,
    fmt: FormatQuery = None,
) -> Response:
    filters = _filters(tz, start_from, start_to, agreement, metric)
    rows = log_report(ctx.db, ctx.configs, ctx.now(), **filters)
    if _wants_csv(request, fmt):
        return _csv(rows, LOG_COLUMNS)
    return JSONResponse({"rows": rows})
