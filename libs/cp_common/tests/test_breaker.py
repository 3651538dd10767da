"""Circuit breaker: opens after N failures, fails fast, half-opens after the timeout."""

from __future__ import annotations

import asyncio

import pytest

from cp_common.breaker import create_breaker, guarded
from cp_common.errors import NotFound, Unavailable
from cp_common.metrics import CIRCUIT_BREAKER_STATE


def state(name: str) -> float:
    return CIRCUIT_BREAKER_STATE.labels(name)._value.get()


async def test_breaker_opens_fails_fast_and_recovers():
    breaker = create_breaker("layer1-test", fail_max=5, reset_timeout=0.3, exclude=(NotFound,))
    calls = 0

    async def downstream(fail: bool) -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if fail:
            raise ConnectionError("down")
        return "ok"

    async def call(fail: bool) -> str:
        async with guarded(breaker, "Layer 1 service"):
            return await downstream(fail)

    # a NotFound is an answer, not an outage: it does not count
    with pytest.raises(NotFound):
        async with guarded(breaker):
            raise NotFound("no such symbol")
    assert breaker.fail_counter == 0

    for _ in range(4):
        with pytest.raises(ConnectionError):
            await call(fail=True)
    assert state("layer1-test") == 0
    # the fifth consecutive failure opens the circuit
    with pytest.raises((ConnectionError, Unavailable)):
        await call(fail=True)
    assert state("layer1-test") == 2
    before = calls
    with pytest.raises(Unavailable, match="Layer 1 service unavailable"):
        await call(fail=False)
    assert calls == before  # failed fast: the downstream was not called
    await asyncio.sleep(0.35)
    assert await call(fail=False) == "ok"  # half-open trial succeeds and closes it
    assert state("layer1-test") == 0
