"""Circuit breakers per downstream (pybreaker), with their state exported as a metric.

Defaults are the seeds': open after 5 consecutive failures, try again (half-open) after 60 s.
``guarded()`` wraps an awaited call; while the breaker is open it fails fast with
:class:`cp_common.errors.Unavailable` naming the downstream, without calling it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pybreaker

from cp_common.errors import Unavailable
from cp_common.metrics import CIRCUIT_BREAKER_STATE

_STATE_VALUE = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}


class _StateMetric(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:  # type: ignore[no-untyped-def]
        CIRCUIT_BREAKER_STATE.labels(cb.name).set(_STATE_VALUE.get(new_state.name, 0))


def create_breaker(
    name: str,
    *,
    fail_max: int = 5,
    reset_timeout: float = 60.0,
    exclude: tuple[type[BaseException], ...] = (),
) -> pybreaker.CircuitBreaker:
    """``exclude``: errors that say nothing about the downstream's health (e.g. NotFound)."""
    breaker = pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        name=name,
        listeners=[_StateMetric()],
        exclude=list(exclude),
    )
    CIRCUIT_BREAKER_STATE.labels(name).set(0)
    return breaker


@contextlib.asynccontextmanager
async def guarded(breaker: pybreaker.CircuitBreaker, downstream: str | None = None) -> AsyncIterator[None]:
    """``async with guarded(breaker): await call()``; counts the outcome, fails fast when open."""
    try:
        with breaker.calling():
            yield
    except pybreaker.CircuitBreakerError:
        raise Unavailable(f"{downstream or breaker.name} unavailable (circuit open)") from None
