"""``cpctl login``, ``logout``, ``whoami``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cpctl import output
from cpctl.client import ApiClient
from cpctl.config import Session
from cpctl.errors import CliError, ExitCode
from cpctl.state import state

AUTH = "auth"


def _read_secret(prompt: str, from_stdin: bool, given: str | None) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return given or typer.prompt(prompt, hide_input=True)


def _password_session(client: ApiClient, email: str, password: str) -> Session:
    data = client.call(
        "POST",
        "/api/v1/auth/login",
        service=AUTH,
        body={"email": email, "password": password},
        authenticated=False,
    )
    return Session(
        gateway=client.gateway,
        email=data["user"]["email"],
        user_id=data["user"]["id"],
        role=data["user"]["role"],
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
    )


def _api_key_session(client: ApiClient, api_key: str) -> Session:
    token = client.exchange(api_key)
    me = client.me(token["access_token"])
    return Session(
        gateway=client.gateway,
        email=me["email"],
        user_id=me["id"],
        role=token["role"],
        access_token=token["access_token"],
        refresh_token="",
        api_key=api_key,
    )


def login(
    ctx: typer.Context,
    email: Annotated[str | None, typer.Option(help="account email (prompted without --api-key)")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="CPCTL_PASSWORD", help="password (prompted when not given)")
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
    api_key: Annotated[
        str | None, typer.Option(envvar="CPCTL_API_KEY", help="log in with an API key instead of a password")
    ] = None,
    api_key_stdin: Annotated[bool, typer.Option(help="read the API key from standard input")] = False,
) -> None:
    """Log in with a password or an API key; the session is kept in the config directory (file
    mode 0600). An API-key session exchanges the key again whenever its token has expired."""
    current = state(ctx)
    if api_key or api_key_stdin:
        session = _api_key_session(current.client, _read_secret("API key", api_key_stdin, api_key))
    else:
        email = email or typer.prompt("Email")
        session = _password_session(current.client, email, _read_secret("Password", password_stdin, password))
    current.store.save(session)
    output.show(
        {
            "email": session.email,
            "role": session.role,
            "gateway": session.gateway,
            "saved_to": str(current.store.path),
            "api_key": session.api_key is not None,
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
            "POST",
            "/api/v1/auth/logout",
            service=AUTH,
            # an API-key session ends only its token (the key stays valid until revoked)
            body=None if session.api_key else {"refresh_token": session.refresh_token},
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
