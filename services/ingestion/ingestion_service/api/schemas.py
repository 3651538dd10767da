"""Response bodies of ``/api/v1/market`` (the ``data`` of the envelope)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CandleOut(BaseModel):
    open_time: datetime
    close_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None
    market_cap: float | None
    quote: str
    source: str
    quality_flags: list[str]


class CandlesOut(BaseModel):
    symbol: str
    interval: str
    count: int
    #: Older candles of the range were left out (raise ``limit`` or narrow the range).
    truncated: bool
    candles: list[CandleOut]


class QuoteOut(BaseModel):
    as_of: datetime | None
    price: float | None
    change_24h_pct: float | None
    volume_24h: float | None
    market_cap: float | None
    quote: str | None


class AssetOut(BaseModel):
    symbol: str
    name: str
    sector: str | None
    market_cap_rank: int | None
    quote: QuoteOut


class CoverageOut(BaseModel):
    interval: str
    candles: int
    first_open_time: datetime
    last_open_time: datetime


class AssetDetailOut(AssetOut):
    coverage: list[CoverageOut]


class AssetsOut(BaseModel):
    count: int
    assets: list[AssetOut]


class FearGreedOut(BaseModel):
    value: float | None
    label: str | None


class OverviewOut(BaseModel):
    as_of: datetime
    total_market_cap: float | None
    market_cap_change_24h_pct: float | None
    total_volume_24h: float | None
    btc_dominance: float | None
    eth_dominance: float | None
    stablecoin_dominance: float | None
    fear_greed: FearGreedOut
    top_assets: list[AssetOut]
    source: str


class SnapshotOut(BaseModel):
    taken_at: datetime
    total_market_cap: float | None
    total_volume_24h: float | None
    btc_dominance: float | None
    eth_dominance: float | None
    stablecoin_dominance: float | None
    fear_greed: float | None
    fear_greed_label: str | None
    source: str


class SnapshotsOut(BaseModel):
    count: int
    snapshots: list[SnapshotOut]


class SectorOut(BaseModel):
    sector: str
    name: str
    asset_count: int
    symbols: list[str]


class SectorsOut(BaseModel):
    sectors: list[SectorOut]
