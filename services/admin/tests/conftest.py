"""Fixtures: real auth and ingestion services in-process (one of each per session), and the admin
service on its own fresh database per test module, all on the session's PostgreSQL, Redis and Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from admin_service.settings import AdminSettings
from auth_service.app import create_app as create_auth_app
from auth_service.settings import AuthSettings
from ingestion_service.app import create_app as create_ingestion_app
from ingestion_service.settings import IngestionSettings

from .admin_testing import Auth, Publisher, RunningAdmin, running_admin

FAST_ARGON2 = {"auth_argon2_time_cost": 1, "auth_argon2_memory_kib": 8192, "auth_argon2_parallelism": 1}


@pytest.fixture(scope="session")
async def auth_service(
    fresh_database, redis_url, kafka_bootstrap_servers, tmp_path_factory
) -> AsyncIterator[Auth]:
    settings = AuthSettings(
        environment="test",
        database_url=fresh_database("admin_auth"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        CP_STATE_DIR=tmp_path_factory.mktemp("admin-auth-state"),
        auth_register_limit=100_000,
        auth_ip_failure_limit=100_000,
        auth_bootstrap_admin_email=None,
        **FAST_ARGON2,
    )
    app = create_auth_app(settings)
    async with app.router.lifespan_context(app):
        yield Auth(app)


@pytest.fixture(scope="session")
async def market_data_target(
    fresh_database, redis_url, kafka_bootstrap_servers, free_port, tmp_path_factory
) -> AsyncIterator[str]:
    """``host:port`` of a real ingestion service's MarketDataService, fed by the simulator."""
    port = free_port()
    settings = IngestionSettings(
        environment="test",
        database_url=fresh_database("admin_ingestion"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=port,
        CP_STATE_DIR=tmp_path_factory.mktemp("admin-ingestion-state"),
        ingestion_history_days=5,
        ingestion_intraday_days=0,
        ingestion_event_window_hours=0,
        ingestion_synthetic_speed=1.0,
    )
    app = create_ingestion_app(settings)
    async with app.router.lifespan_context(app):
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def admin_settings(
    fresh_database, redis_url, kafka_bootstrap_servers, free_port, tmp_path_factory, market_data_target
) -> Callable[..., AdminSettings]:
    def make(**overrides: Any) -> AdminSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": fresh_database("admin"),
            "redis_url": redis_url,
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "grpc_port": free_port(),
            "CP_STATE_DIR": tmp_path_factory.mktemp("admin-state"),
            "admin_market_data_target": market_data_target,
            "admin_health_cache_s": 0,
            **overrides,
        }
        return AdminSettings(**values)

    return make


@pytest.fixture(scope="module")
async def admin(admin_settings, auth_service: Auth) -> AsyncIterator[RunningAdmin]:
    async with running_admin(admin_settings(), auth_service.app) as running:
        yield running


@pytest.fixture(scope="session")
async def publisher(kafka_bootstrap_servers: str) -> AsyncIterator[Publisher]:
    created = Publisher(kafka_bootstrap_servers)
    await created.producer.start()
    yield created
    await created.producer.stop()
