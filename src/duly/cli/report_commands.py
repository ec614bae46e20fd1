"""`duly report ...` and `duly whatif`: compliance, SLA log, attribution and the customer's
monthly report over event files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from duly.cli.arguments import fail, instant
from duly.cli.output import Format, emit
from duly.config import ConfigError, load_config
from duly.core.agreements import SlaConfig
from duly.core.clock_table import ClockTable, only
from duly.core.reports import (
    GROUP_KEYS,
    LOG_COLUMNS,
    attribution,
    compare,
    compliance,
    rate_outcomes,
    sla_log,
)
from duly.service.errors import ServiceError
from duly.service.event_files import EventFileError
from duly.service.history import read_history_columns
from duly.service.monthly_report import monthly_report, render_monthly_document, write_pdf

report_app = typer.Typer(
    help=(
        "Reports over event files: compliance, the SLA log, where the time went, and the "
        "customer's monthly report."
    ),
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The SLA config (file or folder).", metavar="CONFIG")
]
EventsOption = Annotated[
    list[Path],
    typer.Option(
        "--events",
        "-e",
        help="Event files (.jsonl, .csv, .parquet, gzipped too); repeat for several.",
        metavar="FILE",
    ),
]
ByOption = Annotated[
    str,
    typer.Option(
        "--by", help=f"Group by any of: {', '.join(GROUP_KEYS)} (comma-separated).", metavar="KEYS"
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Evaluate as of this instant (ISO 8601); default: the real now."),
]
TzOption = Annotated[
    str, typer.Option("--tz", help="Time zone that days, weeks and months are counted in.")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Stop at the first malformed event line.")
]
AgreementFilter = Annotated[
    list[str] | None,
    typer.Option("--agreement", "-a", help="Only clocks of this agreement (repeatable)."),
]
MetricFilter = Annotated[
    list[str] | None,
    typer.Option("--metric", "-m", help="Only clocks of this metric (repeatable)."),
]


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on a terminal; silent when output is piped."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done: bar.update(task, completed=done)


def _config(path: Path) -> SlaConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise fail(f"{path} is not a valid config:\n{exc}") from exc


def _keys(by: str) -> list[str]:
    keys = [k.strip() for k in by.split(",") if k.strip()]
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise fail(f"--by: unknown key {unknown[0]!r}; use any of {', '.join(GROUP_KEYS)}")
    return keys


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise fail(f"--tz: unknown time zone {name!r}") from exc


def _clocks(
    config: SlaConfig,
    events: list[Path],
    now: datetime,
    strict: bool,
    agreements: list[str] | None = None,
    metrics: list[str] | None = None,
    attribution: bool = False,
) -> ClockTable:
    if not events:
        raise fail("--events: give at least one event file")
    try:
        with progress_bar("reading events") as tick:
            history = read_history_columns(events, strict=strict, progress=tick)
    except EventFileError as exc:
        raise fail(str(exc)) from exc
    for problem in history.problems[:20]:
        typer.echo(f"warning: {problem}", err=True)
    if len(history.problems) > 20:
        typer.echo(f"warning: ... {len(history.problems) - 20} more bad lines", err=True)
    table = history.clocks(config, now, attribution=attribution)
    return only(only(table, "agreement", agreements), "metric", metrics)


def _now(text: str | None) -> datetime:
    return instant(text, "--now") if text else datetime.now(UTC)


@report_app.command("compliance")
def compliance_command(
    config: ConfigOption,
    events: EventsOption,
    by: ByOption = "",
    fmt: FormatOption = Format.table,
    now: NowOption = None,
    tz: TzOption = "UTC",
    strict: StrictOption = False,
    agreement: AgreementFilter = None,
    metric: MetricFilter = None,
) -> None:
    """Per group: total, met, missed, met %, open, and how long met and missed clocks took.

    Times are business time (in each target's calendar) and calendar time: average, median,
    90th percentile, minimum and maximum. As a table, rate targets' outcomes follow.
    """
    sla = _config(config)
    keys, zone, at = _keys(by), _zone(tz), _now(now)
    table = _clocks(sla, events, at, strict, agreement, metric)
    rows = compliance(table, keys, zone)
    if fmt is Format.table:  # two narrower tables: business time, then calendar time
        counts = [*keys, "total", "met", "missed", "met_pct", "open"]
        stats = ("avg", "median", "p90", "min", "max")
        for measure in ("business", "calendar"):
            typer.echo(f"{measure.capitalize()} time of met and missed clocks")
            timing = [f"{o}_{measure}_{s}_s" for o in ("met", "missed") for s in stats]
            labels = {c: c.replace(f"_{measure}", "") for c in timing}
            emit(rows, fmt, counts + timing, labels)
    else:
        emit(rows, fmt)
    rates = rate_outcomes(table, sla, at, zone)
    if rates and fmt is Format.table:
        typer.echo("\nRate targets (also: duly report rates)")
        emit(rates, fmt)


@report_app.command("rates")
def rates_command(
    config: ConfigOption,
    events: EventsOption,
    fmt: FormatOption = Format.table,
    now: NowOption = None,
    tz: TzOption = "UTC",
    strict: StrictOption = False,
    agreement: AgreementFilter = None,
    metric: MetricFilter = None,
) -> None:
    """Each rate target's outcome per period, e.g. 95 % of tickets resolved within 8h a month."""
    sla = _config(config)
    zone, at = _zone(tz), _now(now)
    table = _clocks(sla, events, at, strict, agreement, metric)
    emit(rate_outcomes(table, sla, at, zone), fmt)


@report_app.command("log")
def log_command(
    config: ConfigOption,
    events: EventsOption,
    fmt: FormatOption = Format.csv,
    now: NowOption = None,
    strict: StrictOption = False,
    agreement: AgreementFilter = None,
    metric: MetricFilter = None,
) -> None:
    """One row per clock. As CSV its header is fixed, so other tools can rely on it."""
    sla = _config(config)
    table = _clocks(sla, events, _now(now), strict, agreement, metric)
    emit(sla_log(table), fmt, LOG_COLUMNS)


@report_app.command("attribution")
def attribution_command(
    config: ConfigOption,
    events: EventsOption,
    fmt: FormatOption = Format.table,
    now: NowOption = None,
    strict: StrictOption = False,
    agreement: AgreementFilter = None,
    metric: MetricFilter = None,
) -> None:
    """Business time and breaches per group and assignee that held tickets while clocks ran."""
    sla = _config(config)
    table = _clocks(sla, events, _now(now), strict, agreement, metric, attribution=True)
    emit(attribution(table), fmt)


@report_app.command("monthly")
def monthly_command(
    config: ConfigOption,
    events: EventsOption,
    agreement: Annotated[
        str, typer.Option("--agreement", "-a", help="The agreement to report on (its id).")
    ],
    month: Annotated[
        str, typer.Option("--month", help="The month, like 2026-03 (counted in --tz).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The HTML file to write; default AGREEMENT-MONTH.html."),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Also print the report to this PDF file (needs Chromium)."),
    ] = None,
    ticket_url: Annotated[
        str,
        typer.Option(
            "--ticket-url",
            help="Link each ticket: a URL with {id}, like https://desk.example.com/tickets/{id}.",
        ),
    ] = "",
    now: NowOption = None,
    tz: TzOption = "UTC",
    strict: StrictOption = False,
) -> None:
    """The customer's monthly report as one standalone HTML file (and a PDF with --pdf).

    Targets against results per metric and priority, rate targets, a day-by-day chart, every
    missed target with its ticket, and the service credit owed under the agreement's credits.
    """
    sla = _config(config)
    if agreement not in {a.id for a in sla.agreements}:
        known = ", ".join(a.id for a in sla.agreements) or "none"
        raise fail(f"--agreement: no agreement {agreement!r} in {config} (known: {known})")
    zone, at = _zone(tz), _now(now)
    table = _clocks(sla, events, at, strict, [agreement])
    try:
        report = monthly_report(table, sla, agreement, month, zone, now=at)
        html = render_monthly_document(report, ticket_url=ticket_url)
    except ServiceError as exc:
        option = {"month": "--month", "ticket_url": "--ticket-url"}.get(exc.field or "", "")
        message = exc.message.replace(f"{exc.field}:", f"{option}:", 1) if option else exc.message
        raise fail(message) from exc
    target = out or Path(f"{agreement}-{month}.html")
    target.write_text(html, encoding="utf-8")
    summary = report["summary"]
    credits = report["credits"]
    owed = ""
    if credits is not None:
        amount = credits["amount_text"] or f"{credits['credit_pct']:g} %"
        owed = f"; credit owed: {amount}" if credits["owed"] else "; no credit owed"
    met = "no decided clocks" if summary["met_pct"] is None else f"{summary['met_pct']:g} % met"
    typer.echo(f"wrote {target}: {summary['total']} measured, {met}{owed}")
    if pdf is not None:
        try:
            write_pdf(target, pdf)
        except ServiceError as exc:
            raise fail(exc.message) from exc
        typer.echo(f"wrote {pdf}")


def whatif(
    config: ConfigOption,
    draft: Annotated[Path, typer.Option("--draft", help="The draft config to try.")],
    events: EventsOption,
    by: ByOption = "",
    fmt: FormatOption = Format.table,
    now: NowOption = None,
    tz: TzOption = "UTC",
    strict: StrictOption = False,
    agreement: AgreementFilter = None,
    metric: MetricFilter = None,
    show_changes: Annotated[
        bool, typer.Option("--changes", help="With --format csv: print the changed clocks.")
    ] = False,
) -> None:
    """Replay the same history under the current config and a draft: met % before and after,
    and every clock whose outcome changes."""
    current, proposed = _config(config), _config(draft)
    keys, zone, at = _keys(by), _zone(tz), _now(now)
    table_now = _clocks(current, events, at, strict, agreement, metric)
    table_draft = _clocks(proposed, events, at, strict, agreement, metric)
    summary, changes = compare(table_now, table_draft, keys, zone)
    change_columns = ("ticket", "agreement", "metric", "cycle", "before", "after")
    if fmt is Format.json:  # one document holding both parts
        typer.echo(json.dumps({"summary": summary, "changes": changes}, default=str, indent=2))
    elif fmt is Format.csv:  # one table per document: the summary, or the changes when asked
        emit(changes, fmt, change_columns) if show_changes else emit(summary, fmt)
    else:
        emit(summary, fmt)
        typer.echo(f"\n{len(changes)} clocks change outcome")
        emit(changes, fmt, change_columns)
