"""Migrations against a real PostgreSQL: idempotent and safe from concurrent replicas."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import asyncpg

from cp_common.db.migrations import current_revision, upgrade

MIGRATIONS = Path(__file__).parent / "sample_migrations"


def unique_schema(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def _tables(url: str, schema: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_upgrade_creates_schema_tables_and_is_idempotent(database_url):
    schema = unique_schema("mig_once")
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    assert await asyncio.to_thread(current_revision, database_url, schema) == "0002"
    tables = await _tables(database_url, schema)
    assert {"outbox", "processed_events", "ledger", "balances", "alembic_version"} <= tables
    # a second run changes nothing and does not fail
    await asyncio.to_thread(upgrade, database_url, schema, MIGRATIONS)
    assert await _tables(database_url, schema) == tables
    conn = await asyncpg.connect(database_url)
    try:
        versions = await conn.fetchval(f"SELECT count(*) FROM {schema}.alembic_version")
    finally:
        await conn.close()
    assert versions == 1


def _replica_upgrade(barrier, database_url: str, schema: str) -> str | None:
    barrier.wait(timeout=60)  # every replica starts migrating at the same instant
    upgrade(database_url, schema, MIGRATIONS)
    return current_revision(database_url, schema)


def test_concurrent_upgrades_from_several_replicas(database_url):
    # Six "replicas" (separate processes, as in production) migrate the same fresh schema at
    # the same moment: without the advisory lock they race on CREATE SCHEMA / CREATE TABLE and
    # fail with duplicate errors.
    schema = unique_schema("mig_race")
    spawn = multiprocessing.get_context("spawn")
    replicas = 6
    with spawn.Manager() as manager, ProcessPoolExecutor(max_workers=replicas, mp_context=spawn) as pool:
        barrier = manager.Barrier(replicas)
        futures = [pool.submit(_replica_upgrade, barrier, database_url, schema) for _ in range(replicas)]
        revisions = [future.result(timeout=120) for future in futures]
    assert revisions == ["0002"] * replicas


def test_upgrade_to_an_intermediate_revision_then_head(database_url):
    schema = unique_schema("mig_steps")
    upgrade(database_url, schema, MIGRATIONS, revision="0001")
    assert current_revision(database_url, schema) == "0001"
    upgrade(database_url, schema, MIGRATIONS)
    assert current_revision(database_url, schema) == "0002"


def test_rejects_unsafe_schema_names(database_url):
    import pytest

    with pytest.raises(ValueError, match="invalid schema name"):
        upgrade(database_url, 'x"; DROP TABLE y; --', MIGRATIONS)
