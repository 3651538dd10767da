"""Shared market-data library: candle model, file importers, validation, dataset loaders,
a synthetic market simulator and ingestion sources (files, synthetic, replay, live).

Used by the ingestion service and by model training/evaluation. The loaders are the
stable entry points::

    from cp_market import default_data_dir, load_candles, load_market_snapshots, load_assets

    data_dir = default_data_dir()          # CP_DATA_DIR, or None when no data is present
    candles, report = load_candles(data_dir, interval="1d", symbols=["BTC", "ETH"], end="2022-12-31")

See docs/market-data.md for formats, normalisation rules, merge priority and reason codes.
"""

from cp_market.candles import (
    CANDLE_COLUMNS,
    CANDLE_DTYPES,
    INTERVALS,
    Candle,
    CandleFlag,
    CandleFrameError,
    candles_from_frame,
    empty_candle_frame,
    interval_delta,
    to_candle_frame,
    validate_candle_frame,
)
from cp_market.dataset import (
    SOURCE_PRIORITY,
    default_data_dir,
    load_assets,
    load_candles,
    load_market_snapshots,
    merge_sources,
)
from cp_market.report import Gap, ImportReport, Rejection, RejectReason
from cp_market.simulator import MarketSimulator, SimulatedMarket, SimulatorConfig, simulate_market
from cp_market.validation import ValidationConfig, validate_candles

__all__ = [
    "CANDLE_COLUMNS",
    "CANDLE_DTYPES",
    "INTERVALS",
    "SOURCE_PRIORITY",
    "Candle",
    "CandleFlag",
    "CandleFrameError",
    "Gap",
    "ImportReport",
    "MarketSimulator",
    "RejectReason",
    "Rejection",
    "SimulatedMarket",
    "SimulatorConfig",
    "ValidationConfig",
    "candles_from_frame",
    "default_data_dir",
    "empty_candle_frame",
    "interval_delta",
    "load_assets",
    "load_candles",
    "load_market_snapshots",
    "merge_sources",
    "simulate_market",
    "to_candle_frame",
    "validate_candle_frame",
    "validate_candles",
]
