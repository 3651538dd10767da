"""Fixtures: a migrated ``layer4_timing`` schema in a fresh database per module, its pool, the
shared market data."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from auth_service.app import create_app as create_auth_app
from auth_service.settings import AuthSettings
from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_fleet.embedded import find_free_port
from cp_market.dataset import default_data_dir
from layer4_timing_service import MIGRATIONS_DIR, SCHEMA

from .timing_testing import FAST_ARGON2, AuthServer, serving


@pytest.fixture(scope="session")
def migrated_database(fresh_database: Callable[..., str]) -> Callable[[], str]:
    def make() -> str:
        url = fresh_database("layer4")
        upgrade(url, SCHEMA, MIGRATIONS_DIR)
        return url

    return make


@pytest.fixture(scope="module")
async def pool(migrated_database: Callable[[], str]) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(migrated_database(), SCHEMA, min_size=1, max_size=4, register_metrics=False)
    yield created
    await close_pool(created)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared market data (skipped without it; a failure on CI)."""
    found = default_data_dir()
    if found is None or not Path(found).is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("market data directory not found (set CP_DATA_DIR)")
        pytest.skip("market data directory not found (set CP_DATA_DIR)")
    return Path(found)


@pytest.fixture(scope="module")
async def auth_server(
    fresh_database: Callable[..., str], redis_url: str, kafka_bootstrap_servers: str, tmp_path_factory: Any
) -> AsyncIterator[AuthServer]:
    """The real auth service on a free port, one per test module that asks for it."""
    settings = AuthSettings(
        environment="test",
        database_url=fresh_database("auth"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        CP_STATE_DIR=tmp_path_factory.mktemp("auth-state"),
        auth_register_limit=100_000,
        auth_bootstrap_admin_email=None,
        **FAST_ARGON2,
    )
    async with serving(create_auth_app(settings), find_free_port()) as url:
        yield AuthServer(url)
