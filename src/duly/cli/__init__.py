"""The ``duly`` command line: thin commands that parse input, call one function, print it."""

from __future__ import annotations

import typer

from duly import __version__
from duly.cli.calendar_commands import between, deadline
from duly.cli.config_commands import check
from duly.cli.import_commands import import_log_command
from duly.cli.report_commands import report_app, whatif
from duly.cli.service_commands import db_app, monitor, reevaluate, serve, token_app

app = typer.Typer(
    name="duly",
    help=(
        "duly keeps the response and resolution times a support team promises (SLAs, OLAs and "
        "vendor contracts) and measures them in business time.\n\n"
        "Calendar arithmetic: `duly deadline` and `duly between`. Validate an SLA config: "
        "`duly check`. Import a help desk's log: `duly import-log`. Reports over event files: "
        "`duly report`, `duly whatif`. The server: `duly serve` (try `--demo`), `duly monitor`, "
        "`duly db upgrade`, `duly token create`, `duly reevaluate`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(deadline)
app.command()(between)
app.command()(check)
app.command()(whatif)
app.command("import-log")(import_log_command)
app.add_typer(report_app, name="report")
app.command()(serve)
app.command()(monitor)
app.command()(reevaluate)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")


@app.command()
def version() -> None:
    """Print duly's version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point for ``python -m duly``."""
    app()
