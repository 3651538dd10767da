"""The active model follows the registry: loaded, swapped on activation, dropped on deactivation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import asyncpg
import pytest

from cp_layer_kit import ModelHolder, ModelUnavailable
from cp_models.registry.store import ModelRegistry


async def _register(registry: ModelRegistry, payload: dict[str, int]) -> int:
    version = await registry.start_training("macro_regime_v3")
    await registry.finish_training("macro_regime_v3", version, json.dumps(payload).encode())
    return version


async def _until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_status_follows_activation_and_deactivation_without_restart(
    layer_pool: asyncpg.Pool, layer_schema: str
) -> None:
    registry = ModelRegistry(layer_pool, layer_schema)
    holder: ModelHolder[dict[str, int]] = ModelHolder(
        layer_pool,
        layer_schema,
        layer=1,
        layer_key="macro",
        model_name="macro_regime_v3",
        loader=json.loads,
        poll_interval=60.0,  # NOTIFY must do it, not the poll
    )
    await holder.start()
    assert holder.status == "inactive"
    with pytest.raises(ModelUnavailable, match=r"^Layer 1 model not available$") as refused:
        holder.require()
    assert refused.value.status_code == 503 and refused.value.grpc_code == "FAILED_PRECONDITION"

    training = await registry.start_training("macro_regime_v3")
    await holder.publish()
    assert holder.status == "training"
    await registry.fail_training("macro_regime_v3", training, "test")

    first = await _register(registry, {"w": 1})
    task = asyncio.create_task(holder.run())
    try:
        await registry.activate("macro_regime_v3", first)
        await _until(lambda: holder.status == "active")
        assert holder.require().model == {"w": 1} and holder.require().label == f"macro_regime_v3:{first}"
        assert (await holder.readiness())["status"] == "active"

        await registry.deactivate("macro_regime_v3")
        await _until(lambda: holder.status == "inactive")
        with pytest.raises(ModelUnavailable):
            holder.require()

        second = await _register(registry, {"w": 2})
        await registry.activate("macro_regime_v3", second)
        await _until(lambda: holder.status == "active")
        assert holder.require().model == {"w": 2}
        assert (await holder.readiness())["version"] == second
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_artifact_that_does_not_load_reports_error(
    layer_pool: asyncpg.Pool, layer_schema: str
) -> None:
    registry = ModelRegistry(layer_pool, layer_schema)
    version = await registry.start_training("macro_regime_v3")
    await registry.finish_training("macro_regime_v3", version, b"not json")
    await registry.activate("macro_regime_v3", version)
    holder: ModelHolder[object] = ModelHolder(
        layer_pool, layer_schema, layer=1, layer_key="macro", model_name="macro_regime_v3", loader=json.loads
    )
    await holder.start()
    assert holder.status == "error"
    assert "JSONDecodeError" in (await holder.readiness())["error"]
    with pytest.raises(ModelUnavailable):
        holder.require()
