"""gRPC channels to the four layers and the admin service's watchlists."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

import grpc
import grpc.aio

from cp_common.grpc.client import create_channel
from cryptopredict.admin.v1 import watchlist_pb2, watchlist_pb2_grpc
from cryptopredict.analysis.v1 import (
    asset_pb2_grpc,
    macro_pb2_grpc,
    sector_pb2_grpc,
    timing_pb2_grpc,
)
from orchestrator_service.settings import OrchestratorSettings

log = logging.getLogger(__name__)
CALLER = "orchestrator"


@dataclass
class LayerStubs:
    """``None`` for a layer without a configured target (its calls fail as unavailable)."""

    macro: macro_pb2_grpc.MacroAnalysisServiceStub | None
    sector: sector_pb2_grpc.SectorAnalysisServiceStub | None
    asset: asset_pb2_grpc.AssetSelectionServiceStub | None
    timing: timing_pb2_grpc.TimingSignalsServiceStub | None
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    async def aclose(self) -> None:
        for channel in self.channels:
            with contextlib.suppress(Exception):
                await channel.close()


def connect_layers(settings: OrchestratorSettings) -> LayerStubs:
    channels: dict[int, grpc.aio.Channel] = {}
    for layer in (1, 2, 3, 4):
        target = settings.target_of(layer)
        if target:
            channels[layer] = create_channel(
                target, caller=CALLER, default_timeout=settings.deadline_of(layer)
            )
    return LayerStubs(
        macro=macro_pb2_grpc.MacroAnalysisServiceStub(channels[1]) if 1 in channels else None,
        sector=sector_pb2_grpc.SectorAnalysisServiceStub(channels[2]) if 2 in channels else None,
        asset=asset_pb2_grpc.AssetSelectionServiceStub(channels[3]) if 3 in channels else None,
        timing=timing_pb2_grpc.TimingSignalsServiceStub(channels[4]) if 4 in channels else None,
        channels=list(channels.values()),
    )


@dataclass(frozen=True)
class TierSets:
    tier1: list[str]
    tier2: list[str]
    #: "watchlists" (the admin service) or "default" (configuration).
    source: str

    @property
    def symbols(self) -> list[str]:
        return [*self.tier1, *[s for s in self.tier2 if s not in self.tier1]]


def _split(value: str) -> list[str]:
    return [s.strip().upper() for s in value.split(",") if s.strip()]


class Universe:
    """The tier-1 / tier-2 sets: the admin service's when reachable, else the configured default."""

    def __init__(self, settings: OrchestratorSettings) -> None:
        self._settings = settings
        self._default = TierSets(
            _split(settings.orchestrator_default_tier1),
            _split(settings.orchestrator_default_tier2),
            "default",
        )
        target = settings.orchestrator_watchlist_target
        self._channel = create_channel(target, caller=CALLER) if target else None

    async def tier_sets(self) -> TierSets:
        if self._channel is None:
            return self._default
        stub = watchlist_pb2_grpc.WatchlistServiceStub(self._channel)
        try:
            reply = await stub.GetTierSets(
                watchlist_pb2.GetTierSetsRequest(), timeout=self._settings.orchestrator_watchlist_timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("watchlists unavailable, using the default universe", extra={"code": exc.code().name})
            return self._default
        tier1 = [item.symbol for item in reply.tier1_items]
        tier2 = [item.symbol for item in reply.tier2_items]
        if not tier1 and not tier2:
            return self._default
        return TierSets(tier1, tier2, "watchlists")

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()
