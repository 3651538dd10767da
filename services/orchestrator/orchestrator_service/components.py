"""The orchestrator's long-lived parts, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from orchestrator_service.cascade import Cascade
from orchestrator_service.clients import LayerStubs, Universe, connect_layers
from orchestrator_service.layers import LAYERS
from orchestrator_service.resilience import GuardedLayer, layer_breaker
from orchestrator_service.settings import OrchestratorSettings


@dataclass
class Components:
    settings: OrchestratorSettings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    stubs: LayerStubs
    universe: Universe
    guards: dict[int, GuardedLayer]
    cascade: Cascade

    async def aclose(self) -> None:
        await self.stubs.aclose()
        await self.universe.aclose()


def guards_for(settings: OrchestratorSettings) -> dict[int, GuardedLayer]:
    return {
        layer.number: GuardedLayer(
            layer,
            layer_breaker(
                layer,
                fail_max=settings.orchestrator_breaker_fail_max,
                reset_timeout=settings.orchestrator_breaker_reset_s,
            ),
            deadline_s=settings.deadline_of(layer.number),
            backoff_s=settings.orchestrator_retry_backoff_s,
        )
        for layer in LAYERS
    }


def build_components(settings: OrchestratorSettings, pool: asyncpg.Pool, redis: aioredis.Redis) -> Components:
    stubs = connect_layers(settings)
    universe = Universe(settings)
    guards = guards_for(settings)
    return Components(
        settings, pool, redis, stubs, universe, guards, Cascade(settings, pool, stubs, universe, guards)
    )
