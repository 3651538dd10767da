"""The unprivileged system account that PostgreSQL and Nginx run as when we are root.

PostgreSQL refuses to start as root, and a gateway should not run as root either. When the current
process is root, those servers run as the account named by ``CP_INFRA_USER`` (default
``cryptopredict``), created on first use with ``useradd --system``. Their data directories are handed
over to it and the directories above them are made traversable (``o+x`` only, nothing readable).
When we are not root, servers simply run as the current user and nothing here changes anything.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path
from typing import TypedDict

INFRA_USER_ENV = "CP_INFRA_USER"
DEFAULT_INFRA_USER = "cryptopredict"


def running_as_root() -> bool:
    return os.geteuid() == 0


def infra_user() -> str | None:
    """The account to run unprivileged servers as, or ``None`` to run them as ourselves."""
    if not running_as_root():
        return None
    name = os.environ.get(INFRA_USER_ENV, DEFAULT_INFRA_USER)
    ensure_system_user(name)
    return name


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """Return the account ``name``, creating it as a no-login system user if it does not exist."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            shell,
            name,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # another process may have created it at the same time; the lookup is the truth
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"could not create system user {name!r}: {result.stderr.strip()}") from None


def hand_over(path: Path, user: str | None) -> None:
    """Make ``user`` the owner of ``path`` and everything below it (no-op for ``None``)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def make_traversable(path: Path, user: str | None) -> None:
    """Let ``user`` reach ``path`` by adding the search bit (``o+x``) to any ancestor lacking it."""
    if user is None:
        return
    for ancestor in [path.resolve(), *path.resolve().parents]:
        if not ancestor.exists():
            continue
        mode = ancestor.stat().st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


class PopenIdentity(TypedDict, total=False):
    """The identity keyword arguments of :class:`subprocess.Popen`."""

    user: int
    group: int
    extra_groups: list[int]


def popen_identity(user: str | None) -> PopenIdentity:
    """Keyword arguments for :class:`subprocess.Popen` that run the child as ``user``."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
