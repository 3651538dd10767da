"""The rendered supervisord.conf, read back with supervisord's own option parser."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from cp_fleet.processes import ServerCommand
from cp_fleet.readiness import ReadinessCheck
from cp_fleet.supervisor_config import render_supervisord_config


def test_supervisord_reads_programs_back_exactly(tmp_path: Path) -> None:
    tricky_env = {"JWKS_URL": "http://127.0.0.1:8101/x?a=1,b=2", "TEXT": "it's 100% = $HOME", "EMPTY": ""}
    command = ServerCommand(
        name="gateway",
        argv=("/bin/nginx", "-k", "", "-g", "daemon off;", "100%"),
        readiness=ReadinessCheck("none", lambda: None),
        env=tricky_env,
        user=None,
        cwd=tmp_path / "gw",
        stop_signal=signal.SIGINT,
        stop_as_group=True,
        stop_timeout_s=7,
    )
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        render_supervisord_config(
            [(command, tmp_path / "logs" / "gateway.log")],
            state_dir=tmp_path,
            socket_path=tmp_path / "s.sock",
            pid_path=tmp_path / "s.pid",
            log_path=tmp_path / "logs" / "supervisord.log",
            environment={"CP_STATE_DIR": str(tmp_path)},
        )
    )
    options = ServerOptions()
    options.configfile = str(conf)
    options.process_config(do_usage=False)
    root = options.configroot.supervisord
    assert root.server_configs[0]["file"] == str(tmp_path / "s.sock")
    assert root.environment == {"CP_STATE_DIR": str(tmp_path)}
    (group,) = options.process_group_configs
    (program,) = group.process_configs
    assert program.name == "gateway"
    assert shlex.split(program.command) == list(command.argv)  # supervisord splits it the same way
    assert program.environment == {"CP_STATE_DIR": str(tmp_path), **tricky_env}
    assert program.directory == str(tmp_path / "gw")
    assert program.stopsignal == signal.SIGINT
    assert program.stopasgroup is True and program.killasgroup is True
    assert program.stopwaitsecs == 7
    assert program.autostart is False and program.autorestart is RestartUnconditionally
    assert program.stdout_logfile == str(tmp_path / "logs" / "gateway.log")
    assert program.redirect_stderr is True


def test_values_supervisord_cannot_carry_are_refused(tmp_path: Path) -> None:
    command = ServerCommand(
        name="svc", argv=("x",), readiness=ReadinessCheck("none", lambda: None), env={"BAD": 'a "b"'}
    )
    with pytest.raises(ValueError, match="BAD: a double quote"):
        render_supervisord_config(
            [(command, tmp_path / "svc.log")],
            state_dir=tmp_path,
            socket_path=tmp_path / "s.sock",
            pid_path=tmp_path / "s.pid",
            log_path=tmp_path / "supervisord.log",
            environment={},
        )
