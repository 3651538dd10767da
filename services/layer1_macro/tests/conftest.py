"""Layer 1 in-process: a migrated schema in a fresh database, the simulated market in the read
model, a model trained on it and active, the service started with a real gRPC port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cp_layer_kit.testing import LocalTokens, RunningLayer, prepare_layer_database, run_layer
from layer1_macro_service import MIGRATIONS_DIR, SCHEMA
from layer1_macro_service.app import SPEC
from layer1_macro_service.settings import Layer1Settings


@pytest.fixture(scope="module")
async def layer1(
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
) -> AsyncIterator[RunningLayer]:
    url = fresh_database("layer1")
    await prepare_layer_database(url, SCHEMA, MIGRATIONS_DIR, "macro_regime_v3")
    settings = Layer1Settings(
        environment="test",
        database_url=url,
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        jwks_url="http://jwks.invalid/.well-known/jwks.json",
        layer1_refresh_interval_s=0.2,
        layer_model_poll_s=60.0,
    )
    async with run_layer(SPEC, settings, LocalTokens()) as running:
        yield running
