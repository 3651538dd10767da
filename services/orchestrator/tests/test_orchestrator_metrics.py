"""The cascade-run metrics: runs by status, run duration, and the last completed run's time
(seeded from the store at start-up, so a restarted replica does not report the cascade stale)."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from orchestrator_service.metrics import LAST_COMPLETED


def _auth(tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.token(role='professional')}"}


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _full(orchestrator, tokens) -> int:
    async with orchestrator.client() as client:
        answer = await client.post("/api/v1/analysis/full", json={"symbols": ["BTC"]}, headers=_auth(tokens))
    return answer.status_code


async def test_a_completed_run_is_counted_timed_and_sets_the_last_completed_time(
    orchestrator, tokens, parts, layers
) -> None:
    runs_before = _sample("cp_orchestrator_runs_total", status="succeeded", trigger="manual")
    timed_before = _sample("cp_orchestrator_run_seconds_count", status="succeeded")
    began = time.time()
    assert await _full(orchestrator, tokens) == 200
    assert _sample("cp_orchestrator_runs_total", status="succeeded", trigger="manual") == runs_before + 1
    assert _sample("cp_orchestrator_run_seconds_count", status="succeeded") == timed_before + 1
    assert _sample("cp_orchestrator_run_seconds_sum", status="succeeded") > 0
    assert began - 1 <= _sample("cp_orchestrator_last_completed_run_timestamp_seconds") <= time.time()


async def test_a_failed_run_is_timed_but_leaves_the_last_completed_time(
    orchestrator, tokens, parts, layers
) -> None:
    assert await _full(orchestrator, tokens) == 200
    last = _sample("cp_orchestrator_last_completed_run_timestamp_seconds")
    failed_before = _sample("cp_orchestrator_run_seconds_count", status="failed")
    await parts.pool.execute("DELETE FROM layer_latest WHERE layer = 1")
    layers.macro.mode = "fail"
    assert await _full(orchestrator, tokens) == 503
    assert _sample("cp_orchestrator_run_seconds_count", status="failed") == failed_before + 1
    assert _sample("cp_orchestrator_last_completed_run_timestamp_seconds") == last


async def test_the_last_completed_time_is_seeded_from_the_store(orchestrator, tokens, parts, layers) -> None:
    assert await _full(orchestrator, tokens) == 200
    stored = await parts.pool.fetchval(
        "SELECT max(finished_at) FROM cascade_runs WHERE status IN ('succeeded', 'degraded')"
    )
    LAST_COMPLETED.set(0)  # as in a freshly started process
    await parts.cascade.observe_last_completed()
    assert _sample("cp_orchestrator_last_completed_run_timestamp_seconds") == stored.timestamp()
