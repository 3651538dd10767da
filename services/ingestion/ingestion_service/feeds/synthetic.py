"""``INGESTION_SOURCE=synthetic`` (the default): a seeded simulated market for the whole fleet.

One hourly path of ``cp_market``'s simulator drives everything, so the intervals agree (the
4h and 1d candles are built from the hourly ones with ``resample_candles``, never simulated
separately):

* **Backfill**: the market from its origin to "now" in bulk: ``history_days`` of 1d candles and
  daily snapshots, the last ``intraday_days`` of 1h and 4h candles, and the assets ranked by
  market cap. The origin (``now - history_days``, midnight UTC), the seed and a checkpoint of
  the simulation at the last stored day close are kept in ``feed_state``: a restart resumes the
  same path from the checkpoint (or, without one, re-creates it from the origin), re-writes the
  hours after it (unchanged) and continues after the last hour stored.
* **Stream**: one simulated hour per ``3600 / speed`` wall seconds, each step a live batch of
  the closed 1h candles plus any 4h/1d candle that step completed, and at each day close the
  day's snapshot and the new market-cap ranks.

A day's snapshot is stamped with its date (``taken_at`` = the day's midnight UTC), as the files
and replay feeds stamp their daily figures, so every feed's snapshot of day D is day D in the
layers' read model (``cp_layer_kit.market.store.snapshot_day``); it is published at the day's
close, when its figures are known. The feed's clock
  (``as_of``) is simulated time: with ``speed > 1`` it runs ahead of the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pandas as pd

from cp_market.aggregate import CandleAggregator, resample_candles
from cp_market.candles import Candle, candles_from_frame, to_candle_frame
from cp_market.simulator import MarketSimulator, SimulationRun, SimulatorConfig
from ingestion_service.feeds.base import Feed, MarketBatch
from ingestion_service.storage import candles as candle_store
from ingestion_service.storage import runs
from ingestion_service.storage.snapshots import SNAPSHOT_FIELDS

SOURCE = "synthetic"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _utc(value: pd.Timestamp | datetime) -> datetime:
    return pd.Timestamp(value).to_pydatetime().astimezone(UTC)


def snapshot_rows(days: list[tuple[datetime, dict[str, Any]]], daily: pd.DataFrame) -> pd.DataFrame:
    """Snapshot rows stamped with each day's date from the simulator's figures of that day, with
    ETH dominance and the tracked assets' volume from the day's candles."""
    rows = []
    for day, figures in days:
        candles = daily[daily["open_time"] == pd.Timestamp(day)]
        total = float(figures["total_market_cap"])
        eth = candles.loc[candles["symbol"] == "ETH", "market_cap"]
        rows.append(
            {
                "taken_at": day,
                "total_market_cap": total,
                "total_volume_24h": float(candles["quote_volume"].sum()) if len(candles) else float("nan"),
                "btc_dominance": figures["btc_dominance"],
                "eth_dominance": float(eth.iloc[0]) / total * 100 if len(eth) else float("nan"),
                "stablecoin_dominance": figures["stablecoin_dominance"],
                "usdt_market_cap": figures["usdt_market_cap"],
                "fear_greed": figures["fear_greed"],
                "fear_greed_label": figures["fear_greed_label"],
                "stale_market_cap": False,
                "source": SOURCE,
            }
        )
    return pd.DataFrame(rows, columns=list(SNAPSHOT_FIELDS))


class SyntheticFeed(Feed):
    name = SOURCE

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        seed: int = 11,
        history_days: int = 400,
        intraday_days: int = 30,
        speed: float = 360.0,
        now: datetime | None = None,
    ) -> None:
        self.pool = pool
        self.seed = seed
        self.history_days = history_days
        self.intraday_days = intraday_days
        self.speed = speed
        self._now = now
        self.simulator = MarketSimulator(SimulatorConfig(seed=seed))
        self._run: SimulationRun | None = None
        self._aggregator = CandleAggregator("1h", ["4h", "1d"])
        self._state_saved: dict[str, Any] = {}
        #: The feed's clock: the close of the last simulated hour.
        self.clock: datetime | None = None

    async def _state(self) -> dict[str, Any]:
        state = await runs.load_state(self.pool, SOURCE)
        if state is not None and state.get("seed") == self.seed:
            return state
        wall = self._now or datetime.now(UTC)
        origin = wall.replace(hour=0, minute=0, second=0, microsecond=0) - self.history_days * DAY
        state = {"seed": self.seed, "origin": origin.isoformat()}
        await runs.save_state(self.pool, SOURCE, state)
        return state

    async def _checkpoint(self, state: dict[str, Any]) -> None:
        """Save the simulation at a day close that is stored (called after its batch was written)."""
        assert self._run is not None
        await runs.save_state(self.pool, SOURCE, {**state, "checkpoint": self._run.state()})

    def _start_run(self, state: dict[str, Any], origin: datetime, now: datetime) -> datetime:
        """Resume from the checkpoint when it is not after ``now``, else from the origin."""
        checkpoint = state.get("checkpoint")
        if checkpoint is not None and origin <= datetime.fromisoformat(checkpoint["time"]) <= now:
            self._run = SimulationRun.resume(self.simulator, checkpoint)
            return datetime.fromisoformat(checkpoint["time"])
        self._run = self.simulator.run("1h", start=origin)
        return origin

    async def backfill(self) -> AsyncIterator[MarketBatch]:
        state = await self._state()
        origin = datetime.fromisoformat(state["origin"])
        last_hour = await candle_store.latest_open_time(self.pool, "1h", source=SOURCE)
        now = origin + self.history_days * DAY
        if last_hour is not None and last_hour >= origin:
            now = max(now, last_hour + HOUR)
        start = self._start_run(state, origin, now)
        assert self._run is not None
        market = await asyncio.to_thread(self._run.advance, int((now - start) / HOUR))
        hourly = market.candles
        daily = resample_candles(hourly, "1d")
        recent = pd.Timestamp(now - self.intraday_days * DAY)
        four_hourly = resample_candles(hourly, "4h")
        intraday = [frame[frame["open_time"] >= recent] for frame in (four_hourly, hourly)]
        candles = to_candle_frame(pd.concat([daily, *intraday], ignore_index=True))
        # the current day's hours wait in the aggregator for the rest of their 4h / 1d buckets
        today = pd.Timestamp(now).floor("D")
        self._aggregator = CandleAggregator("1h", ["4h", "1d"])
        self._aggregator.add(candles_from_frame(hourly[hourly["open_time"] >= today]))
        days = [
            (_utc(day), market.snapshots.loc[day].to_dict())
            for day in market.snapshots.index
            if _utc(day) + DAY <= now
        ]
        self.clock = now
        self._state_saved = state
        yield MarketBatch(
            source=SOURCE,
            as_of=now,
            candles=candles,
            snapshots=snapshot_rows(days, daily),
            assets=market.assets.assign(source=SOURCE) if len(hourly) else None,
        )
        if now.hour == 0:
            await self._checkpoint(state)

    async def stream(self) -> AsyncIterator[MarketBatch]:
        if self._run is None or self.clock is None:
            raise RuntimeError("the synthetic feed streams after its backfill")
        loop = asyncio.get_running_loop()
        wall_step = 3600.0 / self.speed
        due = loop.time() + wall_step
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            due += wall_step
            step = self._run.step()
            closes = _utc(step.open_time) + HOUR
            completed = self._aggregator.add(step.candles)
            batch = MarketBatch(
                source=SOURCE,
                as_of=closes,
                candles=[*step.candles, *completed],
                live=True,
                received_at=time.perf_counter(),
            )
            if closes.hour == 0:
                day = self._day_close(closes, step.snapshot, completed, step.candles)
                batch.snapshots, batch.assets = day
            self.clock = closes
            yield batch
            if closes.hour == 0:
                await self._checkpoint(self._state_saved)

    def _day_close(
        self, closes: datetime, figures: dict[str, Any], completed: list[Candle], hourly: list[Candle]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        daily = to_candle_frame([c for c in completed if c.interval == "1d"])
        snapshots = snapshot_rows([(closes - DAY, figures)], daily)
        assets = self.simulator.assets_frame(to_candle_frame(hourly)).assign(source=SOURCE)
        return snapshots, assets
