"""`duly import-log`: a help desk's audit log into a duly event file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duly.cli.arguments import fail
from duly.cli.report_commands import progress_bar
from duly.service.importers import IMPORT_KINDS, AuditLogError, import_log


def import_log_command(
    source: Annotated[Path, typer.Argument(help="The audit log (.csv or .csv.gz).")],
    destination: Annotated[
        Path, typer.Argument(help="The event file to write: .jsonl, .csv or .parquet.")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help=f"The help desk: {', '.join(IMPORT_KINDS)}.")
    ] = "servicenow",
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", help="The zone of the log's naive times.")
    ] = "UTC",
) -> None:
    """Turn a help desk's audit log into duly events (one file, written whole or not at all)."""
    if kind not in IMPORT_KINDS:
        raise fail(f"--kind: unknown help desk {kind!r}; use one of {', '.join(IMPORT_KINDS)}")
    try:
        with progress_bar("importing rows") as tick:
            stats = import_log(source, destination, kind=kind, timezone=timezone, progress=tick)
    except (AuditLogError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(
        f"{stats.incidents:,} tickets, {stats.events:,} events from {stats.rows:,} rows "
        f"-> {destination}"
    )
    for reason, count in sorted(stats.skipped.items()):
        lines = ", ".join(str(n) for n in stats.skipped_lines.get(reason, []))
        typer.echo(f"skipped {count:,} rows: {reason} (lines {lines}...)", err=True)
