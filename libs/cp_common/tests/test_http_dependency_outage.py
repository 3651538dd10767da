"""A PostgreSQL outage during and between requests is a 503 in the envelope, and the service
answers again once the database is back. Uses its own PostgreSQL (restarting the session's would
disturb other tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from cp_common.db.pool import close_pool, create_pool
from cp_common.http import create_app, ok
from cp_common.http.error_handlers import MSG_DEPENDENCY_OUTAGE
from cp_common.settings import ServiceSettings
from cp_fleet.embedded import PostgresServer, find_free_port
from cp_fleet.processes import ServerProcess
from cp_fleet.system_user import infra_user


@pytest.fixture(scope="module")
def postgres(cp_state_dir: Path) -> Iterator[tuple[PostgresServer, ServerProcess]]:
    directory = cp_state_dir / "outage-postgres"
    server = PostgresServer(directory / "data", find_free_port(), user=infra_user(), durable=False)
    server.prepare()
    process = ServerProcess(server.command(), directory / "postgres.log", cp_state_dir, die_with_parent=True)
    process.start()
    process.wait_ready(60)
    yield server, process
    process.stop()


def _app(database_url: str) -> FastAPI:
    router = APIRouter()

    @router.get("/one")
    async def one(request: Request) -> Any:
        return ok({"one": await request.app.state.pool.fetchval("select 1")})

    @router.get("/slow")
    async def slow(request: Request) -> Any:
        return ok({"slept": await request.app.state.pool.fetchval("select pg_sleep(30) is null")})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            database_url, "public", min_size=1, max_size=2, register_metrics=False
        )
        yield
        await close_pool(app.state.pool)

    return create_app(
        ServiceSettings(service_name="test-outage"), title="t", routers=[router], lifespan=lifespan
    )


def _assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["success"] is False and body["error_code"] == 503 and body["error"] == MSG_DEPENDENCY_OUTAGE
    assert response.headers["retry-after"] == "1"


async def _sleeping(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        return bool(
            await conn.fetchval(
                "select count(*) from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def test_a_postgres_restart_is_a_503_then_the_service_recovers(
    postgres: tuple[PostgresServer, ServerProcess],
) -> None:
    server, process = postgres
    url = server.ensure_database("outage")
    app = _app(url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        assert (await client.get("/one")).status_code == 200
        in_flight = asyncio.create_task(client.get("/slow", timeout=60))
        for _ in range(100):
            if await _sleeping(url):
                break
            await asyncio.sleep(0.1)
        await asyncio.to_thread(process.stop)  # fast shutdown terminates the running query
        _assert_503(await in_flight)
        _assert_503(await client.get("/one"))  # down: the pool cannot connect
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_ready, 60)
        recovered = await client.get("/one")
        if recovered.status_code == 503:  # a pooled connection closed by the restart, noticed on use
            recovered = await client.get("/one")
        assert recovered.status_code == 200 and recovered.json()["data"] == {"one": 1}
