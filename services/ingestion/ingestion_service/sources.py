"""Choose the feed from the configuration (``INGESTION_SOURCE``).

| value | feed | needs |
|---|---|---|
| ``synthetic`` (default) | the seeded simulator: history, then an accelerated live market | nothing |
| ``files`` | backfill every file of ``INGESTION_DATA_DIR`` once | a data directory |
| ``replay`` | that history, streamed as if live at ``INGESTION_REPLAY_SPEED`` | a data directory |
| ``live`` | Binance klines (REST + WebSocket), CoinGecko, alternative.me | network, Redis (one poller) |

The data directory defaults to ``CP_DATA_DIR`` / the shared data next to the repository.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg

from cp_common.settings import SettingsError
from cp_market.dataset import default_data_dir
from ingestion_service.feeds.base import Feed
from ingestion_service.feeds.files import FilesFeed
from ingestion_service.feeds.live import LiveEndpoints, LiveFeed, sector_map
from ingestion_service.feeds.replay import ReplayFeed
from ingestion_service.feeds.synthetic import SyntheticFeed
from ingestion_service.pipeline import IngestionPipeline
from ingestion_service.settings import IngestionSettings


def data_dir(settings: IngestionSettings, *, required: bool) -> Path | None:
    found = settings.ingestion_data_dir or default_data_dir()
    if found is not None and Path(found).is_dir():
        return Path(found)
    if required:
        raise SettingsError(
            f"invalid configuration: INGESTION_DATA_DIR: INGESTION_SOURCE={settings.ingestion_source} "
            "needs a data directory (set INGESTION_DATA_DIR or CP_DATA_DIR)"
        )
    return None


def create_feed(settings: IngestionSettings, pool: asyncpg.Pool) -> Feed:
    source = settings.ingestion_source
    if source == "synthetic":
        return SyntheticFeed(
            pool,
            seed=settings.ingestion_synthetic_seed,
            history_days=settings.ingestion_history_days,
            intraday_days=settings.ingestion_intraday_days,
            speed=settings.ingestion_synthetic_speed,
        )
    if source == "files":
        directory = data_dir(settings, required=True)
        assert directory is not None
        return FilesFeed([directory])
    if source == "replay":
        directory = data_dir(settings, required=True)
        assert directory is not None
        return ReplayFeed(
            pool,
            [directory],
            intervals=settings.ingestion_replay_intervals,
            start=settings.ingestion_replay_start,
            speed=settings.ingestion_replay_speed,
        )
    endpoints = LiveEndpoints(
        binance_rest=settings.ingestion_binance_rest_url,
        binance_ws=settings.ingestion_binance_ws_url,
        coingecko=settings.ingestion_coingecko_url,
        fear_greed=settings.ingestion_fear_greed_url,
        coingecko_api_key=settings.ingestion_coingecko_api_key,
    )
    return LiveFeed(
        endpoints,
        symbols=settings.ingestion_symbols,
        history_days=settings.ingestion_history_days,
        intraday_days=settings.ingestion_intraday_days,
        snapshot_interval=settings.ingestion_snapshot_interval_s,
        universe_interval=settings.ingestion_universe_interval_s,
        sectors=sector_map(data_dir(settings, required=False)),
    )


def create_pipeline(settings: IngestionSettings, pool: asyncpg.Pool) -> IngestionPipeline:
    return IngestionPipeline(pool, event_window=timedelta(hours=settings.ingestion_event_window_hours))
