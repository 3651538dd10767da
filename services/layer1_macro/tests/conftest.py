"""Layer 1 in-process: a migrated schema in a fresh database, the simulated market in the read
model, a model trained on it and active, the service started with a real gRPC port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from cp_layer_kit.testing import LocalTokens, RunningLayer, prepare_layer_database, run_layer
from layer1_macro_service import MIGRATIONS_DIR, SCHEMA
from layer1_macro_service.app import SPEC
from layer1_macro_service.settings import Layer1Settings

StartLayer1 = Callable[..., contextlib.AbstractAsyncContextManager[RunningLayer]]


@pytest.fixture(scope="session")
def start_layer1(
    fresh_database: Callable[..., str],
    redis_url: str,
    kafka_bootstrap_servers: str,
    free_port: Callable[[], int],
) -> StartLayer1:
    """``async with start_layer1(**settings) as running``: a Layer 1 service on its own database."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningLayer]:
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
            # the read model is filled here; the session's broker carries other tests' candles
            layer_consume_market_events=False,
        ).model_copy(update=overrides)
        async with run_layer(SPEC, settings, LocalTokens()) as running:
            yield running

    return start


@pytest.fixture(scope="module")
async def layer1(start_layer1: StartLayer1) -> AsyncIterator[RunningLayer]:
    async with start_layer1() as running:
        yield running
