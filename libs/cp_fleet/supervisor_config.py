"""Render ``supervisord.conf`` for the fleet: one ``[program:x]`` per :class:`ServerCommand`.

Programs are ``autostart=false``: ``python -m cp_fleet up`` starts them in dependency order and
waits for each one's readiness probe, which supervisord itself cannot do. Once started,
supervisord restarts a program that dies (``autorestart=true``). Every program logs stdout and
stderr to ``<state>/logs/<name>.log``, rotated by supervisord itself past ``log_max_bytes``
keeping ``log_backups`` older files (supervisord's own log too). Control goes through a private
Unix socket (mode 0700).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

from cp_fleet.processes import ServerCommand

#: Defaults; the fleet passes the catalog's ``logs`` bounds.
LOG_MAX_BYTES = 20 * 1024 * 1024
LOG_BACKUPS = 2


def _escape(value: str) -> str:
    """supervisord expands ``%(name)s`` in values, so a literal percent sign is doubled."""
    return value.replace("%", "%%")


def _environment(env: Mapping[str, str]) -> str:
    """``KEY="value",...``. supervisord splits this with a non-POSIX shlex and strips quotes, so a
    value cannot contain a double quote or a line break; such a value is refused here."""
    pairs = []
    for key, value in env.items():
        if '"' in value or "\n" in value or "\r" in value:
            raise ValueError(
                f"environment variable {key}: a double quote or line break cannot be "
                "passed through supervisord"
            )
        pairs.append(f'{key}="{_escape(value)}"')
    return ",".join(pairs)


def render_program(
    command: ServerCommand,
    *,
    log_path: Path,
    directory: Path,
    log_max_bytes: int = LOG_MAX_BYTES,
    log_backups: int = LOG_BACKUPS,
) -> str:
    lines = [
        f"[program:{command.name}]",
        f"command={_escape(shlex.join(command.argv))}",
        f"directory={_escape(str(command.cwd or directory))}",
    ]
    if command.env:
        lines.append(f"environment={_environment(command.env)}")
    if command.user:
        lines.append(f"user={command.user}")
    lines += [
        "autostart=false",
        "autorestart=true",
        "startsecs=1",
        "startretries=3",
        f"stopsignal={command.stop_signal.name.removeprefix('SIG')}",
        f"stopasgroup={'true' if command.stop_as_group else 'false'}",
        "killasgroup=true",
        f"stopwaitsecs={int(command.stop_timeout_s)}",
        f"stdout_logfile={_escape(str(log_path))}",
        f"stdout_logfile_maxbytes={log_max_bytes}",
        f"stdout_logfile_backups={log_backups}",
        "redirect_stderr=true",
    ]
    return "\n".join(lines)


def render_supervisord_config(
    programs: Iterable[tuple[ServerCommand, Path]],
    *,
    state_dir: Path,
    socket_path: Path,
    pid_path: Path,
    log_path: Path,
    environment: Mapping[str, str],
    log_max_bytes: int = LOG_MAX_BYTES,
    log_backups: int = LOG_BACKUPS,
) -> str:
    """The whole file. ``programs`` are ``(command, log path)`` pairs, in start order."""
    sections = [
        "; Rendered by cp_fleet from the service catalog (deploy/services.yaml). Do not edit.",
        "\n".join(
            [
                "[unix_http_server]",
                f"file={_escape(str(socket_path))}",
                "chmod=0700",
            ]
        ),
        "\n".join(
            [
                "[supervisord]",
                f"logfile={_escape(str(log_path))}",
                f"logfile_maxbytes={log_max_bytes}",
                f"logfile_backups={log_backups}",
                f"pidfile={_escape(str(pid_path))}",
                f"directory={_escape(str(state_dir))}",
                f"childlogdir={_escape(str(log_path.parent))}",
                "identifier=cryptopredict",
                "loglevel=info",
                f"environment={_environment(environment)}",
            ]
        ),
        "\n".join(
            [
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            ]
        ),
        "\n".join(["[supervisorctl]", f"serverurl=unix://{_escape(str(socket_path))}"]),
    ]
    for command, program_log in programs:
        sections.append(
            render_program(
                command,
                log_path=program_log,
                directory=state_dir,
                log_max_bytes=log_max_bytes,
                log_backups=log_backups,
            )
        )
    return "\n\n".join(sections) + "\n"
