"""Layers 1-4 in a real local fleet: the catalog's auth, ingestion and layer entries under
supervisord (shifted ports, temporary state dir) on the simulated market, the models trained
and registered the way ``make up`` does, used over gRPC and through the gateway.

One fleet for the module: a mini cascade over gRPC, the REST reads through the gateway with a
real token, deactivating and activating a model without restart, a retried run id answered
by two replicas (one stored row, one event on Kafka), the per-user limit, and Layer 4's
``GenerateSignals`` on the cascade's context with its REST routes (signals, portfolio,
executions, performance, paper execution and its errors).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import grpc.aio
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cp_fleet.catalog import Catalog, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_models.registry.store import ModelRegistry
from cp_testing.fleets import FleetHandle, clean_environ, free_port_offset, port_free
from cp_testing.layer_cascade import cascade_over_grpc, signals_on_a_rebalance_day
from cryptopredict.analysis.v1 import (
    macro_pb2,
    macro_pb2_grpc,
)
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.events.v1 import analysis_pb2 as events

#: The module's first test also starts the fleet and trains the four layers (``ensure``), which
#: takes minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SERVICES = ("auth", "ingestion", "layer1-macro", "layer2-sector", "layer3-asset", "layer4-timing")
PASSWORD = "Layers-Fleet-2024!"


def _catalog() -> Catalog:
    data = load_catalog(DEFAULT_CATALOG).model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["name"] in SERVICES]
    for service in data["services"]:  # seven programs start at once; a shared CI machine is slow
        service["ready_timeout_s"] = max(service.get("ready_timeout_s", 90), 240)
    assert {s["name"] for s in data["services"]} == set(SERVICES)
    return Catalog.model_validate(data)


@dataclass
class LayersFleet(FleetHandle):
    def registry_cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cp_models.registry", *args],
            env={**clean_environ(), "DATABASE_URL": self.database_url},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def layers_fleet() -> Iterator[LayersFleet]:
    base = _catalog()
    offset = free_port_offset(base, start=1500)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-layers-fleet-")).resolve()
    state_dir.chmod(0o755)
    fleet = Fleet(base.shifted(offset), state_dir, environ=clean_environ())
    try:
        started = time.monotonic()
        fleet.up(log=lambda line: None)
        running = LayersFleet(fleet)
        trained = running.registry_cli("ensure")  # what `make up` runs after the fleet is up
        assert trained.returncode == 0, trained.stderr[-3000:]
        print(f"layers fleet up and models trained in {time.monotonic() - started:.1f}s")
        yield running
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


async def _wait_model(fleet: LayersFleet, name: str, status: str, version: int | None = None) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(300):
            checks = (await client.get(f"{fleet.http(name)}/readyz")).json()["data"]["checks"]
            detail = checks["model"]["detail"]
            if detail["status"] == status and (version is None or detail["version"] == version):
                return detail
            await asyncio.sleep(0.2)
    raise AssertionError(f"{name}: model never became {status}: {detail}")


async def _token(fleet: LayersFleet) -> str:
    email = f"layers-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=fleet.gateway, timeout=30) as client:
        registered = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return str(login.json()["data"]["access_token"])


async def test_a_cascade_over_grpc_on_the_simulated_market(layers_fleet: LayersFleet) -> None:
    for name in ("layer1-macro", "layer2-sector", "layer3-asset"):
        await _wait_model(layers_fleet, name, "active")
    macro, sector, asset = await cascade_over_grpc(layers_fleet, f"fleet-{uuid.uuid4().hex[:8]}")
    assert macro.analysis.regime != common.REGIME_UNSPECIFIED
    assert sector.context.regime == macro.analysis.regime
    assert len(sector.context.sector_allocation) >= 3
    context = asset.context
    assert context.active_assets and set(context.model_versions) == {"macro", "sector", "asset"}
    assert context.model_versions["asset"].startswith("asset_tier1_v4:")
    # the read model came from ingestion's gRPC: the decision day is ingestion's latest daily bar
    async with httpx.AsyncClient(base_url=layers_fleet.gateway) as client:
        candles = (
            await client.get("/api/v1/market/candles/BTC", params={"interval": "1d", "limit": 1})
        ).json()
    latest = candles["data"]["candles"][-1]["open_time"]
    as_of = macro.run.as_of.ToDatetime().date().isoformat()
    assert latest.startswith(as_of) or as_of < latest[:10]


async def test_rest_reads_through_the_gateway_need_a_token(layers_fleet: LayersFleet) -> None:
    await cascade_over_grpc(layers_fleet, f"rest-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {await _token(layers_fleet)}"}
    async with httpx.AsyncClient(base_url=layers_fleet.gateway, headers=headers, timeout=30) as client:
        regime = (await client.get("/api/v1/layer1/market-regime")).json()["data"]
        assert {"regime", "confidence", "risk_level", "last_updated"} <= set(regime)
        sentiment = (await client.get("/api/v1/layer1/sentiment")).json()["data"]
        assert sentiment["sources"] and "fear_greed" in sentiment["data"]
        dominance = (await client.get("/api/v1/layer1/dominance")).json()["data"]
        assert dominance["data"]["btc_dominance"] > 0
        history = await client.get("/api/v1/layer1/history", params={"days": 400})
        assert history.status_code == 400 and history.json()["error"] == "Maximum 365 days allowed"
        sectors = (await client.get("/api/v1/layer2/sectors")).json()["data"]
        assert sectors["total_sectors"] >= 5
        leader = sectors["data"][0]["sector"]
        assert (await client.get(f"/api/v1/layer2/sectors/{leader}")).json()["data"]["data"]["rank"] == 1
        assert (await client.get("/api/v1/layer2/sectors/none")).status_code == 404
        rotation = (await client.get("/api/v1/layer2/rotation")).json()["data"]
        assert rotation["data"]["leading_sectors"] and "analysis_confidence" in rotation
        assets = (await client.get("/api/v1/layer3/assets")).json()["data"]
        assert assets["total_assets"] >= 10 and assets["data"][0]["reason"]
        btc = (await client.get("/api/v1/layer3/assets/BTC")).json()["data"]["data"]
        assert btc["symbol"] == "BTC" and btc["features"]
    async with httpx.AsyncClient(base_url=layers_fleet.gateway) as anonymous:
        refused = await anonymous.get("/api/v1/layer2/rotation")
        assert refused.status_code == 401 and refused.json()["success"] is False


async def _health(fleet: LayersFleet, name: str, service: str) -> int:
    async with grpc.aio.insecure_channel(fleet.grpc_target(name)) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service)
        )
        return int(reply.status)


async def test_deactivation_refuses_analysis_and_a_new_version_is_picked_up_without_restart(
    layers_fleet: LayersFleet,
) -> None:
    service = "cryptopredict.analysis.v1.SectorAnalysisService"
    pids_before = layers_fleet.fleet.status()
    off = layers_fleet.registry_cli("deactivate", "sector_rotation_v2", timeout=120)
    assert off.returncode == 0, off.stderr
    await _wait_model(layers_fleet, "layer2-sector", "inactive")
    assert await _health(layers_fleet, "layer2-sector", service) == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cascade_over_grpc(layers_fleet, f"off-{uuid.uuid4().hex[:8]}")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == "Layer 2 model not available"

    pool = await asyncpg.create_pool(
        layers_fleet.database_url, min_size=1, max_size=2, server_settings={"search_path": "layer2_sector"}
    )
    try:
        registry = ModelRegistry(pool, "layer2_sector")
        current = max(await registry.list("sector_rotation_v2"), key=lambda v: v.version)
        artifact = await pool.fetchval(
            "SELECT artifact FROM model_versions WHERE name = $1 AND version = $2",
            current.name,
            current.version,
        )
        new_version = await registry.start_training("sector_rotation_v2")
        await registry.finish_training(
            "sector_rotation_v2", new_version, bytes(artifact), metrics=current.metrics
        )
    finally:
        await pool.close()
    on = layers_fleet.registry_cli("activate", "sector_rotation_v2", str(new_version), timeout=120)
    assert on.returncode == 0, on.stderr
    await _wait_model(layers_fleet, "layer2-sector", "active", new_version)
    assert await _health(layers_fleet, "layer2-sector", service) == health_pb2.HealthCheckResponse.SERVING
    _, sector, _ = await cascade_over_grpc(layers_fleet, f"on-{uuid.uuid4().hex[:8]}")
    assert sector.run.model_version == f"sector_rotation_v2:{new_version}"
    assert [(p.name, p.pid) for p in layers_fleet.fleet.status()] == [(p.name, p.pid) for p in pids_before]


def _second_replica(
    fleet: LayersFleet, name: str, state_dir: Path
) -> tuple[subprocess.Popen[bytes], str, str]:
    entry = fleet.service(name)
    env = fleet.fleet.service_env(entry)
    http_port, grpc_port = (
        next(p for p in range(p0 + 900, p0 + 1900) if port_free(p))
        for p0 in (entry.http_port, entry.grpc_port or 0)
    )
    env.update({"HTTP_PORT": str(http_port), "GRPC_PORT": str(grpc_port)})
    log = (state_dir / f"{name}-replica.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *entry.command[1:]], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return process, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(600):
            assert process.poll() is None, "the replica exited"
            try:
                body = (await client.get(f"{url}/readyz")).json()
                if body["success"] and body["data"]["checks"]["model"]["detail"]["status"] == "active":
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the second replica never became ready")


async def _events_on_kafka(bootstrap: str, run_id: str, seconds: float = 20.0) -> int:
    consumer = AIOKafkaConsumer(
        "analysis.macro.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        found, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += sum(
                    events.MacroRegimeAnalyzed.FromString(r.value).cascade_run_id == run_id for r in records
                )
        return found
    finally:
        await consumer.stop()


async def test_two_replicas_answering_one_retried_run_store_and_publish_once(
    layers_fleet: LayersFleet, tmp_path: Path
) -> None:
    process, http_url, grpc_target = _second_replica(layers_fleet, "layer1-macro", tmp_path)
    try:
        await _ready(http_url, process)
        run_id = f"twice-{uuid.uuid4().hex[:8]}"
        request = macro_pb2.AnalyzeMacroRequest(cascade_run_id=run_id)
        async with (
            grpc.aio.insecure_channel(layers_fleet.grpc_target("layer1-macro")) as first,
            grpc.aio.insecure_channel(grpc_target) as second,
        ):
            stubs = [macro_pb2_grpc.MacroAnalysisServiceStub(c) for c in (first, second)]
            replies = await asyncio.gather(
                *(stubs[i % 2].AnalyzeMacro(request, timeout=30) for i in range(6))
            )
        assert len({r.run.analysis_id for r in replies}) == 1
        assert sum(not r.run.replayed for r in replies) == 1
        conn = await asyncpg.connect(layers_fleet.database_url)
        try:
            rows = await conn.fetchval(
                "SELECT count(*) FROM layer1_macro.layer_results WHERE cascade_run_id = $1", run_id
            )
        finally:
            await conn.close()
        assert rows == 1
        bootstrap = layers_fleet.fleet.infra_env()["KAFKA_BOOTSTRAP_SERVERS"]
        assert await _events_on_kafka(bootstrap, run_id) == 1
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_the_per_user_limit_gives_one_429_and_leaves_other_users_alone(
    layers_fleet: LayersFleet,
) -> None:
    user, other = await _token(layers_fleet), await _token(layers_fleet)
    if time.time() % 60 > 45:  # keep the 21 calls inside one fixed 60 s window
        await asyncio.sleep(61 - time.time() % 60)
    async with httpx.AsyncClient(base_url=layers_fleet.gateway, timeout=30) as client:
        statuses = []
        for _ in range(21):  # the seed's 20 / 60 s + 1
            response = await client.get("/api/v1/layer1/history", headers={"Authorization": f"Bearer {user}"})
            statuses.append(response.status_code)
            await asyncio.sleep(0.03)  # stay under the gateway's per-IP rate
        assert statuses == [200] * 20 + [429]
        assert response.json()["error"] == "Rate limit exceeded" and int(response.headers["Retry-After"]) >= 1
        fine = await client.get("/api/v1/layer1/history", headers={"Authorization": f"Bearer {other}"})
        assert fine.status_code == 200


async def test_layer4_signals_over_grpc_and_its_rest_routes_through_the_gateway(
    layers_fleet: LayersFleet,
) -> None:
    for name in ("layer1-macro", "layer2-sector", "layer3-asset", "layer4-timing"):
        await _wait_model(layers_fleet, name, "active")
    macro, _, _ = await cascade_over_grpc(layers_fleet, f"latest-{uuid.uuid4().hex[:8]}")
    latest = macro.run.as_of.ToDatetime(tzinfo=UTC)
    asset, timing = await signals_on_a_rebalance_day(layers_fleet, latest)
    assert timing.run.model_version.startswith("timing_signals_v5:") and not timing.run.replayed
    assert {a.symbol for a in timing.assessments} == {a.symbol for a in asset.context.active_assets}
    signal = timing.signals[0]
    assert signal.target_price > signal.entry_price > signal.stop_loss > 0 and 0 < signal.position_size <= 1

    headers = {"Authorization": f"Bearer {await _token(layers_fleet)}"}
    async with httpx.AsyncClient(base_url=layers_fleet.gateway, headers=headers, timeout=30) as client:
        detail = (await client.get(f"/api/v1/layer4/signals/{signal.signal_id}")).json()["data"]
        assert detail["symbol"] == signal.symbol and detail["reasoning"] and detail["risk_assessment"]
        listed = await client.get("/api/v1/layer4/signals", params={"status": detail["status"], "limit": 100})
        assert listed.status_code == 200, listed.text
        assert signal.signal_id in {s["id"] for s in listed.json()["data"]["signals"]}
        missing = await client.get(f"/api/v1/layer4/signals/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert missing.json()["success"] is False and missing.json()["error"] == "Signal not found"
        unknown = await client.post(f"/api/v1/layer4/signals/{uuid.uuid4()}/execute", json={"size": 0.01})
        assert unknown.status_code == 404 and unknown.json()["error"] == "Signal not found"
        invalid = await client.post(f"/api/v1/layer4/signals/{signal.signal_id}/execute", json={"size": 2})
        assert invalid.status_code == 422 and invalid.json()["success"] is False
        await _execute_within_and_beyond_the_limits(client, signal, detail["status"])
        portfolio = (await client.get("/api/v1/layer4/portfolio")).json()["data"]
        assert {"equity", "realised_pnl", "unrealised_pnl", "gross_exposure", "open_positions"} <= set(
            portfolio
        )
        executions = (await client.get("/api/v1/layer4/executions")).json()["data"]
        assert executions["count"] == len(executions["executions"])
        performance = await client.get("/api/v1/layer4/performance", params={"days": 30})
        assert performance.status_code == 200 and performance.json()["data"]["period_days"] == 30
    async with httpx.AsyncClient(base_url=layers_fleet.gateway) as anonymous:
        refused = await anonymous.get("/api/v1/layer4/signals")
        assert refused.status_code == 401 and refused.json()["success"] is False


async def _execute_within_and_beyond_the_limits(client: httpx.AsyncClient, signal: Any, status: str) -> None:
    """An active, unexpired signal: over the default 10 % size -> 400, 1 % -> executed, again ->
    409; one already closed or expired (an older rebalance close) -> 400 saying so."""
    path = f"/api/v1/layer4/signals/{signal.signal_id}/execute"
    if status != "active" or signal.expires_at.ToDatetime(tzinfo=UTC) <= datetime.now(UTC):
        refused = await client.post(path, json={"size": 0.01})
        assert refused.status_code == 400 and "not available" in refused.json()["error"]
        return
    too_big = await client.post(path, json={"size": 0.5})
    assert too_big.status_code == 400 and "exceeds your maximum position size" in too_big.json()["error"]
    done = await client.post(path, json={"size": 0.01})
    assert done.status_code == 200, done.text
    assert done.json()["data"]["signal_id"] == signal.signal_id
    again = await client.post(path, json={"size": 0.01})
    assert again.status_code == 409
    executions = (await client.get("/api/v1/layer4/executions")).json()["data"]["executions"]
    assert signal.signal_id in {e["signal_id"] for e in executions}
