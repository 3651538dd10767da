"""Fixtures: a migrated ingestion schema in a fresh database per test module, and its pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from ingestion_service import MIGRATIONS_DIR, SCHEMA


@pytest.fixture(scope="session")
def migrated_database(fresh_database: Callable[..., str]) -> Callable[[], str]:
    """``migrated_database() -> url``: a new database with the ingestion schema migrated."""

    def make() -> str:
        url = fresh_database("ingestion")
        upgrade(url, SCHEMA, MIGRATIONS_DIR)
        return url

    return make


@pytest.fixture(scope="module")
def database(migrated_database: Callable[[], str]) -> str:
    return migrated_database()


@pytest.fixture(scope="module")
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(database, SCHEMA, min_size=1, max_size=4, register_metrics=False)
    yield created
    await close_pool(created)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared market data (tests that need it are skipped without it, and fail on CI)."""
    import os

    from cp_market.dataset import default_data_dir

    found = default_data_dir()
    if found is None or not Path(found).is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("market data directory not found (set CP_DATA_DIR)")
        pytest.skip("market data directory not found (set CP_DATA_DIR)")
    return Path(found)
