"""A cascade run is stored once and published once, also when two replicas race for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from cp_common import topics
from cp_common.db.pool import close_pool, create_pool
from cp_layer_kit.results import PendingResult, ResultStore, new_analysis_id
from cryptopredict.analysis.v1 import macro_pb2
from cryptopredict.common.v1 import analysis_pb2 as common
from cryptopredict.events.v1 import analysis_pb2 as events


def _pending(run_id: str, confidence: float) -> PendingResult:
    analysis_id = new_analysis_id()
    response = macro_pb2.AnalyzeMacroResponse(
        analysis=macro_pb2.MacroAnalysis(regime=common.REGIME_BULL, confidence=confidence)
    )
    event = events.MacroRegimeAnalyzed(analysis_id=analysis_id, confidence=confidence, cascade_run_id=run_id)
    return PendingResult(
        analysis_id=analysis_id,
        cascade_run_id=run_id,
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
        model_version="macro_regime_v3:1",
        inference_ms=1.5,
        response=response,
        view={"regime": "bull", "confidence": confidence},
        events=[(topics.ANALYSIS_MACRO, [event])],
    )


async def _outbox_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'analysis.macro.v1'"))


async def test_a_retried_run_returns_the_stored_result_and_publishes_nothing(
    layer_pool: asyncpg.Pool, layer_schema: str
) -> None:
    store = ResultStore(layer_pool, layer_schema)
    first = await store.store_or_replay(_pending("run-1", 0.7))
    again = await store.store_or_replay(_pending("run-1", 0.9))
    assert not first.replayed and again.replayed
    assert again.analysis_id == first.analysis_id and again.response == first.response
    assert macro_pb2.AnalyzeMacroResponse.FromString(again.response).analysis.confidence == 0.7
    assert (await store.find("run-1")) is not None and (await store.find("run-2")) is None
    assert await _outbox_count(layer_pool) == 1


async def test_two_replicas_racing_for_one_run_store_and_publish_once(
    database_url: str, layer_pool: asyncpg.Pool, layer_schema: str
) -> None:
    other_pool = await create_pool(database_url, layer_schema, register_metrics=False)
    try:
        replicas = [ResultStore(layer_pool, layer_schema), ResultStore(other_pool, layer_schema)]
        results = await asyncio.gather(
            *(r.store_or_replay(_pending("run-race", 0.5 + i / 10)) for i, r in enumerate(replicas * 3))
        )
    finally:
        await close_pool(other_pool)
    assert sorted(r.replayed for r in results) == [False] + [True] * 5
    assert len({r.analysis_id for r in results}) == 1
    assert await layer_pool.fetchval("SELECT count(*) FROM layer_results") == 1
    assert await _outbox_count(layer_pool) == 1
