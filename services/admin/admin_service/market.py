"""What the admin service asks ingestion over gRPC (``MarketDataService``): whether assets exist,
and their latest quotes. Calls go through a circuit breaker; while ingestion is down, adding an
asset answers 503 naming the market data service instead of guessing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

from cp_common.breaker import create_breaker, guarded
from cp_common.errors import BadRequest, NotFound, ServiceError, Unavailable
from cp_common.grpc.client import create_channel
from cp_common.grpc.status import service_error_from_rpc_error
from cryptopredict.common.v1 import market_pb2 as market_common_pb2
from cryptopredict.market.v1 import market_data_pb2 as pb
from cryptopredict.market.v1 import market_data_pb2_grpc as pb_grpc

DOWNSTREAM = "market data service"
#: The same symbol rule as ingestion's (letters and digits, up to 20).
SYMBOL = re.compile(r"^[A-Z0-9]{1,20}$")
#: Ingestion answers at most this many symbols per GetCandles call.
MAX_SYMBOLS_PER_CALL = 200
MAX_UNIVERSE = 500


def normalise_symbol(value: str) -> str:
    symbol = value.strip().upper()
    if not SYMBOL.match(symbol):
        raise BadRequest("crypto_symbol must be 1 to 20 letters or digits, e.g. BTC")
    return symbol


class MarketData:
    def __init__(self, target: str | None, *, timeout: float) -> None:
        self._channel = create_channel(target, caller="admin", default_timeout=timeout) if target else None
        self._stub = pb_grpc.MarketDataServiceStub(self._channel) if self._channel else None
        # NotFound / BadRequest say nothing about ingestion's health.
        self.breaker = create_breaker("admin-market-data", exclude=(NotFound, BadRequest))

    async def aclose(self) -> None:
        if self._channel is not None:
            await self._channel.close()

    def _require_stub(self) -> pb_grpc.MarketDataServiceStub:
        if self._stub is None:
            raise Unavailable(f"{DOWNSTREAM} is not configured (ADMIN_MARKET_DATA_TARGET)")
        return self._stub

    async def missing(self, symbols: Sequence[str]) -> list[str]:
        """The symbols of ``symbols`` that ingestion has no data for."""
        stub = self._require_stub()
        missing: list[str] = []
        for start in range(0, len(symbols), MAX_SYMBOLS_PER_CALL):
            chunk = list(symbols[start : start + MAX_SYMBOLS_PER_CALL])
            request = pb.GetCandlesRequest(symbols=chunk, interval=market_common_pb2.INTERVAL_1D, lookback=1)
            reply = await self._call(stub.GetCandles, request)
            missing.extend(reply.missing_symbols)
        return missing

    async def require_existing(self, symbols: Sequence[str]) -> None:
        missing = await self.missing(symbols)
        if missing:
            raise BadRequest(f"unknown symbol (not in the market data universe): {', '.join(missing)}")

    async def quotes(self) -> dict[str, dict[str, Any]]:
        """The latest quote of every asset in the universe, by symbol."""
        stub = self._require_stub()
        reply = await self._call(stub.GetUniverse, pb.GetUniverseRequest(top_n=MAX_UNIVERSE))
        return {
            asset.symbol: {
                "name": asset.name,
                "sector": asset.sector,
                "market_cap_rank": asset.market_cap_rank or None,
                "price_usd": asset.quote.price_usd if asset.HasField("quote") else None,
                "change_24h_pct": asset.quote.change_24h_pct if asset.HasField("quote") else None,
            }
            for asset in reply.assets
        }

    async def _call(self, method: Any, request: Any) -> Any:
        async with guarded(self.breaker, DOWNSTREAM):
            try:
                return await method(request)
            except grpc.aio.AioRpcError as exc:
                error: ServiceError = service_error_from_rpc_error(exc, service=DOWNSTREAM)
                raise error from exc
