"""`duly check`: validate an SLA config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duly.cli.arguments import count
from duly.config import ConfigError, load_config


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
        typer.echo(f"{count(len(exc.problems), 'problem')} in {config}", err=True)
        raise typer.Exit(code=1) from exc
    policies = sum(len(agreement.policies) for agreement in sla.agreements)
    counts = (
        count(len(sla.agreements), "agreement"),
        count(policies, "policy", "policies"),
        count(len(sla.calendars), "calendar"),
    )
    typer.echo(f"ok: {', '.join(counts)}")
