from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cp_models.backtest.costs import CostModel
from cp_models.backtest.portfolio import run_target_weights
from cp_models.backtest.trades import net_trade_return, simulate_signal_trades, walk_trade
from cp_models.data import MarketData

NO_COSTS = CostModel(0.0, 0.0)


def _market(rows: list[tuple[float, float, float, float]], symbol: str = "X") -> MarketData:
    idx = pd.date_range("2022-01-01", periods=len(rows), freq="D", tz="UTC")
    frames = {
        f: pd.DataFrame({symbol: [r[i] for r in rows]}, index=idx)
        for i, f in enumerate(("open", "high", "low", "close"))
    }
    vol = pd.DataFrame({symbol: 1.0}, index=idx)
    return MarketData(
        **frames, volume=vol, quote_volume=vol, market=pd.DataFrame(index=idx), sectors={symbol: "layer1"}
    )


def test_walk_trade_exits_at_target_stop_gap_and_expiry():
    o = np.array([100, 100, 101, 95, 100.0])
    h = np.array([100, 101, 104, 96, 101.0])
    lo = np.array([100, 99, 100, 94, 99.0])
    c = np.array([100, 100.5, 102, 95, 100.0])
    assert walk_trade("long", 1, o, h, lo, c, 3.0, 3.0, 3)[1:] == (100.0, 103.0, "target")
    # gap: the open of bar 3 (95) is already below the stop (97) -> filled at the open
    assert walk_trade("long", 2, o, h, lo, c, 10.0, 4.0, 3)[1:] == (101.0, 95.0, "stop")
    # no touch in 2 bars -> exit at the open after the time limit
    exit_i, _, px, reason = walk_trade("short", 1, o, h, lo, c, 20.0, 20.0, 2)
    assert (exit_i, px, reason) == (3, 95.0, "expiry")


def test_costs_reduce_returns_on_both_sides():
    costs = CostModel(0.001, 0.0005)
    g, n = net_trade_return("long", 100.0, 110.0, costs)
    assert g == pytest.approx(0.10) and n < g
    g, n = net_trade_return("short", 100.0, 90.0, costs)
    assert g == pytest.approx(0.10) and n < g
    assert net_trade_return("long", 100.0, 100.0, costs)[1] == pytest.approx(
        -(1 - (0.9995 * 0.999) / (1.0005 * 1.001))
    )


def test_signal_trades_and_portfolio_agree_for_a_single_signal():
    data = _market(
        [
            (100, 100, 100, 100),
            (100, 101, 99, 100),
            (100, 106, 100, 105),
            (105, 106, 104, 105),
            (105, 106, 104, 105),
        ]
    )
    sig = pd.DataFrame(
        {
            "date": [data.index[0]],
            "symbol": ["X"],
            "side": ["long"],
            "probability": [0.8],
            "agreement": [0.9],
            "target_dist": [5.0],
            "stop_dist": [5.0],
            "horizon_days": [3],
            "weight": [0.5],
            "exposure": [1.0],
        }
    )
    costs = CostModel(0.001, 0.0005)
    trades = simulate_signal_trades(sig, data, costs)
    assert trades["exit_reason"].tolist() == ["target"] and trades["exit_price"].iloc[0] == 105.0


def test_buy_and_hold_tracks_the_price_minus_one_entry_cost():
    closes = [100, 110, 121, 100, 130.0]
    data = _market([(c, c, c, c) for c in closes])
    w = pd.DataFrame({"X": [1.0]}, index=[data.index[0]])
    res = run_target_weights(w, data, data.index[1], data.index[-1], NO_COSTS)
    assert float((1 + res.returns).prod()) == pytest.approx(130 / 110)  # filled at the next open
    costly = run_target_weights(w, data, data.index[1], data.index[-1], CostModel(0.001, 0.0))
    assert float((1 + costly.returns).prod()) == pytest.approx(130 / 110 * 0.999)
    assert res.trades == 1 and (res.exposure > 0.99).all()


def test_asset_without_data_is_sold_and_becomes_cash():
    data = _market([(100, 100, 100, 100), (100, 100, 100, 110), (np.nan,) * 4, (np.nan,) * 4])
    w = pd.DataFrame({"X": [1.0]}, index=[data.index[0]])
    res = run_target_weights(w, data, data.index[1], data.index[-1], NO_COSTS)
    assert float((1 + res.returns).prod()) == pytest.approx(1.10)
    assert res.exposure.iloc[-1] == 0.0
