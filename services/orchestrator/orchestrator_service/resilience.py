"""One layer call under its deadline, its circuit breaker and one jittered retry.

``GuardedLayer.call(attempt)`` runs ``attempt(timeout)`` (a gRPC call given the time left) inside
the layer's pybreaker breaker. A call that fails for a reason about the layer's health
(unreachable, deadline, internal error, model unavailable) counts as one breaker failure, after
at most one retry that fits inside the deadline; a caller's mistake (invalid argument, not
found) passes through as a client error and does not count. While the breaker is open the call
fails at once, before any network work.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
import grpc.aio
import pybreaker

from cp_common.breaker import create_breaker, guarded
from cp_common.errors import BadRequest, NotFound, Unavailable
from cp_common.grpc.status import service_error_from_rpc_error
from orchestrator_service.layers import LayerInfo
from orchestrator_service.metrics import BREAKER_TRANSITIONS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Codes worth one more attempt: the layer was momentarily unreachable or busy.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
    }
)
#: Codes that describe the request, not the layer's health.
CLIENT_ERRORS = frozenset(
    {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE}
)


class LayerFailed(Exception):
    """A layer call failed for a reason about the layer (counted by its breaker)."""

    def __init__(self, layer: LayerInfo, reason: str) -> None:
        super().__init__(f"{layer.service}: {reason}")
        self.layer = layer
        self.reason = reason


class LayerUnavailable(Unavailable):
    """The run cannot go on: the layer failed and no fresh enough result stands in for it."""

    def __init__(self, layer: LayerInfo) -> None:
        super().__init__(f"{layer.service} unavailable")
        self.layer = layer


class _TransitionLog(pybreaker.CircuitBreakerListener):
    def __init__(self, layer: LayerInfo) -> None:
        self._layer = layer

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        before = old_state.name if old_state is not None else "none"
        BREAKER_TRANSITIONS.labels(self._layer.breaker_name, before, new_state.name).inc()
        log.warning(
            "layer circuit breaker changed state",
            extra={"layer": self._layer.number, "from_state": before, "to_state": new_state.name},
        )


def layer_breaker(layer: LayerInfo, *, fail_max: int, reset_timeout: float) -> pybreaker.CircuitBreaker:
    """The layer's breaker: state gauge ``circuit_breaker_state{breaker="layerN"}``, transitions
    logged and counted; client errors excluded."""
    breaker = create_breaker(
        layer.breaker_name, fail_max=fail_max, reset_timeout=reset_timeout, exclude=(BadRequest, NotFound)
    )
    breaker.add_listener(_TransitionLog(layer))
    return breaker


class GuardedLayer:
    def __init__(
        self, layer: LayerInfo, breaker: pybreaker.CircuitBreaker, *, deadline_s: float, backoff_s: float
    ) -> None:
        self.layer = layer
        self.breaker = breaker
        self.deadline_s = deadline_s
        self.backoff_s = backoff_s

    async def call(self, attempt: Callable[[float], Awaitable[T]]) -> T:
        """Raises :class:`LayerFailed` (layer trouble or open circuit) or a client error."""
        deadline = time.monotonic() + self.deadline_s
        try:
            async with guarded(self.breaker, self.layer.service):
                return await self._attempts(attempt, deadline)
        except Unavailable as exc:  # the circuit is open (or opened by this failure)
            raise LayerFailed(self.layer, str(exc)) from None

    async def _attempts(self, attempt: Callable[[float], Awaitable[T]], deadline: float) -> T:
        try:
            return await self._once(attempt, deadline)
        except grpc.aio.AioRpcError as first:
            pause = random.uniform(0, self.backoff_s)
            if first.code() not in RETRYABLE or time.monotonic() + pause >= deadline:
                raise self._translate(first) from None
            log.info("retrying layer call", extra={"layer": self.layer.number, "code": first.code().name})
            await asyncio.sleep(pause)
            try:
                return await self._once(attempt, deadline)
            except grpc.aio.AioRpcError as second:
                raise self._translate(second) from None

    async def _once(self, attempt: Callable[[float], Awaitable[T]], deadline: float) -> T:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LayerFailed(self.layer, f"deadline of {self.deadline_s:g} s exceeded")
        try:
            return await asyncio.wait_for(attempt(remaining), timeout=remaining + 0.05)
        except TimeoutError:
            raise LayerFailed(self.layer, f"deadline of {self.deadline_s:g} s exceeded") from None

    def _translate(self, error: grpc.aio.AioRpcError) -> Exception:
        if error.code() in CLIENT_ERRORS:
            return service_error_from_rpc_error(error, service=self.layer.service)
        if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return LayerFailed(self.layer, f"deadline of {self.deadline_s:g} s exceeded")
        return LayerFailed(self.layer, error.code().name.lower())
