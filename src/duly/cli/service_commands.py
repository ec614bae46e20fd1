"""`duly serve`, `duly monitor`, `duly db upgrade`, `duly token create`, `duly reevaluate`.

Every command works on ``DULY_DATABASE_URL`` (default ``sqlite:///./duly.db``) and applies any
pending migration first, so a new release never runs on an old schema.
"""

from __future__ import annotations

from typing import Annotated

import typer

from duly import bootstrap
from duly.monitor.worker import Monitor
from duly.service.config_changes import reevaluate as reevaluate_all
from duly.service.errors import ServiceError
from duly.service.tokens import ROLES, create_token

__all__ = ["db_app", "monitor", "reevaluate", "serve", "token_app"]

HostOption = Annotated[str, typer.Option("--host", help="The address to listen on.")]
PortOption = Annotated[int, typer.Option("--port", help="The port to listen on.")]


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Start on a fresh SQLite file (duly-demo.db) with the example config and a "
            "live stream of simulated tickets.",
        ),
    ] = False,
    no_monitor: Annotated[
        bool,
        typer.Option(
            "--no-monitor", help="Serve the API and derive clocks; run `duly monitor` apart."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="API processes accepting on the port (deriving and the monitor run in one more).",
        ),
    ] = 1,
) -> None:
    """Run the API and dashboard, and in a second process the deriver and the alert monitor."""
    bootstrap.serve(host=host, port=port, monitor=not no_monitor, demo=demo, workers=workers)


def monitor(
    poll: Annotated[
        float, typer.Option("--poll", help="Seconds between checks when nothing is due sooner.")
    ] = 0.25,
    lease: Annotated[
        float,
        typer.Option(
            "--lease",
            help="Seconds a delivery stays taken by this monitor; if it dies, another monitor "
            "sends it once the lease runs out.",
        ),
    ] = 60.0,
) -> None:
    """Run an alert monitor alone (as many as you like against one PostgreSQL database)."""
    ctx = bootstrap.open_context()
    typer.echo("duly monitor running; Ctrl-C stops it", err=True)
    Monitor(ctx, poll_s=poll, lease_s=lease).run_forever()


def reevaluate() -> None:
    """Re-derive every ticket's clocks under the config in force (finished ones too)."""
    ctx = bootstrap.open_context()
    result = reevaluate_all(ctx.db, ctx.configs, ctx.now())
    typer.echo(f"config version {result.version}: {result.tickets} tickets, {result.clocks} clocks")


db_app = typer.Typer(help="The database: `duly db upgrade`.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to DULY_DATABASE_URL."""
    bootstrap.open_context()
    typer.echo("database is up to date")


token_app = typer.Typer(help="API tokens: `duly token create`.", no_args_is_help=True)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "viewer",
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")] = "",
) -> None:
    """Create an API token; it is printed once, alone on the last line, and stored hashed."""
    ctx = bootstrap.open_context()
    try:
        token = create_token(ctx.db, role, name, ctx.now())
    except ServiceError as exc:
        typer.echo(f"error: --{exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created a {role} token; keep it, it cannot be shown again:")
    typer.echo(token)
