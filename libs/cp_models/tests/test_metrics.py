from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cp_models.backtest import metrics as m


def _series(values) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2020-01-01", periods=len(values), freq="D", tz="UTC"))


def test_sharpe_sortino_and_drawdown_of_known_series():
    r = _series([0.01, -0.01, 0.02, -0.02, 0.03])
    expected = np.mean(r) / np.std(r, ddof=1) * math.sqrt(365)
    assert m.sharpe(r) == pytest.approx(expected)
    eq = _series([1.0, 1.2, 0.9, 1.5, 0.75])
    assert m.max_drawdown(eq) == pytest.approx(0.5)
    assert m.sortino(_series([0.01, 0.02, 0.03])) != m.sortino(_series([0.01, -0.02, 0.03]))


def test_performance_summary_total_return_and_cagr():
    r = _series([0.0] * 364 + [0.21])
    s = m.performance_summary(r)
    assert s["total_return"] == pytest.approx(0.21)
    assert s["cagr"] == pytest.approx(0.21, rel=1e-6)
    assert s["days"] == 365


def test_psr_rises_with_sharpe_and_dsr_penalizes_many_trials():
    rng = np.random.default_rng(0)
    good = _series(rng.normal(0.002, 0.02, 1000))
    bad = _series(rng.normal(-0.001, 0.02, 1000))
    assert m.probabilistic_sharpe(good) > 0.9
    assert m.probabilistic_sharpe(bad) < 0.5
    one = m.deflated_sharpe(good, [m.per_period_sharpe(good)])
    many = m.deflated_sharpe(good, list(rng.normal(0.0, 0.05, 50)))
    assert one == pytest.approx(m.probabilistic_sharpe(good))
    assert many < one


def test_trade_metrics():
    r = np.array([0.1, -0.05, 0.2, -0.05])
    assert m.profit_factor(r) == pytest.approx(3.0)
    assert m.sqn(np.array([1.0, 1.0, 1.0])) != m.sqn(np.array([1.0, -1.0, 2.0]))
    trades = pd.DataFrame(
        {
            "net_return": r,
            "r_multiple": r / 0.05,
            "exit_reason": ["target", "stop", "target", "expiry"],
            "bars_held": [1, 2, 3, 4],
            "side": ["long"] * 4,
        }
    )
    s = m.trade_summary(trades)
    assert s["hit_rate"] == 0.5 and s["target_before_stop_share"] == pytest.approx(2 / 3)
    assert s["expectancy"] == pytest.approx(0.05)


def test_brier_and_reliability():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert m.brier_multiclass(probs, np.array([0, 1])) == 0.0
    assert m.brier_multiclass(probs, np.array([1, 0])) == pytest.approx(2.0)
    table = m.reliability_table(np.array([0.05, 0.95, 0.95]), np.array([0, 1, 0]))
    assert table[0]["count"] == 1 and table[-1]["observed_frequency"] == pytest.approx(0.5)
    assert m.expected_calibration_error(np.array([0.9, 0.9]), np.array([1, 1])) == pytest.approx(0.1)


def test_information_coefficients_and_precision():
    idx = pd.date_range("2021-01-01", periods=3, freq="D", tz="UTC")
    realized = pd.DataFrame(np.arange(18, dtype=float).reshape(3, 6), index=idx, columns=list("ABCDEF"))
    assert (m.daily_ic(realized, realized) == 1.0).all()
    assert m.daily_ic(-realized, realized, "pearson").to_numpy() == pytest.approx([-1.0] * 3)
    prec, base = m.precision_at_k(realized, realized, 2)
    assert prec == 1.0 and base == pytest.approx(2 / 6)
    summary = m.ic_summary(
        pd.Series([0.1, 0.0, 0.2, 0.1], index=idx.append(idx[-1:] + pd.Timedelta(days=1))), 1
    )
    assert summary["mean"] == pytest.approx(0.1) and summary["positive_share"] == 0.75
