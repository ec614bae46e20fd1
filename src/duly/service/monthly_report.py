"""The monthly report a provider sends its customer: targets against results, breaches, credits.

Its figures are the compliance report's (``duly.core.reports.compliance``) for one agreement and
the clocks that started in one month, so a customer who asks "where does 87.5 % come from?" gets
the same number from ``duly report compliance``. The document is one standalone HTML file (inline
CSS and SVG, no scripts, no external assets) that can be mailed, archived or printed to PDF; its
only links are to the help desk's ticket pages, when a ticket URL is given.

Three layers, so each caller takes what it needs: ``monthly_report`` (the figures, a plain dict,
pure), ``render_monthly_document`` (that dict as HTML), and ``render_monthly_html`` (both over
the store, for the dashboard). ``write_pdf`` prints the HTML with a headless Chromium.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import quote, urlsplit

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from duly.core.agreements import Agreement, SlaConfig
from duly.core.clock_table import ClockTable, only, take_rows
from duly.core.credits import month_credit
from duly.core.durations import format_duration
from duly.core.reports import compliance, rate_outcomes
from duly.service.agreement_document import (
    METRIC_DESCRIPTIONS,
    UnknownAgreementError,
    duration_words,
    money,
)
from duly.service.configs import ConfigCache
from duly.service.errors import InvalidError, ServiceError
from duly.service.queries import clock_table
from duly.store.database import Database

__all__ = [
    "NoPdfConverterError",
    "month_bounds",
    "monthly_report",
    "pdf_converter",
    "render_monthly_document",
    "render_monthly_html",
    "write_pdf",
]

# The template sits with the dashboard's, which links to the same report; it is read as a file,
# so the service layer does not import the web package.
_TEMPLATES: Final = Path(__file__).resolve().parents[1] / "web" / "templates"
_MONTHS: Final = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_PDF_SECONDS: Final = 120
_COUNTS: Final = ("metric", "total", "met", "missed", "met_pct", "open")


class NoPdfConverterError(ServiceError):
    """No program that prints HTML to PDF is installed; the HTML itself is still usable."""

    code = "unavailable"


# --- the figures ----------------------------------------------------------------------------------


def month_bounds(month: str, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (``YYYY-MM``) in ``tz`` and of the month after, in UTC."""
    wrong = InvalidError(f"month: {month!r} is not a month; write it like 2026-03", "month")
    if len(month) != 7 or month[4] != "-":
        raise wrong
    try:
        year, number = int(month[:4]), int(month[5:])
        first = date(year, number, 1)
    except ValueError:
        raise wrong from None
    after = date(year + number // 12, number % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(after.year, after.month, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def monthly_report(
    table: ClockTable,
    config: SlaConfig,
    agreement_id: str,
    month: str,
    tz: tzinfo = UTC,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The figures of ``agreement_id`` for ``month`` (``YYYY-MM``, counted in ``tz``).

    Clocks count in the month they started, like every duly report; ``table`` may hold other
    agreements and months, which are left out. ``now`` is when ``table`` was evaluated (default:
    the end of the month); rate targets counted in another calendar than their clocks use it.
    Raises UnknownAgreementError for an id the config does not have, InvalidError for a month
    that is not ``YYYY-MM``.
    """
    agreement = _agreement(config, agreement_id)
    start, end = month_bounds(month, tz)
    at = now if now is not None else end
    clocks = _started_between(only(table, "agreement", [agreement.id]), start, end)
    zone = getattr(tz, "key", None) or str(tz)
    last_day = (end.astimezone(tz) - timedelta(days=1)).date()
    results = _results(clocks, config, agreement, tz)
    totals = compliance(clocks, [], tz)
    total = totals[0] if totals else {"total": 0, "met": 0, "missed": 0, "met_pct": None, "open": 0}
    breaches = _breaches(clocks, config, at, tz)
    credit = _credit(clocks, agreement, month, tz)
    return {
        "agreement": {
            "id": agreement.id,
            "name": agreement.name or agreement.id,
            "kind": agreement.kind,
        },
        "providers": [p.name for p in agreement.parties if p.role == "provider"],
        "customers": [p.name for p in agreement.parties if p.role == "customer"],
        "contacts": [
            {"name": p.name, "role": p.role, "contact": p.contact}
            for p in agreement.parties
            if p.contact
        ],
        "month": month,
        "period": {
            "from": start.astimezone(tz).date().isoformat(),
            "to": last_day.isoformat(),
            "timezone": zone,
            "text": f"1\u2013{last_day.day} {_MONTHS[last_day.month]} {last_day.year}",
        },
        "evaluated_at": _iso(at),
        "summary": {
            "total": total["total"],
            "met": total["met"],
            "missed": total["missed"],
            "met_pct": total["met_pct"],
            "open": total["open"],
            "breaches": len(breaches),
            "credit_owed": bool(credit and credit["owed"]),
        },
        "results": results,
        "metrics": [
            {key: row[key] for key in _COUNTS} | {"metric_name": _metric_name(row["metric"])}
            for row in compliance(clocks, ["metric"], tz)
            if row["total"]
        ],
        "rates": _rates(clocks, config, agreement, month, at, tz),
        "breaches": breaches,
        "series": _series(clocks, start, last_day, tz),
        "credits": credit,
    }


def _agreement(config: SlaConfig, agreement_id: str) -> Agreement:
    for agreement in config.agreements:
        if agreement.id == agreement_id:
            return agreement
    known = ", ".join(a.id for a in config.agreements) or "none"
    raise UnknownAgreementError(
        f"agreement: no agreement {agreement_id!r} (known: {known})", "agreement"
    )


def _started_between(table: ClockTable, start: datetime, end: datetime) -> ClockTable:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    lo = (start - epoch) // timedelta(microseconds=1)
    hi = (end - epoch) // timedelta(microseconds=1)
    starts = table.instants["start"]
    return take_rows(table, np.flatnonzero((starts >= lo) & (starts < hi)))


def _metric_name(metric: str) -> str:
    if metric in METRIC_DESCRIPTIONS:
        return METRIC_DESCRIPTIONS[metric][0]
    return metric.replace("_", " ").capitalize()


def _results(
    clocks: ClockTable, config: SlaConfig, agreement: Agreement, tz: tzinfo
) -> list[dict[str, Any]]:
    """Per policy, metric and priority: the target in words and what the month achieved."""
    policies = {p.id: p for p in agreement.policies}
    order = {p.id: i for i, p in enumerate(agreement.policies)}
    ranks = {p: i for i, p in enumerate(reversed(config.priorities))}
    rows = []
    for row in compliance(clocks, ["policy", "metric", "priority"], tz):
        policy = policies.get(row["policy"])
        target_text = ""
        if policy is not None:
            target = next((t for t in policy.targets if t.metric == row["metric"]), None)
            seconds = None if target is None else target.duration_for(row["priority"])
            if target is not None and seconds is not None:
                target_text = duration_words(
                    seconds, target.calendar, config.calendar(target.calendar)
                )
        rows.append(
            {
                "policy": row["policy"],
                "policy_name": (policy.name or policy.id) if policy else row["policy"],
                "metric": row["metric"],
                "metric_name": _metric_name(row["metric"]),
                "priority": row["priority"],
                "target": target_text,
                "total": row["total"],
                "met": row["met"],
                "missed": row["missed"],
                "met_pct": row["met_pct"],
                "open": row["open"],
            }
        )
    rows.sort(
        key=lambda r: (
            order.get(r["policy"], len(order)),
            r["metric"],
            ranks.get(r["priority"], len(ranks)),
            r["priority"] or "",
        )
    )
    return rows


def _rates(
    clocks: ClockTable,
    config: SlaConfig,
    agreement: Agreement,
    month: str,
    now: datetime,
    tz: tzinfo,
) -> list[dict[str, Any]]:
    """The agreement's monthly rate targets for this month (other periods are not a month's)."""
    names = {p.id: p.name or p.id for p in agreement.policies}
    return [
        {
            **row,
            "policy_name": names.get(row["policy"], row["policy"]),
            "metric_name": _metric_name(row["metric"]),
        }
        for row in rate_outcomes(clocks, config, now, tz)
        if row["agreement"] == agreement.id and row["period"] == month
    ]


def _breaches(
    clocks: ClockTable, config: SlaConfig, now: datetime, tz: tzinfo
) -> list[dict[str, Any]]:
    """Every missed clock: which ticket, which target, and how late in business and wall time.

    Instants are ISO UTC for machines and ``*_text`` in the report's time zone for people.
    """
    rows = []
    for row in clocks.rows():
        if row["state"] != "breached":
            continue
        start, due = cast(datetime, row["start"]), cast(datetime, row["due"])
        stop = cast(datetime | None, row["stop"])
        target_s = cast(float, row["target_s"])
        business_late = max(0.0, cast(float, row["business_elapsed_s"]) - target_s)
        wall_late = max(0.0, ((stop or now) - due).total_seconds())
        calendar = str(row["calendar"])
        rows.append(
            {
                "ticket": row["ticket"],
                "policy": row["policy"],
                "metric": row["metric"],
                "metric_name": _metric_name(str(row["metric"])),
                "cycle": row["cycle"],
                "priority": row["priority"],
                "target": duration_words(target_s, calendar, config.calendar(calendar)),
                "start": _iso(start),
                "due": _iso(due),
                "stop": None if stop is None else _iso(stop),
                "start_text": _local(start, tz),
                "due_text": _local(due, tz),
                "stop_text": "still open" if stop is None else _local(stop, tz),
                "still_open": stop is None,
                "late_business_s": business_late,
                "late_calendar_s": wall_late,
                "late_text": _late_text(business_late, wall_late, calendar),
            }
        )
    rows.sort(key=lambda r: (r["start"], str(r["ticket"]), r["metric"], r["cycle"]))
    return rows


def _late_text(business: float, wall: float, calendar: str) -> str:
    if calendar == "24x7" or abs(business - wall) < 1:
        return format_duration(wall)
    return f"{format_duration(business)} business ({format_duration(wall)} wall-clock)"


def _series(
    clocks: ClockTable, start: datetime, last_day: date, tz: tzinfo
) -> list[dict[str, Any]]:
    """Met % per day of the month (None on a day when no clock that started then was decided)."""
    by_day = {row["day"]: row for row in compliance(clocks, ["day"], tz)}
    first = start.astimezone(tz).date()
    points = []
    for offset in range((last_day - first).days + 1):
        day = first + timedelta(days=offset)
        row = by_day.get(day.isoformat(), {})
        points.append(
            {
                "day": day.isoformat(),
                "total": row.get("total", 0),
                "met": row.get("met", 0),
                "met_pct": row.get("met_pct"),
            }
        )
    return points


def _credit(
    clocks: ClockTable, agreement: Agreement, month: str, tz: tzinfo
) -> dict[str, Any] | None:
    if agreement.credits is None:
        return None
    credit = month_credit(clocks, agreement, month, tz)
    fee = agreement.credits.fee
    tier = credit.tier
    if tier is None:
        text = "No service credit is owed for this month."
    else:
        owed = f"{tier.credit:g} % of the monthly fee"
        if fee is not None and credit.amount is not None:
            owed = f"{money(credit.amount, fee.currency)} ({owed})"
        result = credit.result(tier.metric)
        text = (
            f"{owed} is owed: {result.met} of {result.total} {_metric_name(tier.metric).lower()} "
            f"targets were met ({result.met_pct:g} %), fewer than {tier.below:g} %."
        )
    return {
        "owed": credit.owed,
        "credit_pct": credit.credit_pct,
        "amount": credit.amount,
        "currency": None if fee is None else fee.currency,
        "amount_text": None
        if fee is None or credit.amount is None
        else money(credit.amount, fee.currency),
        "fee_text": None if fee is None else f"{money(fee.amount, fee.currency)} a month",
        "text": text,
        "results": [
            {
                "metric": r.metric,
                "metric_name": _metric_name(r.metric),
                "total": r.total,
                "met": r.met,
                "met_pct": r.met_pct,
            }
            for r in credit.results
        ],
        "tiers": [
            {
                "metric_name": _metric_name(t.metric),
                "below": t.below,
                "credit": t.credit,
                "applies": t == tier,
            }
            for t in agreement.credits.tiers
        ],
    }


def _local(value: datetime, tz: tzinfo) -> str:
    at = value.astimezone(tz)
    return f"{at.day} {_MONTHS[at.month][:3]} {at:%H:%M}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the document ---------------------------------------------------------------------------------


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def ticket_link(ticket: str, ticket_url: str) -> str | None:
    """The ticket's page: ``{id}`` in ``ticket_url`` replaced (or the id appended); None without.

    Only http and https addresses are used, so a report never carries a script link.
    """
    if not ticket_url:
        return None
    quoted = quote(ticket, safe="")
    return ticket_url.replace("{id}", quoted) if "{id}" in ticket_url else ticket_url + quoted


def _check_ticket_url(ticket_url: str) -> None:
    if ticket_url and urlsplit(ticket_url).scheme not in ("http", "https"):
        raise InvalidError(
            f"ticket_url: {ticket_url!r} is not an http(s) address like "
            "https://desk.example.com/tickets/{id}",
            "ticket_url",
        )


def render_monthly_document(report: dict[str, Any], ticket_url: str = "") -> str:
    """The report as one standalone HTML document (inline CSS and SVG charts, no scripts).

    ``ticket_url`` links each breached ticket, e.g. ``https://desk.example.com/tickets/{id}``;
    without it tickets are plain ids.
    """
    _check_ticket_url(ticket_url)
    links = {b["ticket"]: ticket_link(str(b["ticket"]), ticket_url) for b in report["breaches"]}
    return (
        _environment()
        .get_template("report_monthly.html")
        .render(
            report=report,
            links=links,
            daily=_daily_chart(report["series"]),
            per_metric=_metric_chart(report["metrics"]),
            pct=_pct,
        )
    )


def _pct(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:g}\u00a0%"


def _daily_chart(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Bar geometry for met % per day: a 640x200 plot, one slot per day, 0-100 % high."""
    left, top, width, height = 36.0, 10.0, 596.0, 160.0
    slot = width / max(len(points), 1)
    bars = []
    for i, point in enumerate(points):
        x = left + i * slot
        label = str(int(point["day"][8:]))
        bar: dict[str, Any] = {"x": round(x + slot * 0.15, 2), "w": round(slot * 0.7, 2)}
        bar["label_x"] = round(x + slot / 2, 2)
        bar["label"] = label if i % 2 == 0 else ""
        if point["met_pct"] is None:
            bar.update(h=0, y=top + height, title=f"{point['day']}: no clocks decided")
        else:
            h = max(2.0, height * point["met_pct"] / 100)  # a day with none met still shows
            bar.update(
                h=round(h, 2),
                y=round(top + height - h, 2),
                title=(
                    f"{point['day']}: {point['met']} of {point['total']} met "
                    f"({_pct(point['met_pct'])})"
                ),
                full=point["met"] == point["total"],
                none=point["met"] == 0,
            )
        bars.append(bar)
    grid = [
        {"y": round(top + height - height * p / 100, 2), "label": f"{p} %"} for p in (0, 50, 100)
    ]
    return {"bars": bars, "grid": grid, "left": left, "right": left + width, "bottom": top + height}


def _metric_chart(metrics: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars, one per metric: met % of its decided clocks."""
    left, width, row = 170.0, 420.0, 28.0
    bars = [
        {
            "y": round(8 + i * row, 2),
            "w": round(width * (m["met_pct"] or 0) / 100, 2),
            "label": m["metric_name"],
            "value": f"{_pct(m['met_pct'])} ({m['met']} of {m['total']})",
            "full": m["met"] == m["total"],
        }
        for i, m in enumerate(metrics)
    ]
    return {"bars": bars, "left": left, "width": width, "height": 16 + row * len(bars)}


# --- over the store -------------------------------------------------------------------------------


def render_monthly_html(
    db: Database,
    configs: ConfigCache,
    agreement_id: str,
    month: str,
    now: datetime,
    *,
    tz: tzinfo = UTC,
    ticket_url: str = "",
) -> str:
    """The monthly report of ``agreement_id`` over the stored clocks, as of ``now``.

    Only the clocks that started in the month are read from the store. Raises
    UnknownAgreementError (a NotFoundError) or InvalidError, before reading any clock.
    """
    _check_ticket_url(ticket_url)
    with db.read() as connection:
        config = configs.current(connection).config
    _agreement(config, agreement_id)
    start, end = month_bounds(month, tz)
    table = clock_table(db, configs, now, start_from=start, start_to=end, agreements=[agreement_id])
    report = monthly_report(table, config, agreement_id, month, tz, now=now)
    return render_monthly_document(report, ticket_url=ticket_url)


# --- PDF ------------------------------------------------------------------------------------------


def pdf_converter() -> str | None:
    """The headless browser that prints HTML to PDF (Chromium), or None when none is installed."""
    return shutil.which("chromium")


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML file at ``html_path`` to ``pdf_path`` with a headless Chromium.

    Networking is off and the profile is a throwaway folder, so printing a report neither
    reaches out nor leaves state behind. Raises NoPdfConverterError when Chromium is not
    installed, ServiceError when it fails.
    """
    program = pdf_converter()
    if program is None:
        raise NoPdfConverterError(
            "no PDF converter is installed: install Chromium (the `chromium` command) to write "
            "PDF reports; the HTML report was written"
        )
    pdf_path = pdf_path.resolve()
    with tempfile.TemporaryDirectory(prefix="duly-pdf-") as profile:
        command = [
            program,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_PDF_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(f"pdf: Chromium did not finish in {_PDF_SECONDS} s") from exc
    if done.returncode != 0 or not pdf_path.exists():
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ServiceError(f"pdf: Chromium could not print the report: {detail[0]}")
