"""Where ``cpctl`` keeps the gateway URL and the session: ``credentials.json`` in the user's config
directory (``~/.config/cpctl`` on Linux; ``CPCTL_CONFIG_DIR`` overrides), mode 0600 in a 0700
directory, because it holds bearer tokens."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

DEFAULT_GATEWAY = "http://localhost:8080"
FILE_NAME = "credentials.json"


def config_dir(override: Path | None = None) -> Path:
    if override is not None:
        return override
    from_env = os.environ.get("CPCTL_CONFIG_DIR")
    return Path(from_env) if from_env else Path(typer.get_app_dir("cpctl"))


@dataclass
class Session:
    gateway: str
    email: str
    user_id: str
    role: str
    access_token: str
    refresh_token: str
    #: Set for a session started with an API key: exchanged again when its token has expired
    #: (there is no refresh token).
    api_key: str | None = None


class SessionStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME

    def load(self) -> Session | None:
        try:
            raw = json.loads(self.path.read_text())
            return Session(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            return None  # a damaged file is treated as no session; login rewrites it

    def save(self, session: Session) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory.chmod(0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(session), handle)
        self.path.chmod(0o600)  # also when the file existed with a wider mode

    def clear(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
