"""Simulator: determinism, loader-compatible shapes and basic realism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kurtosis

from cp_market.candles import interval_delta, validate_candle_frame
from cp_market.dataset import SNAPSHOT_COLUMNS
from cp_market.importers.metadata import ASSET_COLUMNS, SECTORS
from cp_market.simulator import REGIME_NAMES, MarketSimulator, SimulatedMarket


@pytest.fixture(scope="module")
def daily() -> SimulatedMarket:
    return MarketSimulator(seed=11).simulate("1d", periods=4 * 365)


def _returns(market: SimulatedMarket) -> pd.DataFrame:
    closes = market.candles.pivot(index="open_time", columns="symbol", values="close")
    return np.log(closes).diff().dropna()


def test_same_seed_same_market(daily: SimulatedMarket) -> None:
    again = MarketSimulator(seed=11).simulate("1d", periods=4 * 365)
    pd.testing.assert_frame_equal(daily.candles, again.candles)
    pd.testing.assert_frame_equal(daily.snapshots, again.snapshots)
    pd.testing.assert_series_equal(daily.regimes, again.regimes)
    other = MarketSimulator(seed=12).simulate("1d", periods=4 * 365)
    assert not np.allclose(other.candles["close"], daily.candles["close"])


def test_shapes_match_the_loaders(daily: SimulatedMarket) -> None:
    validate_candle_frame(daily.candles)  # includes OHLC consistency and positive prices
    assert set(daily.candles["source"]) == {"synthetic"}
    assert 30 <= daily.candles["symbol"].nunique() <= 50
    assert tuple(daily.snapshots.columns) == SNAPSHOT_COLUMNS
    assert str(daily.snapshots.index.tz) == "UTC" and len(daily.snapshots) == 4 * 365
    assert list(daily.assets.columns) == ASSET_COLUMNS
    assert set(daily.assets["sector"]) <= set(SECTORS) and daily.assets["sector"].nunique() >= 15
    assert sorted(daily.assets["market_cap_rank"]) == list(range(1, len(daily.assets) + 1))


@pytest.mark.parametrize(("interval", "periods"), [("4h", 6 * 60), ("1h", 24 * 20)])
def test_intraday_intervals(interval: str, periods: int) -> None:
    market = MarketSimulator(seed=3).simulate(interval, periods=periods)
    validate_candle_frame(market.candles)
    steps = market.candles.groupby("symbol")["open_time"].diff().dropna().unique()
    assert list(steps) == [interval_delta(interval)]
    assert len(market.snapshots) == periods * interval_delta(interval) / pd.Timedelta(days=1)


def test_regimes_persist_and_all_occur(daily: SimulatedMarket) -> None:
    regimes = daily.regimes
    assert set(regimes.unique()) <= set(REGIME_NAMES)
    runs = (regimes != regimes.shift()).sum()
    assert len(regimes) / runs > 10  # mean regime spell longer than 10 days
    long_run = MarketSimulator(seed=5).simulate("1d", periods=8 * 365).regimes
    assert set(long_run.unique()) == set(REGIME_NAMES)


def test_regimes_drive_returns(daily: SimulatedMarket) -> None:
    btc = _returns(daily)["BTC"]
    by_regime = btc.groupby(daily.regimes.reindex(btc.index)).agg(["mean", "std"])
    assert by_regime.loc["bull", "mean"] > by_regime.loc["bear", "mean"]
    assert by_regime.loc["volatile", "std"] > by_regime.loc["sideways", "std"]


def test_fat_tails_and_volume(daily: SimulatedMarket) -> None:
    rets = _returns(daily)
    for sym in ("BTC", "ETH", "SOL"):
        assert kurtosis(rets[sym], fisher=False) > 3
    eth = daily.candles[daily.candles["symbol"] == "ETH"].set_index("open_time")
    corr = np.corrcoef(rets["ETH"].abs(), np.log(eth["quote_volume"].reindex(rets.index)))[0, 1]
    assert corr > 0.3
    # alts co-move with the market
    assert rets["ETH"].corr(rets["BTC"]) > 0.5


def test_stablecoins_stay_pegged(daily: SimulatedMarket) -> None:
    stable = daily.candles[daily.candles["symbol"].isin(["USDT", "USDC"])]
    assert len(stable) == 2 * 4 * 365
    for col in ("open", "high", "low", "close"):
        assert stable[col].between(0.98, 1.02).all()


def test_snapshots_are_consistent(daily: SimulatedMarket) -> None:
    s = daily.snapshots
    assert s["btc_dominance"].between(5, 95).all()
    assert s["fear_greed"].between(0, 100).all() and s["fear_greed"].std() > 5
    btc_cap = daily.candles[daily.candles["symbol"] == "BTC"].set_index("open_time")["market_cap"]
    np.testing.assert_allclose(
        s["btc_dominance"], btc_cap.to_numpy() / s["total_market_cap"].to_numpy() * 100
    )
    # greed follows rallies: F&G correlates with the 30-day market return
    mom = np.log(s["total_market_cap"]).diff(30)
    assert s["fear_greed"].corr(mom) > 0.3


def test_stream_matches_batch() -> None:
    sim = MarketSimulator(seed=9)
    batch = sim.simulate("1h", periods=30)
    steps = list(sim.stream("1h", steps=30))
    assert [s.regime for s in steps] == batch.regimes.tolist()
    streamed = pd.DataFrame([c.to_dict() for s in steps for c in s.candles])
    merged = batch.candles.merge(streamed, on=["symbol", "open_time"], suffixes=("", "_s"))
    assert len(merged) == len(batch.candles)
    np.testing.assert_allclose(merged["close"], merged["close_s"])
    assert all(c.is_closed for s in steps for c in s.candles)
