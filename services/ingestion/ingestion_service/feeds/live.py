"""``INGESTION_SOURCE=live``: Binance klines, CoinGecko and alternative.me, through the
``cp_market`` adapters (retries, 429 / Retry-After, Binance weight pacing, WebSocket reconnects
with REST gap filling are theirs).

* **Backfill**: the universe (``/coins/markets``: names and market-cap ranks; sectors from the
  data directory's coin map when there is one, else the simulator's), REST klines of the
  configured symbols (1d for ``history_days``, 1h and 4h for ``intraday_days``) and one market
  snapshot. Candles are validated against the wall clock, so the candle still open is dropped.
* **Stream**: one kline WebSocket per interval (a candle is emitted only once closed, never
  twice, missed ones are fetched over REST after a reconnect), a market snapshot every
  ``snapshot_interval`` (``/global`` + Fear & Greed) and the universe every
  ``universe_interval``; whatever arrives together is written in one batch.

The feed is a singleton (``Feed.singleton``): the runner holds a Redis lock while it runs, so
two replicas never both poll the rate-limited APIs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from cp_market.candles import Candle
from cp_market.dataset import load_assets
from cp_market.simulator import DEFAULT_UNIVERSE
from cp_market.sources import (
    BinanceRestSource,
    BinanceWebSocketSource,
    CoinGeckoClient,
    FearGreedClient,
    RetryPolicy,
    SourceError,
)
from ingestion_service.feeds.base import Feed, MarketBatch
from ingestion_service.feeds.batching import micro_batches
from ingestion_service.storage.snapshots import SNAPSHOT_FIELDS

log = logging.getLogger(__name__)
SOURCE = "live"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class LiveEndpoints:
    binance_rest: str
    binance_ws: str
    coingecko: str
    fear_greed: str
    coingecko_api_key: str | None = None


def sector_map(data_dir: Path | None) -> dict[str, str]:
    """symbol -> sector: the data directory's coin map if present, else the simulator's universe."""
    sectors = {asset.symbol: asset.sector for asset in DEFAULT_UNIVERSE}
    if data_dir is not None:
        try:
            assets = load_assets(data_dir)
        except FileNotFoundError:
            return sectors
        sectors.update(dict(zip(assets["symbol"], assets["sector"], strict=True)))
    return sectors


class LiveFeed(Feed):
    name = SOURCE
    singleton = True

    def __init__(
        self,
        endpoints: LiveEndpoints,
        *,
        symbols: Sequence[str],
        history_days: int = 400,
        intraday_days: int = 30,
        snapshot_interval: float = 300.0,
        universe_interval: float = 3600.0,
        sectors: dict[str, str] | None = None,
        policy: RetryPolicy | None = None,
        stream_intervals: Sequence[str] = ("1h", "4h", "1d"),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.symbols = [s.upper() for s in symbols]
        self.history_days = history_days
        self.intraday_days = intraday_days
        self.snapshot_interval = snapshot_interval
        self.universe_interval = universe_interval
        self.sectors = sectors if sectors is not None else sector_map(None)
        self.policy = policy or RetryPolicy()
        self.stream_intervals = list(stream_intervals)
        #: The wall clock (injectable: tests run against fake providers with fixed dates).
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rest = BinanceRestSource(base_url=endpoints.binance_rest, policy=self.policy)
        self.coingecko = CoinGeckoClient(
            base_url=endpoints.coingecko, api_key=endpoints.coingecko_api_key, policy=self.policy
        )
        self.fear_greed = FearGreedClient(base_url=endpoints.fear_greed, policy=self.policy)
        self.websockets: list[BinanceWebSocketSource] = []

    async def aclose(self) -> None:
        await self._close_websockets()
        await self.rest.aclose()
        await self.coingecko.aclose()
        await self.fear_greed.aclose()

    # --- backfill -----------------------------------------------------------------------------

    async def backfill(self) -> AsyncIterator[MarketBatch]:
        now = self.clock()
        assets = await self.universe()
        if assets is not None:
            yield MarketBatch(source=SOURCE, as_of=now, assets=assets)
        windows = {"1d": self.history_days, "4h": self.intraday_days, "1h": self.intraday_days}
        for interval, days in windows.items():
            if days <= 0:
                continue
            frame = await self.rest.backfill(self.symbols, interval, now - days * DAY, now)
            yield MarketBatch(source=SOURCE, as_of=self.clock(), candles=frame)
        snapshot = await self.snapshot()
        if snapshot is not None:
            yield MarketBatch(source=SOURCE, as_of=self.clock(), snapshots=snapshot)

    async def universe(self) -> pd.DataFrame | None:
        """Names and market-cap ranks of the top coins (None if CoinGecko is unavailable)."""
        try:
            markets = await self.coingecko.coins_markets(per_page=250)
        except SourceError as exc:
            log.warning("universe refresh failed", extra={"error": str(exc)})
            return None
        markets = markets.dropna(subset=["market_cap_rank"]).drop_duplicates("symbol", keep="first")
        wanted = markets[markets["symbol"].str.fullmatch(r"[A-Z0-9]{1,20}")]
        return pd.DataFrame(
            {
                "symbol": wanted["symbol"],
                "name": wanted["name"],
                "sector": wanted["symbol"].map(self.sectors),
                "market_cap_rank": wanted["market_cap_rank"],
                "coingecko_id": wanted["coingecko_id"],
            }
        )

    async def snapshot(self) -> pd.DataFrame | None:
        """One snapshot row from ``/global`` and the latest Fear & Greed (None if both fail)."""
        row: dict[str, object] = {name: math.nan for name in SNAPSHOT_FIELDS}
        row.update(
            taken_at=pd.Timestamp(self.clock()).floor("s"),
            fear_greed_label=None,
            stale_market_cap=False,
            source="coingecko",
        )
        got = False
        try:
            figures = await self.coingecko.global_snapshot()
            row.update({k: v for k, v in figures.items() if k in SNAPSHOT_FIELDS})
            row["taken_at"] = figures["date"]
            got = True
        except SourceError as exc:
            log.warning("market snapshot failed", extra={"error": str(exc)})
        try:
            latest = await self.fear_greed.fetch(1)
            if not latest.empty:
                row["fear_greed"] = latest["value"].iloc[-1]
                row["fear_greed_label"] = latest["label"].iloc[-1]
                got = True
        except SourceError as exc:
            log.warning("fear and greed fetch failed", extra={"error": str(exc)})
        return pd.DataFrame([row], columns=list(SNAPSHOT_FIELDS)) if got else None

    # --- stream -------------------------------------------------------------------------------

    async def _every(self, seconds: float, fetch: str) -> AsyncIterator[pd.DataFrame]:
        while True:
            await asyncio.sleep(seconds)
            frame = await getattr(self, fetch)()
            if frame is not None:
                yield frame

    async def _close_websockets(self) -> None:
        for ws in self.websockets:
            await ws.aclose()
        self.websockets = []

    async def stream(self) -> AsyncIterator[MarketBatch]:
        # The runner restarts stream() after a failure: release the previous sockets' clients.
        await self._close_websockets()
        self.websockets = [
            BinanceWebSocketSource(
                self.symbols,
                interval,
                ws_url=self.endpoints.binance_ws,
                rest=BinanceRestSource(base_url=self.endpoints.binance_rest, policy=self.policy),
                policy=self.policy,
            )
            for interval in self.stream_intervals
        ]
        snapshots = self._every(self.snapshot_interval, "snapshot")
        universe = self._every(self.universe_interval, "universe")
        sources = [ws.stream() for ws in self.websockets]
        async for items in micro_batches(*sources, snapshots, universe):
            received = time.perf_counter()
            candles = [item for item in items if isinstance(item, Candle)]
            frames = [item for item in items if isinstance(item, pd.DataFrame)]
            snapshot_frames = [f for f in frames if "taken_at" in f.columns]
            asset_frames = [f for f in frames if "market_cap_rank" in f.columns]
            yield MarketBatch(
                source=SOURCE,
                as_of=self.clock(),
                candles=candles,
                snapshots=pd.concat(snapshot_frames, ignore_index=True) if snapshot_frames else None,
                assets=pd.concat(asset_frames, ignore_index=True) if asset_frames else None,
                live=True,
                received_at=received,
            )
