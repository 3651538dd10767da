"""The dashboard's ``performance_metrics``: Layer 4's fleet-wide live record, asked over gRPC
(``TimingSignalsService.GetPerformanceSummary``) through a circuit breaker.

Layer 4 owns the signals and their outcomes, so the figures are its own (one query over its
signal table per call), not a copy kept here. When Layer 4 is not deployed, does not answer or
its breaker is open, the section says so (``status: unavailable`` and why) and the rest of the
dashboard answers as usual.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import grpc
import grpc.aio

from cp_common.breaker import create_breaker, guarded
from cp_common.errors import BadRequest, ServiceError
from cp_common.grpc.client import create_channel
from cp_common.grpc.status import service_error_from_rpc_error
from cryptopredict.analysis.v1 import timing_pb2 as pb
from cryptopredict.analysis.v1 import timing_pb2_grpc as pb_grpc

DOWNSTREAM = "layer4-timing"


def _optional(reply: pb.GetPerformanceSummaryResponse, name: str) -> float | None:
    return getattr(reply, name) if reply.HasField(name) else None


def performance_view(reply: pb.GetPerformanceSummaryResponse) -> dict[str, Any]:
    closed = dict(sorted(reply.closed_by_outcome.items()))
    return {
        "status": "available",
        "source": DOWNSTREAM,
        "period_days": reply.period_days,
        "since": reply.since.ToDatetime(tzinfo=UTC),
        "until": reply.until.ToDatetime(tzinfo=UTC),
        "signals": {
            "generated": reply.generated,
            "open": reply.open,
            "closed": sum(closed.values()),
            "closed_by_outcome": closed,
        },
        "trades": reply.trades,
        "wins": reply.wins,
        "win_rate": _optional(reply, "win_rate"),
        "average_return": _optional(reply, "average_return"),
        "total_return": reply.total_return,
        "profit_factor": _optional(reply, "profit_factor"),
    }


def unavailable(reason: str) -> dict[str, Any]:
    return {"status": "unavailable", "source": DOWNSTREAM, "reason": reason}


class SignalPerformance:
    def __init__(self, target: str | None, *, timeout: float) -> None:
        self._channel = create_channel(target, caller="admin", default_timeout=timeout) if target else None
        self._stub = pb_grpc.TimingSignalsServiceStub(self._channel) if self._channel else None
        # a window Layer 4 refuses says nothing about its health
        self.breaker = create_breaker("admin-layer4-timing", exclude=(BadRequest,))

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()

    async def section(self, days: int) -> dict[str, Any]:
        """The ``performance_metrics`` section over the last ``days``, or why there is none."""
        if self._stub is None:
            return unavailable("layer4-timing is not deployed in this fleet (no LAYER4_TIMING_GRPC_TARGET)")
        try:
            async with guarded(self.breaker, DOWNSTREAM):
                try:
                    reply = await self._stub.GetPerformanceSummary(pb.GetPerformanceSummaryRequest(days=days))
                except grpc.aio.AioRpcError as exc:
                    error: ServiceError = service_error_from_rpc_error(exc, service=DOWNSTREAM)
                    raise error from exc
        except ServiceError as exc:
            return unavailable(exc.message)
        return performance_view(reply)
