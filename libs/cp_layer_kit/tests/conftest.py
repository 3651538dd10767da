"""A fresh layer schema per test (kit tables, outbox, model registry) on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cp_common.db import platform_tables
from cp_common.db.pool import close_pool, create_pool
from cp_layer_kit import tables
from cp_models.registry.store import ensure_registry_schema


@pytest.fixture
async def layer_schema(database_url: str) -> AsyncIterator[str]:
    schema = f"kit_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(ensure_registry_schema, database_url, schema)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"SET search_path TO {schema}")
        for ddl in (platform_tables.OUTBOX_DDL, tables.RESULTS_DDL, tables.READ_MODEL_DDL):
            await conn.execute(ddl)
    finally:
        await conn.close()
    yield schema


@pytest.fixture
async def layer_pool(database_url: str, layer_schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, layer_schema, register_metrics=False)
    yield pool
    await close_pool(pool)
