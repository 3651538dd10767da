"""Pytest plugin (loaded via ``-p cp_testing.fixtures``): session-scoped real servers.

Each server starts at most once per test session, only when a test asks for it, under a
per-session temporary state directory (never the developer's ``.state``), and is stopped at the
end of the session. If ``DATABASE_URL`` / ``REDIS_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` are set, those
servers are used instead and nothing is started for them.

Fixtures (all session-scoped):

- ``database_url``: URL of database ``cryptopredict``.
- ``fresh_database``: ``fresh_database(prefix="test") -> url`` creates a new, uniquely named
  database on that server (dropped again at session end) so tests don't see each other's tables.
- ``redis_url``, ``kafka_bootstrap_servers``: URLs of Redis and the Kafka-protocol broker.
- ``infra_env``: the three variables above as a dict, for spawning service processes.
- ``nginx_binary``: path of the nginx executable.
- ``run_nginx``: ``run_nginx(config_text, port, health_path="/health") -> RunningNginx`` starts
  Nginx with a full ``nginx.conf`` text (its ``listen`` must use ``port``) and waits until
  ``GET health_path`` answers 200; stopped at session end (or earlier with ``.stop()``).
- ``unique_name``: ``unique_name(prefix) -> str``, e.g. for Kafka topics and consumer groups.
- ``free_port``: ``free_port() -> int``, a currently unused local TCP port.
- ``cp_state_dir``: the per-session state directory (logs of the embedded servers are in ``logs/``).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from cp_common.security.denylist import mark_empty_redis_primed
from cp_fleet.embedded import EmbeddedInfra, NginxServer, find_free_port, nginx_binary
from cp_fleet.processes import ServerProcess
from cp_fleet.system_user import infra_user

__all__ = ["RunningNginx"]


@pytest.fixture(scope="session")
def cp_state_dir() -> Iterator[Path]:
    # Not tmp_path_factory: its root is private to the current user, and PostgreSQL runs as another
    # account when tests run as root.
    path = Path(tempfile.mkdtemp(prefix="cp-test-state-")).resolve()
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _cp_embedded_infra(cp_state_dir: Path) -> Iterator[EmbeddedInfra]:
    infra = EmbeddedInfra(cp_state_dir, durable=False, die_with_parent=True)
    yield infra
    infra.stop()


@pytest.fixture(scope="session")
def database_url(_cp_embedded_infra: EmbeddedInfra) -> str:
    return _cp_embedded_infra.database_url()


@pytest.fixture(scope="session")
def fresh_database(database_url: str) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def create(prefix: str = "test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}".lower()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        return _with_database(database_url, name)

    yield create
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def redis_url(_cp_embedded_infra: EmbeddedInfra) -> str:
    url = _cp_embedded_infra.redis_url()
    # The session's Redis starts without revocations: its (empty) token denylist is complete, so
    # verifiers in tests without an auth service do not fail closed (cp_common.security.denylist).
    mark_empty_redis_primed(url)
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(_cp_embedded_infra: EmbeddedInfra) -> str:
    return _cp_embedded_infra.kafka_bootstrap_servers()


@pytest.fixture(scope="session")
def infra_env(_cp_embedded_infra: EmbeddedInfra) -> dict[str, str]:
    return _cp_embedded_infra.start().as_env()


@pytest.fixture(scope="session", name="nginx_binary")
def _nginx_binary() -> Path:
    return nginx_binary()


@dataclass
class RunningNginx:
    """An Nginx started by ``run_nginx``: ``url`` is ``http://127.0.0.1:<port>``."""

    port: int
    prefix_dir: Path
    config_path: Path
    process: ServerProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture(scope="session")
def run_nginx(cp_state_dir: Path) -> Iterator[Callable[..., RunningNginx]]:
    started: list[RunningNginx] = []

    def run(config_text: str, port: int, health_path: str = "/health") -> RunningNginx:
        prefix_dir = cp_state_dir / "nginx" / uuid.uuid4().hex[:8]
        prefix_dir.mkdir(parents=True)
        config_path = prefix_dir / "nginx.conf"
        config_path.write_text(config_text)
        server = NginxServer(prefix_dir, config_path, port, user=infra_user(), health_path=health_path)
        server.prepare()
        server.check_config()
        process = ServerProcess(
            server.command(), prefix_dir / "nginx.log", cp_state_dir, die_with_parent=True
        )
        running = RunningNginx(port, prefix_dir, config_path, process)
        process.start()
        started.append(running)
        process.wait_ready(30)
        return running

    yield run
    for running in reversed(started):
        running.stop()


@pytest.fixture(scope="session")
def unique_name() -> Callable[[str], str]:
    def make(prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    return find_free_port


def _with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))
