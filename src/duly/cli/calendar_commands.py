"""`duly deadline` and `duly between`: calendar arithmetic on the command line."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from duly.cli.arguments import CalendarOption, JsonOption, calendar_from_option, fail, instant
from duly.core.durations import format_duration, parse_duration


def deadline(
    calendar: CalendarOption,
    start: Annotated[str, typer.Option(help="When the clock starts (ISO 8601 with offset).")],
    add: Annotated[
        str, typer.Option("--add", help="Business time to add: 8h30m, 2d, 45m, PT8H or seconds.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Print when ADD of business time will have passed after START: an SLA's due time."""
    cal = calendar_from_option(calendar)
    begin = instant(start, "--start")
    try:
        seconds = parse_duration(add)
        due = cal.add(begin, seconds)
    except ValueError as exc:
        raise fail(f"--add: {exc}") from exc
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


def between(
    calendar: CalendarOption,
    start: Annotated[str, typer.Option(help="Start of the span (ISO 8601 with offset).")],
    end: Annotated[str, typer.Option(help="End of the span (ISO 8601 with offset).")],
    as_json: JsonOption = False,
) -> None:
    """Print the business time between START and END (negative when END is earlier)."""
    cal = calendar_from_option(calendar)
    a, b = instant(start, "--start"), instant(end, "--end")
    try:
        seconds = cal.between(a, b)
    except ValueError as exc:
        raise fail(str(exc)) from exc
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
