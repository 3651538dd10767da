"""What every command gets from the global options: the API client and the output mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from cpctl.client import ApiClient
from cpctl.config import SessionStore, config_dir


@dataclass
class State:
    as_json: bool = False
    gateway: str | None = None
    directory: Path | None = None
    _client: ApiClient | None = field(default=None, repr=False)

    @property
    def store(self) -> SessionStore:
        return SessionStore(config_dir(self.directory))

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = ApiClient(self.store, self.gateway)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def state(ctx: typer.Context) -> State:
    found = ctx.find_object(State)
    if found is None:  # a command invoked without the root callback (tests of one command)
        found = ctx.ensure_object(State)
    return found
