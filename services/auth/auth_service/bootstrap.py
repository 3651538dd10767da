"""The first admin, created at start-up from configuration (never from a hard-coded value).

``AUTH_BOOTSTRAP_ADMIN_EMAIL`` names the account; its password comes from the file
``AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE`` (a mounted secret; preferred) or the variable
``AUTH_BOOTSTRAP_ADMIN_PASSWORD``. In local and test mode, when neither is set, a random password
is generated once into ``<state dir>/auth-bootstrap-admin-password`` (mode 0600) and the log says
where it is (never what it is).

If the account already exists nothing changes: its password and role belong to the admins now.
Several replicas starting at once are safe (the insert is idempotent on the email).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from auth_service import repository as repo
from auth_service.accounts import Accounts
from auth_service.audit import SecurityEvent
from auth_service.domain.emails import normalize_email
from auth_service.settings import AuthSettings
from cp_common.errors import BadRequest, Conflict
from cp_common.security import Role

log = logging.getLogger(__name__)

GENERATED_PASSWORD_FILE = "auth-bootstrap-admin-password"  # noqa: S105 - a file name


class BootstrapError(RuntimeError):
    """The bootstrap admin is configured but cannot be created (message names the variable)."""


def generate_password() -> str:
    """A random password that meets the policy (upper, lower, digit, symbol)."""
    return f"{secrets.token_urlsafe(18)}-Aa1"


def _generated_password(state_dir: Path) -> tuple[str, Path]:
    path = state_dir / GENERATED_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip(), path
    state_dir.mkdir(parents=True, exist_ok=True)
    password = generate_password()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password, path


def bootstrap_password(settings: AuthSettings) -> str:
    if settings.auth_bootstrap_admin_password_file is not None:
        try:
            return settings.auth_bootstrap_admin_password_file.read_text().strip()
        except OSError as exc:
            raise BootstrapError(
                f"AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE cannot be read: {exc.strerror}"
            ) from None
    if settings.auth_bootstrap_admin_password is not None:
        return settings.auth_bootstrap_admin_password.get_secret_value()
    if settings.is_local:
        password, path = _generated_password(settings.state_dir)
        log.info("bootstrap admin password is in %s", path)
        return password
    raise BootstrapError(
        "AUTH_BOOTSTRAP_ADMIN_EMAIL is set but neither AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE "
        "nor AUTH_BOOTSTRAP_ADMIN_PASSWORD is"
    )


async def ensure_bootstrap_admin(accounts: Accounts, settings: AuthSettings) -> None:
    if not settings.auth_bootstrap_admin_email:
        return
    try:
        email = normalize_email(settings.auth_bootstrap_admin_email)
    except BadRequest:
        raise BootstrapError("AUTH_BOOTSTRAP_ADMIN_EMAIL is not a valid email address") from None
    if await repo.user_by_email(accounts.c.pool, email) is not None:
        log.info("bootstrap admin already exists")
        return
    password = bootstrap_password(settings)
    problems = accounts.c.policy.problems(password, email=email)
    if problems:
        raise BootstrapError("the bootstrap admin password does not meet the policy: " + "; ".join(problems))
    try:
        await accounts.create(email, password, role=Role.ADMIN, event=SecurityEvent.ADMIN_BOOTSTRAPPED)
    except Conflict:
        log.info("bootstrap admin created by another replica")
