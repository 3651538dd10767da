"""Layer 2 in-process: a migrated schema in a fresh database, the simulated market in the read
model, a model trained on it and active, the service started with a real gRPC port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cp_layer_kit.testing import RunningLayer, in_process_layer
from layer2_sector_service import MIGRATIONS_DIR, SCHEMA
from layer2_sector_service.app import SPEC
from layer2_sector_service.settings import Layer2Settings


@pytest.fixture(scope="module")
async def layer2(
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
) -> AsyncIterator[RunningLayer]:
    async with in_process_layer(
        SPEC,
        Layer2Settings,
        (SCHEMA, MIGRATIONS_DIR),
        "sector_rotation_v2",
        database_url=fresh_database("layer2"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
    ) as running:
        yield running
