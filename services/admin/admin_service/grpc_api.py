"""gRPC ``cryptopredict.admin.v1.WatchlistService``: the current tier sets for the orchestrator
and Layer 3 (read from the database on every call, so an approval is visible at once)."""

from __future__ import annotations

import asyncpg
import grpc.aio

from admin_service.domain import Tier
from admin_service.storage import watchlists as store
from cp_common.grpc import GrpcServer
from cryptopredict.admin.v1 import watchlist_pb2 as pb
from cryptopredict.admin.v1 import watchlist_pb2_grpc as pb_grpc

SERVICE_NAME = "cryptopredict.admin.v1.WatchlistService"


class WatchlistGrpcService(pb_grpc.WatchlistServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def GetTierSets(
        self, request: pb.GetTierSetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTierSetsResponse:
        async with self.pool.acquire() as conn:
            rows = await store.tier_sets(conn)
            changed_at = await store.last_admin_change(conn)
        reply = pb.GetTierSetsResponse()
        for row in rows:
            tier = Tier(row["tier"])
            item = pb.TierItem(
                symbol=row["symbol"],
                tier=tier.proto,
                priority_order=row["priority_order"],
                watchlist_id=str(row["watchlist_id"]),
                item_id=str(row["id"]),
            )
            (reply.tier1_items if tier is Tier.TIER1 else reply.tier2_items).append(item)
        if changed_at is not None:
            reply.changed_at.FromDatetime(changed_at)
        return reply


def register(pool: asyncpg.Pool, server: GrpcServer) -> None:
    server.add_servicer(
        pb_grpc.add_WatchlistServiceServicer_to_server, WatchlistGrpcService(pool), SERVICE_NAME
    )
