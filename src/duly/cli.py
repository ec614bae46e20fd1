"""The `duly` command line: thin commands that parse input, call one function, print it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from duly import __version__
from duly.config import ConfigError, load_calendar, load_config
from duly.core.calendar import Calendar
from duly.core.durations import format_duration, parse_duration

app = typer.Typer(
    name="duly",
    help=(
        "duly keeps the response and resolution times a support team promises (SLAs, OLAs and "
        "vendor contracts) and measures them in business time.\n\n"
        "Calendar arithmetic: `duly deadline` and `duly between`. Validate an SLA config: "
        "`duly check`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CalendarOption = Annotated[
    str,
    typer.Option(
        "--calendar",
        "-c",
        help="A YAML file of calendars and the one to use, as FILE:NAME (FILE alone if it holds "
        "one calendar).",
        metavar="FILE[:NAME]",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _count(number: int, one: str, many: str = "") -> str:
    """``1 policy``, ``2 policies``."""
    return f"{number} {one if number == 1 else many or one + 's'}"


def _calendar(reference: str) -> Calendar:
    try:
        return load_calendar(reference)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


def _instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _fail(f"{option}: {text!r} is not an ISO 8601 date-time") from exc
    if value.tzinfo is None:
        raise _fail(
            f"{option}: {text!r} has no UTC offset; write it like 2026-03-02T09:00:00+01:00 or "
            "with a Z for UTC"
        )
    return value


@app.command()
def deadline(
    calendar: CalendarOption,
    start: Annotated[str, typer.Option(help="When the clock starts (ISO 8601 with offset).")],
    add: Annotated[
        str, typer.Option("--add", help="Business time to add: 8h30m, 2d, 45m, PT8H or seconds.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Print when ADD of business time will have passed after START: an SLA's due time."""
    cal = _calendar(calendar)
    begin = _instant(start, "--start")
    try:
        seconds = parse_duration(add)
        due = cal.add(begin, seconds)
    except ValueError as exc:
        raise _fail(f"--add: {exc}") from exc
    local = due.astimezone(ZoneInfo(cal.timezone))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "calendar": cal.name,
                    "timezone": cal.timezone,
                    "start": begin.isoformat(),
                    "business_seconds": seconds,
                    "deadline": local.isoformat(),
                    "deadline_utc": due.isoformat(),
                }
            )
        )
    else:
        typer.echo(local.isoformat())


@app.command()
def between(
    calendar: CalendarOption,
    start: Annotated[str, typer.Option(help="Start of the span (ISO 8601 with offset).")],
    end: Annotated[str, typer.Option(help="End of the span (ISO 8601 with offset).")],
    as_json: JsonOption = False,
) -> None:
    """Print the business time between START and END (negative when END is earlier)."""
    cal = _calendar(calendar)
    a, b = _instant(start, "--start"), _instant(end, "--end")
    try:
        seconds = cal.between(a, b)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    calendar_seconds = (b - a).total_seconds()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "calendar": cal.name,
                    "timezone": cal.timezone,
                    "start": a.isoformat(),
                    "end": b.isoformat(),
                    "business_seconds": seconds,
                    "calendar_seconds": calendar_seconds,
                }
            )
        )
    else:
        typer.echo(f"{format_duration(seconds)} ({seconds:g} business seconds)")


@app.command()
def check(
    config: Annotated[
        Path,
        typer.Argument(
            help="An SLA config file, or a folder whose *.yaml and *.yml files are merged.",
            metavar="CONFIG",
        ),
    ],
) -> None:
    """Validate an SLA config: print a summary, or every problem as FILE:LINE: FIELD: REASON.

    Problems go to standard output, one a line, so they can be piped (grep, an editor's quickfix
    list); the exit code is 1 when there is any.
    """
    try:
        sla = load_config(config)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        typer.echo(f"{_count(len(exc.problems), 'problem')} in {config}", err=True)
        raise typer.Exit(code=1) from exc
    policies = sum(len(agreement.policies) for agreement in sla.agreements)
    counts = (
        _count(len(sla.agreements), "agreement"),
        _count(policies, "policy", "policies"),
        _count(len(sla.calendars), "calendar"),
    )
    typer.echo(f"ok: {', '.join(counts)}")


@app.command()
def version() -> None:
    """Print duly's version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point for ``python -m duly``."""
    app()
