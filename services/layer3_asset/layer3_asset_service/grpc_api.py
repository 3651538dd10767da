"""``AssetSelectionService`` over gRPC: the watchlist of the request, then the kit's request flow."""

from __future__ import annotations

import functools
from datetime import timedelta

import grpc

from cp_common.grpc import GrpcServer
from cp_layer_kit import LayerKit, run_analysis
from cp_layer_kit.analysis import check_symbols
from cryptopredict.analysis.v1 import asset_pb2, asset_pb2_grpc
from layer3_asset_service.analysis import Watchlist, compute, tiers
from layer3_asset_service.settings import Layer3Settings

SERVICE_NAME = "cryptopredict.analysis.v1.AssetSelectionService"


async def previous_tier1_scores(kit: LayerKit) -> dict[str, float]:
    """Tier-1 scores of the latest stored run (a drop since then suggests a demotion)."""
    rows = await kit.runtime.require_pool().fetch(
        """
        SELECT a->>'symbol' AS symbol, (a->>'score')::float8 AS score
        FROM (SELECT view FROM layer_results ORDER BY created_at DESC LIMIT 1) latest,
             jsonb_array_elements(latest.view->'assets') a
        WHERE a->>'tier' = 'tier1'
        """
    )
    return {r["symbol"]: r["score"] for r in rows}


async def watchlist_of(kit: LayerKit, request: asset_pb2.SelectAssetsRequest) -> Watchlist:
    settings = kit.settings
    if not isinstance(settings, Layer3Settings):
        raise TypeError("the Layer 3 service needs Layer3Settings")
    tier1, tier2 = tiers(request, settings.layer3_default_tier1, settings.layer3_default_tier2)
    universe = check_symbols(request.symbols, "symbols") or [a["symbol"] for a in await kit.market.assets()]
    return Watchlist(
        universe=universe,
        tier1=tier1,
        tier2=tier2,
        previous_scores=await previous_tier1_scores(kit),
        max_selected=settings.layer3_max_selected,
        reopen_after=timedelta(days=settings.layer3_suggestion_reopen_days),
    )


class AssetSelectionServicer(asset_pb2_grpc.AssetSelectionServiceServicer):
    def __init__(self, kit: LayerKit) -> None:
        self.kit = kit

    async def SelectAssets(
        self, request: asset_pb2.SelectAssetsRequest, context: grpc.aio.ServicerContext
    ) -> asset_pb2.SelectAssetsResponse:
        watchlist = await watchlist_of(self.kit, request)
        return await run_analysis(
            self.kit, request, asset_pb2.SelectAssetsResponse, functools.partial(compute, watchlist=watchlist)
        )


def register(kit: LayerKit, server: GrpcServer) -> None:
    server.add_servicer(
        asset_pb2_grpc.add_AssetSelectionServiceServicer_to_server, AssetSelectionServicer(kit), SERVICE_NAME
    )
