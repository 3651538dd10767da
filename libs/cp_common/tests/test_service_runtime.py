"""The shared service runtime wires real dependencies into one app and tears them down."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cp_common.kafka import Subscription
from cp_common.service import Runtime, ServiceSpec, build_app
from cp_common.settings import ServiceSettings
from cp_common.tests.kafka_helpers import MIGRATIONS, TOPIC, record_in_ledger
from cryptopredict.events.v1 import market_pb2


async def test_runtime_starts_every_dependency_and_reports_ready(
    database_url, redis_url, kafka_bootstrap_servers, free_port
):
    schema = f"rt_{uuid.uuid4().hex[:8]}"
    grpc_port = free_port()
    spec = ServiceSpec(
        name="sample",
        title="Sample",
        schema=schema,
        migrations_dir=MIGRATIONS,
        uses_redis=True,
        uses_kafka=True,
        produces=[TOPIC],
        consumers=lambda rt: [Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
        consumer_group=f"sample-{schema}",
        grpc_services=lambda rt, server: None,
    )
    settings = ServiceSettings(
        service_name="sample",
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=grpc_port,
    )
    app = build_app(spec, settings)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        assert runtime.pool is not None and runtime.redis is not None and runtime.producer is not None
        # migrations ran at start-up in test mode
        assert await runtime.pool.fetchval("SELECT to_regclass('ledger') IS NOT NULL")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["data"]["checks"]) == {"postgres", "redis", "kafka", "consumer"}
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    # after shutdown the pool is closed
    assert runtime.pool._closed


async def test_a_dead_consumer_makes_the_service_not_ready(database_url, kafka_bootstrap_servers):
    schema = f"rc_{uuid.uuid4().hex[:8]}"
    group = f"dead-{schema}"
    spec = ServiceSpec(
        name="dead-consumer",
        title="Dead consumer",
        schema=schema,
        migrations_dir=MIGRATIONS,
        uses_kafka=True,
        consumers=lambda rt: [Subscription(TOPIC, market_pb2.CandleClosed, record_in_ledger)],
        consumer_group=group,
    )
    settings = ServiceSettings(
        service_name="dead-consumer",
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    app = build_app(spec, settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/readyz")).status_code == 200
            (consumer_task,) = [t for t in asyncio.all_tasks() if t.get_name() == f"consumer-{group}"]
            consumer_task.cancel()
            await asyncio.wait([consumer_task])
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    check = ready.json()["data"]["checks"]["consumer"]
    assert check["ok"] is False and check["error"] == "RuntimeError"


async def test_a_task_the_service_watches_makes_it_not_ready_when_it_dies():
    async def start_feed(runtime: Runtime) -> None:
        async def feed() -> None:
            await asyncio.sleep(0.01)
            raise RuntimeError("feed lost")

        runtime.watch(asyncio.create_task(feed(), name="watched-feed"))

    app = build_app(
        ServiceSpec(name="watch", title="Watch", on_startup=start_feed),
        ServiceSettings(service_name="watch", environment="test"),
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            (task,) = app.state.runtime.tasks
            await asyncio.wait([task])
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["data"]["checks"]["background_tasks"]["ok"] is False
    assert task.done()


async def test_a_dead_background_task_makes_the_service_not_ready():
    async def crashes(runtime) -> None:
        raise RuntimeError("feed lost")

    async def one_shot(runtime) -> None:
        return None

    spec = ServiceSpec(name="bg", title="Bg", background_tasks=[one_shot, crashes])
    app = build_app(spec, ServiceSettings(service_name="bg", environment="test"))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    check = ready.json()["data"]["checks"]["background_tasks"]
    assert check["ok"] is False and check["error"] == "RuntimeError"


async def test_finished_one_shot_tasks_keep_the_service_ready():
    async def one_shot(runtime) -> None:
        return None

    app = build_app(
        ServiceSpec(name="bg2", title="Bg", background_tasks=[one_shot]),
        ServiceSettings(service_name="bg2", environment="test"),
    )
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/readyz")).status_code == 200
