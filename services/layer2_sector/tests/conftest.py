"""Layer 2 in-process: a migrated schema in a fresh database, the simulated market in the read
model, a model trained on it and active, the service started with a real gRPC port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cp_layer_kit.testing import LocalTokens, RunningLayer, prepare_layer_database, run_layer
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
    url = fresh_database("layer2")
    await prepare_layer_database(url, SCHEMA, MIGRATIONS_DIR, "sector_rotation_v2")
    settings = Layer2Settings(
        environment="test",
        database_url=url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer_model_poll_s=60.0,
        # the read model is filled by the fixture; the session's broker carries other tests' candles
        layer_consume_market_events=False,
    )
    async with run_layer(SPEC, settings, LocalTokens()) as running:
        yield running
