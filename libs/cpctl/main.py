"""The ``cpctl`` command tree. Global options come before the command:
``cpctl --json --gateway http://host:8080 watchlists show``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cpctl.commands import admin, market, session, signals, watchlists
from cpctl.errors import CliError
from cpctl.output import stderr
from cpctl.state import State

app = typer.Typer(
    name="cpctl",
    help="CryptoPredict from the terminal, through the public gateway API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    gateway: Annotated[
        str | None,
        typer.Option(
            envvar="CPCTL_GATEWAY",
            help="gateway URL (default: the one you logged in to, else localhost:8080)",
        ),
    ] = None,
    config_dir: Annotated[
        Path | None, typer.Option(envvar="CPCTL_CONFIG_DIR", help="where the session is kept")
    ] = None,
) -> None:
    current = State(as_json=as_json, gateway=gateway, directory=config_dir)
    ctx.obj = current
    ctx.call_on_close(current.close)


app.command()(session.login)
app.command()(session.logout)
app.command()(session.whoami)
app.command()(market.health)
app.command()(market.regime)
app.add_typer(market.sectors, name="sectors")
app.add_typer(market.assets, name="assets")
app.add_typer(signals.app, name="signals")
app.command()(signals.portfolio)
app.command()(signals.performance)
app.add_typer(watchlists.app, name="watchlists")
app.add_typer(admin.suggestions, name="suggestions")
app.command()(admin.audit)
app.add_typer(admin.system, name="system")


def run() -> None:
    """The ``cpctl`` console script: errors become one line on stderr and their exit code."""
    try:
        app(prog_name="cpctl")
    except CliError as error:
        stderr.print(f"[red]error:[/red] {escape(error.message)}")
        sys.exit(int(error.code))
