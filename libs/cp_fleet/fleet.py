"""Run the whole local fleet under supervisord: embedded infrastructure, services, gateway.

:class:`Fleet` turns a :class:`~cp_fleet.catalog.Catalog` into supervisord programs, starts them
in dependency order (infrastructure, then services wave by wave, then the gateway), waits for each
one's readiness (``select 1``/``PING``/``ApiVersions``, a service's ``/readyz``, the gateway's
``/health``), and stops everything again leaving no process behind.

Infrastructure whose variable is set (``DATABASE_URL``, ``REDIS_URL``, ``KAFKA_BOOTSTRAP_SERVERS``)
is used as given and gets no program.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Literal

import psutil
from supervisor.xmlrpc import SupervisorTransport

from cp_fleet.catalog import GATEWAY_LOGS_NAME, GATEWAY_NAME, INFRASTRUCTURE_NAMES, Catalog, ServiceEntry
from cp_fleet.embedded import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE,
    KAFKA_BOOTSTRAP_SERVERS_ENV,
    LOCALHOST,
    REDIS_URL_ENV,
    KafkaServer,
    NginxServer,
    PostgresServer,
    RedisServer,
    kafka_binary,
    nginx_binary,
    postgres_bin_dir,
    redis_server_binary,
)
from cp_fleet.layout import FleetLayout
from cp_fleet.nginx_config import render_gateway_config
from cp_fleet.processes import (
    STATE_DIR_ENV,
    ServerCommand,
    processes_of_state_dir,
    tail,
)
from cp_fleet.readiness import (
    NotReady,
    ReadinessCheck,
    http_status,
    kafka_api_versions,
    postgres_select_one,
    redis_ping,
)
from cp_fleet.supervisor_config import render_supervisord_config
from cp_fleet.system_user import infra_user, make_traversable

ProgramKind = Literal["infrastructure", "service", "gateway"]
_FAILED_STATES = {"FATAL", "EXITED", "UNKNOWN"}


class FleetError(RuntimeError):
    """Something in the fleet failed; the message names the program and shows its log tail."""


@dataclass(frozen=True)
class Program:
    name: str
    kind: ProgramKind
    command: ServerCommand
    log_path: Path
    ready_timeout_s: float = 60.0


@dataclass(frozen=True)
class ProgramStatus:
    name: str
    kind: ProgramKind
    state: str  # supervisord state name, or "NOT RUNNING" when supervisord is down
    pid: int | None
    port: int | None
    ready: bool | None  # None: not checked (program not running)
    detail: str = ""


class Fleet:
    """One fleet instance: a catalog (ports already shifted) plus a state directory."""

    def __init__(self, catalog: Catalog, state_dir: Path, *, environ: Mapping[str, str] | None = None):
        self.catalog = catalog
        self.layout = FleetLayout(Path(state_dir).resolve())
        self.environ = dict(os.environ if environ is None else environ)
        self._user = infra_user()
        self.programs = self._plan()

    # --- what runs where ------------------------------------------------------------------------

    @property
    def gateway_url(self) -> str:
        return f"http://{LOCALHOST}:{self.catalog.gateway.port}"

    def _external(self, variable: str) -> str | None:
        return self.environ.get(variable, "").strip() or None

    def _postgres(self) -> PostgresServer:
        return PostgresServer(
            self.layout.postgres_data, self.catalog.infrastructure.postgres.port, user=self._user
        )

    def _redis(self) -> RedisServer:
        return RedisServer(self.layout.redis_dir, self.catalog.infrastructure.redis.port)

    def _kafka(self) -> KafkaServer:
        return KafkaServer(self.layout.kafka_dir, self.catalog.infrastructure.kafka.port)

    def _gateway(self) -> NginxServer:
        return NginxServer(
            self.layout.gateway_dir,
            self.layout.gateway_conf,
            self.catalog.gateway.port,
            user=self._user,
            log_paths=(self.layout.gateway_access_log,),
        )

    def _gateway_logs(self) -> ServerCommand:
        """The program keeping the gateway's access log bounded (see :mod:`cp_fleet.log_rotation`)."""
        logs = self.catalog.logs
        argv = (
            sys.executable,
            "-m",
            "cp_fleet.log_rotation",
            "--max-bytes",
            str(logs.max_bytes),
            "--backups",
            str(logs.backups),
            "--interval",
            str(logs.rotate_check_s),
            "--pid-file",
            str(self.layout.gateway_dir / "nginx.pid"),
            str(self.layout.gateway_access_log),
        )
        watching = ReadinessCheck("supervisord reports it running", lambda: None)
        return ServerCommand(
            name=GATEWAY_LOGS_NAME,
            argv=argv,
            readiness=watching,
            cwd=self.layout.state_dir,
            stop_signal=signal.SIGTERM,
            stop_timeout_s=10,
        )

    def infra_env(self) -> dict[str, str]:
        """``DATABASE_URL``, ``REDIS_URL``, ``KAFKA_BOOTSTRAP_SERVERS`` as the services get them."""
        return {
            DATABASE_URL_ENV: self._external(DATABASE_URL_ENV) or self._postgres().url(DEFAULT_DATABASE),
            REDIS_URL_ENV: self._external(REDIS_URL_ENV) or self._redis().url(),
            KAFKA_BOOTSTRAP_SERVERS_ENV: self._external(KAFKA_BOOTSTRAP_SERVERS_ENV)
            or self._kafka().bootstrap_servers,
        }

    def service_env(self, service: ServiceEntry) -> dict[str, str]:
        peers: dict[str, str] = {"GATEWAY_URL": self.gateway_url}
        for other in self.catalog.services:
            peers[f"{other.env_prefix}_HTTP_URL"] = f"http://{LOCALHOST}:{other.http_port}"
            if other.grpc_port is not None:
                peers[f"{other.env_prefix}_GRPC_TARGET"] = f"{LOCALHOST}:{other.grpc_port}"
        env = {
            **self.infra_env(),
            **peers,
            "SERVICE_NAME": service.name,
            "ENVIRONMENT": "local",
            "HTTP_HOST": LOCALHOST,
            "HTTP_PORT": str(service.http_port),
            "GRPC_PORT": str(service.grpc_port or 0),
            STATE_DIR_ENV: str(self.layout.state_dir),
            "PYTHONUNBUFFERED": "1",
        }
        for key, value in service.env.items():
            env[key] = Template(value).safe_substitute(env)
        return env

    def _service_command(self, service: ServiceEntry) -> ServerCommand:
        argv = list(service.command)
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        return ServerCommand(
            name=service.name,
            argv=tuple(argv),
            readiness=http_status(f"http://{LOCALHOST}:{service.http_port}{service.readiness_path}"),
            env=self.service_env(service),
            cwd=self.layout.service_dir(service.name),
            port=service.http_port,
            stop_signal=signal.SIGTERM,
            stop_timeout_s=15,
            start_timeout_s=service.ready_timeout_s,
        )

    def _plan(self) -> dict[str, Program]:
        programs: list[Program] = []
        infra: dict[str, tuple[str, Callable[[], PostgresServer | RedisServer | KafkaServer]]] = {
            "postgres": (DATABASE_URL_ENV, self._postgres),
            "redis": (REDIS_URL_ENV, self._redis),
            "kafka": (KAFKA_BOOTSTRAP_SERVERS_ENV, self._kafka),
        }
        for name in INFRASTRUCTURE_NAMES:
            variable, server = infra[name]
            if not self._external(variable):
                command = server().command()
                programs.append(Program(name, "infrastructure", command, self.layout.log_path(name)))
        for wave in self.catalog.start_order():
            for service in wave:
                programs.append(
                    Program(
                        service.name,
                        "service",
                        self._service_command(service),
                        self.layout.log_path(service.name),
                        service.ready_timeout_s,
                    )
                )
        gateway = self._gateway().command()
        programs.append(Program(GATEWAY_NAME, "gateway", gateway, self.layout.log_path(GATEWAY_NAME)))
        logs = self._gateway_logs()
        programs.append(Program(GATEWAY_LOGS_NAME, "gateway", logs, self.layout.log_path(GATEWAY_LOGS_NAME)))
        return {program.name: program for program in programs}

    # --- files ----------------------------------------------------------------------------------

    def render(self) -> list[Path]:
        """Write ``supervisord.conf`` and the gateway's ``nginx.conf``; return their paths."""
        layout = self.layout
        layout.state_dir.mkdir(parents=True, exist_ok=True)
        layout.state_dir.chmod(layout.state_dir.stat().st_mode | 0o755)
        layout.logs_dir.mkdir(exist_ok=True)
        layout.gateway_dir.mkdir(exist_ok=True)
        layout.gateway_conf.write_text(
            render_gateway_config(self.catalog, access_log=layout.gateway_access_log)
        )
        environment = {STATE_DIR_ENV: str(layout.state_dir)}
        layout.supervisord_conf.write_text(
            render_supervisord_config(
                [(program.command, program.log_path) for program in self.programs.values()],
                state_dir=layout.state_dir,
                socket_path=layout.supervisor_socket,
                pid_path=layout.supervisord_pid,
                log_path=layout.supervisord_log,
                environment=environment,
                log_max_bytes=self.catalog.logs.max_bytes,
                log_backups=self.catalog.logs.backups,
            )
        )
        return [layout.supervisord_conf, layout.gateway_conf]

    def prepare(self) -> None:
        """One-off setup before programs start: directories, ``initdb``, gateway config check."""
        self.render()
        make_traversable(self.layout.state_dir, self._user)
        if "postgres" in self.programs:
            self._postgres().prepare()
        if "redis" in self.programs:
            self._redis().prepare()
        if "kafka" in self.programs:
            self._kafka().prepare()
        for service in self.catalog.services:
            self.layout.service_dir(service.name).mkdir(parents=True, exist_ok=True)
        gateway = self._gateway()
        gateway.prepare()
        try:
            gateway.check_config()
        except ValueError as exc:
            raise FleetError(str(exc)) from None

    # --- supervisord ----------------------------------------------------------------------------

    def _rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.layout.supervisor_socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def supervisord_running(self) -> bool:
        if not self.layout.supervisor_socket.exists():
            return False
        try:
            return self._rpc().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def _start_supervisord(self) -> None:
        env = {**os.environ, STATE_DIR_ENV: str(self.layout.state_dir)}
        stale = self.layout.supervisor_socket
        if stale.exists():
            stale.unlink()
        result = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.layout.supervisord_conf)],
            env=env,
            cwd=self.layout.state_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise FleetError(f"supervisord did not start: {result.stderr or result.stdout}")
        deadline = time.monotonic() + 20
        while not self.supervisord_running():
            if time.monotonic() > deadline:
                raise FleetError(
                    f"supervisord did not answer on {self.layout.supervisor_socket}\n"
                    f"{tail(self.layout.supervisord_log)}"
                )
            time.sleep(0.1)

    def _sync_supervisord_config(self) -> None:
        """Like ``supervisorctl update``: apply a re-rendered config to a running supervisord."""
        rpc = self._rpc()
        added, changed, removed = rpc.reloadConfig()[0]
        for name in [*changed, *removed]:
            try:
                rpc.stopProcessGroup(name)
            except xmlrpc.client.Fault:
                pass
            rpc.removeProcessGroup(name)
        for name in [*changed, *added]:
            rpc.addProcessGroup(name)

    # --- up / down ------------------------------------------------------------------------------

    def up(self, *, log: Any = print) -> None:
        """Start (or complete) the fleet and wait until every program is ready."""
        self._check_external_infra()
        already = self.supervisord_running()
        self._check_ports_free(skip_running=already)
        self.prepare()
        if already:
            self._sync_supervisord_config()
        else:
            self._start_supervisord()
        infra = [p for p in self.programs.values() if p.kind == "infrastructure"]
        self._start_and_wait(infra, log=log)
        if "postgres" in self.programs:
            self._postgres().ensure_database(DEFAULT_DATABASE)
        for wave in self.catalog.start_order():
            self._start_and_wait([self.programs[s.name] for s in wave], log=log)
        self._start_and_wait([self.programs[GATEWAY_NAME], self.programs[GATEWAY_LOGS_NAME]], log=log)
        if already:
            self._rpc().signalProcess(GATEWAY_NAME, "HUP")  # pick up a re-rendered nginx.conf

    def _check_external_infra(self) -> None:
        checks = []
        if self._external(DATABASE_URL_ENV):
            checks.append((DATABASE_URL_ENV, postgres_select_one(self.environ[DATABASE_URL_ENV])))
        if self._external(REDIS_URL_ENV):
            checks.append((REDIS_URL_ENV, redis_ping(self.environ[REDIS_URL_ENV])))
        if self._external(KAFKA_BOOTSTRAP_SERVERS_ENV):
            first = self.environ[KAFKA_BOOTSTRAP_SERVERS_ENV].split(",")[0].strip()
            host, _, port = first.rpartition(":")
            checks.append((KAFKA_BOOTSTRAP_SERVERS_ENV, kafka_api_versions(host, int(port))))
        for variable, check in checks:
            try:
                check()
            except NotReady as exc:
                message = f"{variable} is set but does not answer ({check.description}): {exc}"
                raise FleetError(message) from exc

    def _check_ports_free(self, *, skip_running: bool) -> None:
        running = set()
        if skip_running:
            running = {
                name
                for name, status in self._supervisor_states().items()
                if status["statename"] in ("RUNNING", "STARTING", "BACKOFF")
            }
        busy = []
        for program in self.programs.values():
            port = program.command.port
            if program.name in running or port is None:
                continue
            if _port_in_use(port):
                busy.append(f"port {port} needed by {program.name} is in use{_who_listens(port)}")
        if busy:
            raise FleetError("; ".join(busy) + " (another fleet? try --port-offset or `down`)")

    def _supervisor_states(self) -> dict[str, dict[str, Any]]:
        return {info["name"]: info for info in self._rpc().getAllProcessInfo()}

    def _start_and_wait(self, programs: Iterable[Program], *, log: Any) -> None:
        rpc = self._rpc()
        pending: dict[str, tuple[Program, float]] = {}
        for program in programs:
            state = rpc.getProcessInfo(program.name)["statename"]
            if state not in ("RUNNING", "STARTING", "BACKOFF"):
                rpc.startProcess(program.name, False)
            pending[program.name] = (program, time.monotonic())
        delay = 0.05
        while pending:
            for name, (program, started) in list(pending.items()):
                info = rpc.getProcessInfo(name)
                if info["statename"] in _FAILED_STATES:
                    raise FleetError(
                        self._failure(
                            program, f"exited ({info['statename']}, exit status {info['exitstatus']})"
                        )
                    )
                try:
                    if info["statename"] != "RUNNING":  # supervisord's startsecs not yet passed
                        raise NotReady(f"supervisord reports {info['statename']}")
                    program.command.check_ready(info["pid"])
                except NotReady as exc:
                    if time.monotonic() - started > program.ready_timeout_s:
                        raise FleetError(
                            self._failure(
                                program,
                                f"not ready after {program.ready_timeout_s:.0f}s "
                                f"({program.command.readiness.description}): {exc}",
                            )
                        ) from None
                    continue
                log(f"  {name:<16} ready in {time.monotonic() - started:5.1f}s")
                del pending[name]
            if pending:
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    def _failure(self, program: Program, what: str) -> str:
        return (
            f"{program.kind} {program.name!r} {what}\n--- last lines of {program.log_path} ---\n"
            f"{tail(program.log_path, 40)}"
        )

    def down(self, *, timeout_s: float = 60) -> list[str]:
        """Stop every program and supervisord. Returns descriptions of stragglers that had to be
        killed (normally empty); raises :class:`FleetError` if any process survives."""
        recorded: set[int] = set()
        if self.supervisord_running():
            rpc = self._rpc()
            supervisord_pid = rpc.getPID()
            recorded |= _process_tree(supervisord_pid)
            stop_order = [GATEWAY_LOGS_NAME, GATEWAY_NAME]
            stop_order += [s.name for wave in reversed(self.catalog.start_order()) for s in wave]
            stop_order += [name for name in reversed(INFRASTRUCTURE_NAMES) if name in self.programs]
            for name in stop_order:
                try:
                    rpc.stopProcess(name, True)
                except xmlrpc.client.Fault:  # NOT_RUNNING, BAD_NAME after a catalog change
                    pass
            rpc.stopAllProcesses(True)
            rpc.shutdown()
            _wait_gone({supervisord_pid}, timeout_s)
        stragglers = self._stragglers(recorded)
        killed = []
        for proc in stragglers:
            try:
                killed.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
                proc.terminate()
            except psutil.NoSuchProcess:
                pass
        if stragglers:
            _, alive = psutil.wait_procs(stragglers, timeout=5)
            for proc in alive:
                proc.kill()
            _, alive = psutil.wait_procs(alive, timeout=5)
            if alive:
                raise FleetError(f"processes survived SIGKILL: {[p.pid for p in alive]}")
        self.layout.supervisor_socket.unlink(missing_ok=True)
        return killed

    def _stragglers(self, recorded: set[int]) -> list[psutil.Process]:
        """Fleet processes still alive: ones recorded under supervisord, or fleet binaries whose
        working directory or environment points at this state dir (never, say, a shell in it)."""
        ours = {str(p) for p in (postgres_bin_dir() / "postgres", redis_server_binary(), nginx_binary())}
        ours.add(str(kafka_binary()))
        found = []
        for proc in processes_of_state_dir(self.layout.state_dir):
            try:
                exe = proc.exe()
                cmdline = proc.cmdline()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            is_supervisord = any("supervisord" in part for part in cmdline[:3])
            if proc.pid in recorded or exe in ours or is_supervisord:
                found.append(proc)
        return found

    # --- one program ----------------------------------------------------------------------------

    def _require(self, name: str) -> Program:
        if name not in self.programs:
            raise FleetError(f"no program {name!r}; known: {', '.join(self.programs)}")
        if not self.supervisord_running():
            raise FleetError("the fleet is not running (supervisord is down); run `up` first")
        return self.programs[name]

    def stop(self, name: str) -> None:
        self._require(name)
        try:
            self._rpc().stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise FleetError(f"could not stop {name}: {fault.faultString}") from None

    def start(self, name: str, *, log: Any = print) -> None:
        program = self._require(name)
        self._start_and_wait([program], log=log)

    def restart(self, name: str, *, log: Any = print) -> None:
        self.stop(name)
        self.start(name, log=log)

    def status(self) -> list[ProgramStatus]:
        states = self._supervisor_states() if self.supervisord_running() else {}
        result = []
        for program in self.programs.values():
            info = states.get(program.name)
            if info is None:
                result.append(
                    ProgramStatus(program.name, program.kind, "NOT RUNNING", None, program.command.port, None)
                )
                continue
            ready: bool | None = None
            detail = ""
            if info["statename"] == "RUNNING":
                try:
                    program.command.check_ready(info["pid"])
                    ready = True
                except NotReady as exc:
                    ready, detail = False, str(exc)
            result.append(
                ProgramStatus(
                    program.name,
                    program.kind,
                    info["statename"],
                    info["pid"] or None,
                    program.command.port,
                    ready,
                    detail,
                )
            )
        return result


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCALHOST, port)) == 0


def _who_listens(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                proc = psutil.Process(conn.pid)
                return f" by pid {conn.pid} ({proc.name()})"
    except (psutil.Error, OSError):
        pass
    return ""


def _process_tree(pid: int) -> set[int]:
    try:
        root = psutil.Process(pid)
        return {pid, *(child.pid for child in root.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def _wait_gone(pids: set[int], timeout_s: float) -> None:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(procs, timeout=timeout_s)
