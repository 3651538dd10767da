"""Fixtures: the scripted layer servers and the orchestrator in-process (its real lifespan on
the session's PostgreSQL, Redis and Kafka, its own fresh database), with local tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from cp_layer_kit.testing import LocalTokens
from cp_testing.apps import running_app
from orchestrator_service.app import SPEC, components_of
from orchestrator_service.settings import OrchestratorSettings

from .orchestrator_testing import ScriptedLayers, scripted_layers

#: Short enough for tests, long enough for a loaded two-core machine.
DEADLINE_S = 1.5
RESET_S = 0.6


@pytest.fixture(scope="module")
async def layers() -> AsyncIterator[ScriptedLayers]:
    async with scripted_layers() as running:
        yield running


@pytest.fixture(scope="module")
def tokens() -> LocalTokens:
    return LocalTokens()


@pytest.fixture(scope="module")
async def orchestrator(
    layers, tokens, fresh_database, redis_url, kafka_bootstrap_servers, free_port, tmp_path_factory
):
    target = layers.target
    settings = OrchestratorSettings(
        environment="test",
        database_url=fresh_database("orchestrator"),
        redis_url=redis_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        grpc_port=free_port(),
        CP_STATE_DIR=tmp_path_factory.mktemp("orchestrator-state"),
        orchestrator_layer1_target=target,
        orchestrator_layer2_target=target,
        orchestrator_layer3_target=target,
        orchestrator_layer4_target=target,
        orchestrator_layer1_deadline_s=DEADLINE_S,
        orchestrator_layer2_deadline_s=DEADLINE_S,
        orchestrator_layer3_deadline_s=DEADLINE_S,
        orchestrator_layer4_deadline_s=DEADLINE_S,
        orchestrator_breaker_reset_s=RESET_S,
        orchestrator_retry_backoff_s=0.05,
        orchestrator_schedule_s=0,
    )
    # No market-move trigger: other modules' candles on the shared test broker would start runs
    # of their own in the middle of these tests. These tests do not exercise that trigger.
    async with running_app(dataclasses.replace(SPEC, consumers=None), settings) as app:
        app.app.state.jwt_verifier = tokens.verifier()
        yield app


@pytest.fixture
def parts(orchestrator, layers):
    """The components, with every layer answering and every breaker closed."""
    layers.reset()
    components = components_of(orchestrator.runtime)
    for guard in components.guards.values():
        guard.breaker.close()
    return components
