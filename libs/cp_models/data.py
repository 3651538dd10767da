"""The market data the models see: wide daily frames (dates x assets) plus market-wide series.

``MarketData`` is built from the frames of ``cp_market.dataset`` (or its simulator) and is
the only input of the feature code. ``truncate(t)`` gives the history an observer had at
the close of day ``t``; the lookahead tests compare features on truncated and full data.

Time convention: a daily bar is stamped with its open time (00:00 UTC) and is known at its
close, so everything indexed at day ``t`` is available at the end of day ``t``. Decisions
made at the close of ``t`` are filled at the open of ``t + 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PRICE_FIELDS = ("open", "high", "low", "close", "volume", "quote_volume")
MARKET_FIELDS = ("total_market_cap", "btc_dominance", "stablecoin_dominance", "fear_greed")
NON_TRADABLE_SECTORS = frozenset({"stablecoin", "wrapped_asset"})
BENCHMARK = "BTC"
# Market snapshots may miss a day; carry the last value forward at most this many days.
MARKET_FFILL_LIMIT = 3


def _utc_index(idx: pd.Index) -> pd.DatetimeIndex:
    out = pd.DatetimeIndex(pd.to_datetime(idx, utc=True))
    return out.normalize()


def to_utc_timestamp(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class MarketData:
    """Daily OHLCV per asset (wide frames on one UTC calendar) and market-wide series."""

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    quote_volume: pd.DataFrame
    market: pd.DataFrame
    sectors: Mapping[str, str] = field(default_factory=dict)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index

    @property
    def symbols(self) -> list[str]:
        return list(self.close.columns)

    @property
    def tradable(self) -> list[str]:
        return [s for s in self.symbols if self.sectors.get(s, "other") not in NON_TRADABLE_SECTORS]

    def sector_of(self, symbol: str) -> str:
        return self.sectors.get(symbol, "other")

    def truncate(self, end: object) -> MarketData:
        """History as known at the close of ``end`` (inclusive)."""
        t = to_utc_timestamp(end)
        cut = {f: getattr(self, f).loc[:t] for f in PRICE_FIELDS}
        return MarketData(**cut, market=self.market.loc[:t], sectors=dict(self.sectors))

    def restrict(self, symbols: list[str]) -> MarketData:
        cols = [s for s in symbols if s in self.close.columns]
        sub = {f: getattr(self, f)[cols] for f in PRICE_FIELDS}
        return MarketData(**sub, market=self.market, sectors={s: self.sector_of(s) for s in cols})

    @classmethod
    def from_frames(
        cls,
        candles: pd.DataFrame,
        market: pd.DataFrame | None = None,
        assets: pd.DataFrame | None = None,
    ) -> MarketData:
        """Build from a tidy candle frame (symbol, open_time, OHLCV[, quote_volume]), a daily
        market snapshot frame and an asset table (symbol, sector)."""
        c = candles.copy()
        c["date"] = _utc_index(pd.Index(c["open_time"]))
        c = c.sort_values(["symbol", "date"]).drop_duplicates(["symbol", "date"], keep="last")
        if "quote_volume" not in c.columns or c["quote_volume"].isna().all():
            c["quote_volume"] = c["close"] * c["volume"]
        else:
            c["quote_volume"] = c["quote_volume"].fillna(c["close"] * c["volume"])
        c["symbol"] = c["symbol"].astype(str)
        wide = {
            f: c.pivot(index="date", columns="symbol", values=f).astype("float64").sort_index()
            for f in PRICE_FIELDS
        }
        calendar = pd.date_range(wide["close"].index.min(), wide["close"].index.max(), freq="D", tz="UTC")
        for f in PRICE_FIELDS:
            w = wide[f].reindex(calendar)
            w.columns = pd.Index([str(x) for x in w.columns], name="symbol")
            w.index.name = "date"
            wide[f] = w
        mkt = _market_frame(market, calendar)
        sectors = _sector_map(assets, list(wide["close"].columns))
        return cls(**wide, market=mkt, sectors=sectors)


def _market_frame(market: pd.DataFrame | None, calendar: pd.DatetimeIndex) -> pd.DataFrame:
    out = pd.DataFrame(index=calendar, columns=list(MARKET_FIELDS), dtype="float64")
    out.index.name = "date"
    if market is None or len(market) == 0:
        return out
    m = market.copy()
    m.index = _utc_index(m.index)
    m = m[~m.index.duplicated(keep="last")].sort_index()
    if "stale_total_market_cap" in m.columns:
        # the source forward-filled those days; their market cap and dominance are not real
        stale = m["stale_total_market_cap"].fillna(False).astype(bool)
        for col in ("total_market_cap", "btc_dominance", "usdt_market_cap", "stablecoin_dominance"):
            if col in m.columns:
                m[col] = m[col].where(~stale)
    if "stablecoin_dominance" not in m.columns and {"usdt_market_cap", "total_market_cap"} <= set(m.columns):
        m["stablecoin_dominance"] = 100.0 * m["usdt_market_cap"] / m["total_market_cap"]
    for col in MARKET_FIELDS:
        if col in m.columns:
            s = pd.to_numeric(m[col], errors="coerce").astype("float64")
            out[col] = s.reindex(calendar.union(s.index)).ffill(limit=MARKET_FFILL_LIMIT).reindex(calendar)
    return out


def _sector_map(assets: pd.DataFrame | None, symbols: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    if assets is not None and len(assets):
        col = "sector" if "sector" in assets.columns else "primary_sector"
        for sym, sec in zip(assets["symbol"].astype(str), assets[col], strict=False):
            if isinstance(sec, str) and sec:
                mapping[sym] = sec
    return {s: mapping.get(s, "other") for s in symbols}


def load_market_data(
    data_dir: str | Path | None = None,
    *,
    start: object | None = None,
    end: object | None = None,
    symbols: list[str] | None = None,
    sources: list[str] | None = None,
) -> MarketData:
    """Load the shared daily data through ``cp_market`` (never reads rows after ``end``)."""
    from cp_market import dataset

    root = Path(data_dir) if data_dir is not None else dataset.default_data_dir()
    if root is None:
        raise FileNotFoundError("no market data directory: pass data_dir or set CP_DATA_DIR")
    candles, _report = dataset.load_candles(
        root, interval="1d", symbols=symbols, start=start, end=end, sources=sources
    )
    market = dataset.load_market_snapshots(root, start=start, end=end)
    assets = dataset.load_assets(root)
    data = MarketData.from_frames(candles, market, assets)
    if end is not None:
        data = data.truncate(end)
    return data


def simulated_market_data(seed: int = 7, days: int = 6 * 365, start: str = "2017-01-01") -> MarketData:
    """A seeded synthetic daily market from ``cp_market.simulator`` in the same shapes."""
    from cp_market import simulator

    sim = simulator.simulate_market(seed=seed, interval="1d", periods=days, start=start)
    return MarketData.from_frames(sim.candles, sim.snapshots, sim.assets)
