"""Options and argument parsing shared by the commands: instants, files, failures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from duly.config import ConfigError, load_calendar
from duly.core.calendar import Calendar

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


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def count(number: int, one: str, many: str = "") -> str:
    """``1 policy``, ``2 policies``."""
    return f"{number} {one if number == 1 else many or one + 's'}"


def calendar_from_option(reference: str) -> Calendar:
    try:
        return load_calendar(reference)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


def instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail(f"{option}: {text!r} is not an ISO 8601 date-time") from exc
    if value.tzinfo is None:
        raise fail(
            f"{option}: {text!r} has no UTC offset; write it like 2026-03-02T09:00:00+01:00 or "
            "with a Z for UTC"
        )
    return value
