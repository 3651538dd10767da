"""A port-shifted local fleet with the whole cascade (auth, ingestion, Layers 1-4, the
orchestrator; optionally the admin service whose watchlists the orchestrator then reads) and its
models trained the way ``make up`` does, for whole-fleet tests and the cascade benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.fleets import FleetHandle, clean_environ, free_port_offset

SERVICES = (
    "auth",
    "ingestion",
    "layer1-macro",
    "layer2-sector",
    "layer3-asset",
    "layer4-timing",
    "orchestrator",
)
ADMIN = "admin"
LAYER_SERVICES = ("layer1-macro", "layer2-sector", "layer3-asset", "layer4-timing")
PASSWORD = "Cascade-Fleet-2024!"  # noqa: S105 - a test user's


def cascade_catalog(
    orchestrator_env: Mapping[str, str],
    *,
    api_burst: int | None = None,
    with_admin: bool = False,
    extra_services: Sequence[str] = (),
) -> Catalog:
    """The catalog's cascade services (and ``extra_services``, e.g. notification); ``api_burst``
    raises the gateway's per-IP API zone (tests send many concurrent requests from one address);
    ``with_admin`` adds the admin service (the orchestrator then takes its tier sets from
    ``WatchlistService``)."""
    wanted = {*SERVICES, *extra_services, *([ADMIN] if with_admin else [])}
    data = load_catalog(DEFAULT_CATALOG).model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in wanted]
    if {s["name"] for s in data["services"]} != wanted:
        raise RuntimeError(f"the catalog lacks one of {sorted(wanted)}")
    if api_burst is not None:
        data["gateway"]["rate_limits"]["api"] = {"rate": "1000r/s", "burst": api_burst}
    for service in data["services"]:
        # start-up (read-model bootstrap, model load) on a loaded shared machine can be slow
        service["ready_timeout_s"] = max(float(service.get("ready_timeout_s") or 0), 300.0)
        if service["name"] == "orchestrator":
            service["env"].update(orchestrator_env)
    return Catalog.model_validate(data)


@dataclass
class CascadeFleet(FleetHandle):
    token: str = ""

    def pid(self, name: str) -> int:
        status = next(s for s in self.fleet.status() if s.name == name)
        if status.pid is None:
            raise RuntimeError(f"{name} is not running")
        return status.pid

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: dict[str, object], wait_s: float = 120) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.gateway, timeout=wait_s) as client:
            return await client.post(path, json=body, headers=self.headers())

    async def get(self, path: str, wait_s: float = 30) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.gateway, timeout=wait_s) as client:
            return await client.get(path, headers=self.headers())

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()


async def login(gateway: str, email: str, password: str) -> str:
    """An access token through the gateway."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        answer = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login failed: {answer.text}")
    return str(answer.json()["data"]["access_token"])


async def _login(fleet: CascadeFleet) -> str:
    email = f"cascade-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=fleet.gateway, timeout=30) as client:
        registered = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    if registered.status_code != 201:
        raise RuntimeError(f"register failed: {registered.text}")
    return await login(fleet.gateway, email, PASSWORD)


async def _model_active(client: httpx.AsyncClient, url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
        checks = (await client.get(url)).json()["data"]["checks"]
        return bool(checks["model"]["detail"]["status"] == "active")
    return False


async def wait_models(fleet: CascadeFleet, timeout_s: float = 300) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for name in LAYER_SERVICES:
            deadline = time.monotonic() + timeout_s
            while not await _model_active(client, f"{fleet.http(name)}/readyz"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: model never became active")
                await asyncio.sleep(0.5)


def train_models(fleet: CascadeFleet) -> None:
    """``cp_models.registry ensure`` against the fleet's database, as ``make up`` runs it."""
    trained = subprocess.run(
        [sys.executable, "-m", "cp_models.registry", "ensure"],
        env={**clean_environ(), "DATABASE_URL": fleet.database_url},
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    if trained.returncode != 0:
        raise RuntimeError(f"model training failed: {trained.stderr[-3000:]}")


@contextlib.contextmanager
def cascade_fleet(catalog: Catalog, prefix: str = "cp-cascade-fleet-") -> Iterator[CascadeFleet]:
    """Up (shifted ports, temporary state dir), models trained and active, a user's token; down
    and removed at the end."""
    state_dir = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
    state_dir.chmod(0o755)
    # below the ephemeral range (32768+), where a probe of a port nobody listens on yet can
    # connect to itself
    offset = free_port_offset(catalog, start=1500, stop=13000)
    fleet = Fleet(catalog.shifted(offset), state_dir, environ=clean_environ())
    try:
        fleet.up(log=lambda line: None)
        running = CascadeFleet(fleet)
        train_models(running)
        asyncio.run(wait_models(running))
        running.token = asyncio.run(_login(running))
        yield running
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)
