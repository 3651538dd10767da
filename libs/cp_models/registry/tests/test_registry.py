"""The model registry against a real PostgreSQL: versions, promotion rules, hot reload."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import asyncpg
import pytest

from cp_common.db.pool import close_pool, create_pool
from cp_models.registry import ActiveModelWatcher, ModelRegistry, ensure_registry_schema


@pytest.fixture
async def registry(database_url):
    schema = f"reg_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(ensure_registry_schema, database_url, schema)
    pool = await create_pool(database_url, schema, register_metrics=False)
    yield ModelRegistry(pool, schema)
    await close_pool(pool)


async def register(registry: ModelRegistry, name: str, payload: dict, metrics: dict) -> int:
    version = await registry.start_training(name, hyper_parameters={"seed": 7})
    await registry.finish_training(
        name,
        version,
        json.dumps(payload).encode(),
        training_window=(date(2019, 1, 1), date(2022, 12, 31)),
        features=["mom_30d", "vol_30d"],
        metrics=metrics,
        metadata={"source": "test"},
    )
    return version


async def test_versions_are_numbered_and_carry_provenance(registry):
    v1 = await register(registry, "macro_regime_v3", {"w": 1}, {"balanced_accuracy": 0.55})
    v2 = await register(registry, "macro_regime_v3", {"w": 2}, {"balanced_accuracy": 0.60})
    assert (v1, v2) == (1, 2)
    stored = await registry.get("macro_regime_v3", 2)
    assert stored.status == "inactive"
    assert stored.training_window_start == date(2019, 1, 1)
    assert stored.features == ["mom_30d", "vol_30d"]
    assert stored.hyper_parameters == {"seed": 7}
    assert stored.metrics == {"balanced_accuracy": 0.60}
    assert stored.artifact_bytes == len(json.dumps({"w": 2}).encode())


async def test_activation_is_explicit_and_exclusive(registry):
    v1 = await register(registry, "timing_signals_v5", {"w": 1}, {})
    v2 = await register(registry, "timing_signals_v5", {"w": 2}, {})
    assert await registry.active("timing_signals_v5") is None
    await registry.activate("timing_signals_v5", v1)
    await registry.activate("timing_signals_v5", v2)
    statuses = {m.version: m.status for m in await registry.list("timing_signals_v5")}
    assert statuses == {1: "inactive", 2: "active"}
    version, blob = await registry.load_active("timing_signals_v5")
    assert version.version == 2 and json.loads(blob) == {"w": 2}


async def test_a_second_active_row_is_refused_by_the_database(registry):
    await register(registry, "m", {}, {})
    await register(registry, "m", {}, {})
    await registry.activate("m", 1)
    async with registry._pool.acquire() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute("UPDATE model_versions SET status = 'active' WHERE name = 'm' AND version = 2")


async def test_training_and_failed_versions_cannot_be_activated(registry):
    pending = await registry.start_training("asset_tier1_v4")
    with pytest.raises(ValueError, match="training"):
        await registry.activate("asset_tier1_v4", pending)
    await registry.fail_training("asset_tier1_v4", pending, "out of memory")
    with pytest.raises(ValueError, match="error"):
        await registry.activate("asset_tier1_v4", pending)
    with pytest.raises(LookupError):
        await registry.activate("asset_tier1_v4", 99)


async def test_automatic_promotion_only_when_not_worse(registry):
    name = "sector_rotation_v2"
    first = await register(registry, name, {"w": 1}, {"rank_ic": 0.05})
    assert await registry.promote_if_not_worse(name, first, "rank_ic", higher_is_better=True)
    worse = await register(registry, name, {"w": 2}, {"rank_ic": 0.01})
    assert not await registry.promote_if_not_worse(name, worse, "rank_ic", higher_is_better=True)
    assert (await registry.active(name)).version == first
    equal = await register(registry, name, {"w": 3}, {"rank_ic": 0.05})
    assert await registry.promote_if_not_worse(name, equal, "rank_ic", higher_is_better=True)
    unmeasured = await register(registry, name, {"w": 4}, {})
    assert not await registry.promote_if_not_worse(name, unmeasured, "rank_ic", higher_is_better=True)
    assert (await registry.active(name)).version == equal


async def test_watcher_picks_up_a_newly_activated_version_without_restart(registry):
    name = "macro_regime_v3"
    await registry.activate(name, await register(registry, name, {"w": 1}, {}))
    watcher = ActiveModelWatcher(registry._pool, registry.schema, name, json.loads, poll_interval=60)
    task = asyncio.create_task(watcher.run())
    try:
        for _ in range(50):
            if watcher.model is not None:
                break
            await asyncio.sleep(0.05)
        assert watcher.model == {"w": 1}
        # the poll interval is a minute: only the NOTIFY can deliver the change this fast
        await registry.activate(name, await register(registry, name, {"w": 2}, {}))
        for _ in range(50):
            if watcher.model == {"w": 2}:
                break
            await asyncio.sleep(0.05)
        assert watcher.model == {"w": 2} and watcher.version.version == 2
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_corrupted_artifact_is_refused(registry):
    name = "m2"
    await registry.activate(name, await register(registry, name, {"w": 1}, {}))
    await registry._pool.execute(
        "UPDATE model_versions SET artifact = 'garbage'::bytea WHERE name = $1", name
    )
    with pytest.raises(ValueError, match="checksum"):
        await registry.load_active(name)


async def test_metrics_that_are_not_numbers_are_stored_as_unknown(registry):
    version = await register(
        registry, "asset_tier1_v4", {"w": 1}, {"rank_ic": float("nan"), "n": [1.0, float("inf")]}
    )
    assert (await registry.get("asset_tier1_v4", version)).metrics == {"rank_ic": None, "n": [1.0, None]}
