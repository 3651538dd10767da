"""The whole local fleet under supervisord, in a temporary state dir with shifted ports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import redis
import yaml

from cp_fleet.processes import processes_of_state_dir

pytestmark = pytest.mark.slow

TINY_SERVICE = Path(__file__).with_name("tiny_service.py")
BASE_PORTS = (15432, 16379, 19092, 8080, 8101, 9101)
FLEET_BINARIES = ("postgres", "redis-server", "tansu", "nginx", "supervisord")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_offset(exclude: set[int] = frozenset()) -> int:
    for offset in range(1000, 13000, 137):
        if offset not in exclude and all(_port_free(port + offset) for port in BASE_PORTS):
            return offset
    raise RuntimeError("no free port offset")


def _state_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    path.chmod(0o755)
    return path


@dataclass
class FleetRun:
    state_dir: Path
    offset: int
    catalog: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{8080 + self.offset}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{16379 + self.offset}/0"

    def cli(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "CP_STATE_DIR")
        }
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "cp_fleet",
                "--state-dir",
                str(self.state_dir),
                "--port-offset",
                str(self.offset),
                "--catalog",
                str(self.catalog),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )

    def pids(self) -> dict[str, int]:
        out = self.cli("status").stdout
        return {m[0]: int(m[1]) for m in re.findall(r"^(\S+)\s+\S+\s+RUNNING\s+(\d+)", out, re.M)}

    def leftovers(self) -> list[str]:
        return [f"{p.pid} {p.name()}" for p in processes_of_state_dir(self.state_dir)]


def _fleet_binaries_mentioning(state_dir: Path) -> list[str]:
    """Any postgres/redis-server/tansu/nginx/supervisord whose command line names ``state_dir``."""
    found = []
    for proc in psutil.process_iter():
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if str(state_dir) in cmdline and any(binary in cmdline for binary in FLEET_BINARIES):
            found.append(f"{proc.pid} {cmdline[:100]}")
    return found


def _write_catalog(directory: Path, services: list[dict]) -> Path:
    path = directory / "services.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "services": services}))
    return path


@pytest.fixture(scope="module")
def fleet() -> Iterator[FleetRun]:
    state_dir = _state_dir("cp-fleet-test-")
    catalog = _write_catalog(
        Path(tempfile.mkdtemp(prefix="cp-fleet-catalog-")),
        [
            {
                "name": "tiny",
                "command": ["python", str(TINY_SERVICE)],
                "http_port": 8101,
                "grpc_port": 9101,
                "public_prefixes": ["/api/v1/tiny/"],
                "depends_on": ["postgres", "redis"],
                "env": {"GREETING": "hello from ${SERVICE_NAME}"},
            }
        ],
    )
    run = FleetRun(state_dir, _free_offset(), catalog)
    started = time.monotonic()
    up = run.cli("up")
    print(f"fleet up in {time.monotonic() - started:.1f}s")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield run
    finally:
        down = run.cli("down")
        leftovers = run.leftovers()
        shutil.rmtree(catalog.parent, ignore_errors=True)
        if not leftovers:
            shutil.rmtree(state_dir, ignore_errors=True)
        assert down.returncode == 0, down.stderr
        assert leftovers == []


def test_gateway_health(fleet: FleetRun) -> None:
    response = httpx.get(f"{fleet.gateway}/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "healthy"}


def test_unknown_path_is_the_json_404_envelope(fleet: FleetRun) -> None:
    response = httpx.get(f"{fleet.gateway}/api/v1/nope")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["error_code"] == 404 and body["error"] == "Not found"
    assert body["timestamp"]


def test_service_is_reached_through_the_gateway_with_its_environment(fleet: FleetRun) -> None:
    response = httpx.get(f"{fleet.gateway}/api/v1/tiny/hello", headers={"X-Request-ID": "fleet-test-0001"})
    assert response.status_code == 200
    assert response.json() == {
        "service": "tiny",
        "greeting": "hello from tiny",
        "database": "cryptopredict",
        "request_id": "fleet-test-0001",
        "grpc_port": str(9101 + fleet.offset),
    }


def test_status_shows_every_program_ready(fleet: FleetRun) -> None:
    result = fleet.cli("status")
    assert result.returncode == 0, result.stdout
    assert set(fleet.pids()) == {"postgres", "redis", "kafka", "tiny", "gateway", "gateway-logs"}


def test_logs_shows_a_program_log(fleet: FleetRun) -> None:
    result = fleet.cli("logs", "tiny")
    assert result.returncode == 0
    assert f"tiny listening on 127.0.0.1:{8101 + fleet.offset}" in result.stdout
    assert "error: no program 'nope'" in fleet.cli("logs", "nope").stderr


def test_stop_and_start_the_gateway(fleet: FleetRun) -> None:
    assert fleet.cli("stop", "gateway").returncode == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{fleet.gateway}/health")
    assert fleet.cli("status").returncode == 3  # not everything is ready
    started = fleet.cli("start", "gateway")
    assert started.returncode == 0, started.stderr
    assert httpx.get(f"{fleet.gateway}/health").status_code == 200


def test_restart_a_service_by_name(fleet: FleetRun) -> None:
    before = fleet.pids()["tiny"]
    result = fleet.cli("restart", "tiny")
    assert result.returncode == 0, result.stderr
    after = fleet.pids()["tiny"]
    assert after != before and not psutil.pid_exists(before)
    assert httpx.get(f"{fleet.gateway}/api/v1/tiny/again").status_code == 200


def test_supervisord_revives_a_killed_server(fleet: FleetRun) -> None:
    before = fleet.pids()["redis"]
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        after = fleet.pids().get("redis")
        if after and after != before:
            try:
                if redis.Redis.from_url(fleet.redis_url, socket_timeout=1).ping():
                    break
            except redis.RedisError:
                pass
        assert time.monotonic() < deadline, "redis was not restarted by supervisord"
        time.sleep(0.3)


def test_up_twice_is_harmless(fleet: FleetRun) -> None:
    before = fleet.pids()
    again = fleet.cli("up")
    assert again.returncode == 0, again.stderr
    assert fleet.pids() == before


def test_down_leaves_no_process_behind(fleet: FleetRun) -> None:
    running = processes_of_state_dir(fleet.state_dir)
    names = {p.name() for p in running}
    assert any(name.startswith("postgres") for name in names)
    assert {"redis-server", "nginx"} <= names
    assert any(name.startswith("tansu") for name in names)
    pids = [p.pid for p in running]

    result = fleet.cli("down")
    assert result.returncode == 0, result.stderr
    assert "no process left" in result.stdout
    assert fleet.leftovers() == []
    alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert alive == []
    assert _fleet_binaries_mentioning(fleet.state_dir) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{fleet.gateway}/health")
    # the fleet comes back from the same state dir (PostgreSQL data kept)
    again = fleet.cli("up")
    assert again.returncode == 0, again.stderr
    assert httpx.get(f"{fleet.gateway}/health").status_code == 200


def test_a_failing_service_is_named_with_its_log(fleet: FleetRun) -> None:
    state_dir = _state_dir("cp-fleet-broken-")
    catalog = _write_catalog(
        state_dir,
        [
            {
                "name": "broken",
                "command": [
                    "python",
                    "-c",
                    "print('broken: MISSING_SETTING is not set'); raise SystemExit(3)",
                ],
                "http_port": 8101,
                "depends_on": ["postgres"],
            }
        ],
    )
    run = FleetRun(state_dir, _free_offset(exclude={fleet.offset}), catalog)
    try:
        up = run.cli("up")
        assert up.returncode == 1
        assert "service 'broken' exited" in up.stderr
        assert "MISSING_SETTING is not set" in up.stderr
    finally:
        down = run.cli("down")
        leftovers = run.leftovers()
        if not leftovers:
            shutil.rmtree(state_dir, ignore_errors=True)
    assert down.returncode == 0, down.stderr
    assert leftovers == []
