from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.labels import LONG, NO_TRADE, SHORT, BarrierPolicy, triple_barrier
from cp_models.regimes import REGIMES, RegimeRule, describe_regimes, next_period_regimes


def _bars(rows: list[tuple[float, float, float]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    idx = pd.date_range("2021-01-01", periods=len(rows), freq="D", tz="UTC")
    o = pd.DataFrame({"X": [r[0] for r in rows]}, index=idx)
    h = pd.DataFrame({"X": [r[1] for r in rows]}, index=idx)
    lo = pd.DataFrame({"X": [r[2] for r in rows]}, index=idx)
    return o, h, lo


def _label(rows, policy=None):
    o, h, lo = _bars(rows)
    atr = pd.DataFrame({"X": 1.0}, index=o.index)
    pol = policy or BarrierPolicy(k_target=2.0, k_stop=2.0, horizon_days=3, regime_scale={})
    return triple_barrier(o, h, lo, atr, 1.0, pol)


def test_up_move_is_long_down_move_short_flat_no_trade():
    # entry = next open = 100; barriers at 102 / 98
    up = _label([(100, 100, 100), (100, 101, 99.5), (101, 102.5, 100.5), (102, 102, 101), (101, 101, 101)])
    assert up.label["X"].iloc[0] == LONG
    assert up.long_win["X"].iloc[0] == 1 and up.short_win["X"].iloc[0] == 0
    assert up.bars_to_exit["X"].iloc[0] == 2
    down = _label([(100, 100, 100), (100, 100.5, 97.5), (98, 99, 97), (98, 98, 98), (98, 98, 98)])
    assert down.label["X"].iloc[0] == SHORT
    flat = _label([(100, 100, 100), (100, 101, 99), (100, 101, 99), (100, 101, 99), (100, 100, 100)])
    assert flat.label["X"].iloc[0] == NO_TRADE
    assert flat.bars_to_exit["X"].iloc[0] == 3


def test_bar_touching_both_barriers_counts_as_stop_for_both_sides():
    res = _label([(100, 100, 100), (100, 103, 97), (100, 100, 100), (100, 100, 100), (100, 100, 100)])
    assert res.label["X"].iloc[0] == NO_TRADE
    assert res.long_win["X"].iloc[0] == 0 and res.short_win["X"].iloc[0] == 0


def test_labels_are_unknown_without_the_full_horizon():
    res = _label([(100, 100, 100)] * 6)
    # day t needs bars t+1 .. t+3: the last three days have no complete horizon
    assert res.label["X"].iloc[:3].notna().all()
    assert res.label["X"].iloc[3:].isna().all()


def test_regime_scale_widens_barriers():
    o, h, lo = _bars([(100, 100, 100), (100, 102.5, 99.5), (102, 102, 101), (101, 101, 101), (101, 101, 101)])
    atr = pd.DataFrame({"X": 1.0}, index=o.index)
    pol = BarrierPolicy(k_target=2.0, k_stop=2.0, horizon_days=3, regime_scale={})
    narrow = triple_barrier(o, h, lo, atr, 1.0, pol)
    wide = triple_barrier(o, h, lo, atr, pd.Series(1.5, index=o.index), pol)
    assert narrow.label["X"].iloc[0] == LONG
    assert wide.label["X"].iloc[0] == NO_TRADE  # 102.5 < 100 + 3


def test_descriptive_regimes_and_next_period_label():
    idx = pd.date_range("2018-01-01", periods=900, freq="D", tz="UTC")
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, len(idx))
    drift = np.where(np.arange(len(idx)) < 600, 0.01, -0.01)
    close = pd.Series(100 * np.exp(np.cumsum(drift + noise)), index=idx)
    rule = RegimeRule()
    now = describe_regimes(close, rule)
    assert REGIMES[int(now.iloc[550])] == "bull"
    assert REGIMES[int(now.iloc[850])] == "bear"
    nxt = next_period_regimes(close, rule)
    # the label at t is the description of (t, t+30]: it equals the trailing description 30 days later
    pd.testing.assert_series_equal(nxt.iloc[:-30], now.shift(-30).iloc[:-30])
    assert nxt.iloc[-30:].isna().all()
    assert REGIMES[int(nxt.iloc[590])] == "bear"  # next window is already falling
