"""``cpctl login``, ``logout``, ``whoami``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cpctl import output
from cpctl.config import Session
from cpctl.errors import CliError, ExitCode
from cpctl.state import state

AUTH = "auth"


def login(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True, help="account email")],
    password: Annotated[
        str | None, typer.Option(envvar="CPCTL_PASSWORD", help="password (prompted when not given)")
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Log in; the session is kept in the config directory (file mode 0600)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        password = typer.prompt("Password", hide_input=True)
    current = state(ctx)
    client = current.client
    data = client.call(
        "POST",
        "/api/v1/auth/login",
        service=AUTH,
        body={"email": email, "password": password},
        authenticated=False,
    )
    session = Session(
        gateway=client.gateway,
        email=data["user"]["email"],
        user_id=data["user"]["id"],
        role=data["user"]["role"],
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
    )
    current.store.save(session)
    output.show(
        {
            "email": session.email,
            "role": session.role,
            "gateway": session.gateway,
            "saved_to": str(current.store.path),
        },
        current.as_json,
        lambda d: output.stdout.print(f"Logged in as {d['email']} ({d['role']}) at {d['gateway']}"),
    )


def logout(ctx: typer.Context) -> None:
    """End the session on the server and forget it here."""
    current = state(ctx)
    session = current.client.session
    if session is None:
        raise CliError("not logged in", ExitCode.NOT_LOGGED_IN)
    try:
        current.client.call(
            "POST", "/api/v1/auth/logout", service=AUTH, body={"refresh_token": session.refresh_token}
        )
    finally:
        current.store.clear()
    if current.as_json:
        output.emit_json({"logged_out": True})
    else:
        output.stdout.print("Logged out")


def whoami(ctx: typer.Context) -> None:
    """The account of the current session."""
    current = state(ctx)
    data = current.client.call("GET", "/api/v1/auth/me", service=AUTH)
    output.show(data, current.as_json, output.fields)
