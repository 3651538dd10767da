"""Regression tests for the bugs and evaluation defects found in the models review."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cp_market.importers.fear_greed import label_for
from cp_models.book import BookVariant, DayInputs, universe
from cp_models.config import BookConfig, L1Config, MetaConfig
from cp_models.data import MarketData
from cp_models.evaluation.layer_metrics import training_base_rate_series
from cp_models.evaluation.statistics import psr_against, sharpe_difference_ci, stationary_indices
from cp_models.evaluation.trials import TrialLog
from cp_models.evaluation.universe import data_end_reasons
from cp_models.layers.base import fill_unobserved
from cp_models.layers.l1_macro import L1_FEATURES, MacroRegimeModel, _fg_label
from cp_models.layers.l4_meta import choose_gate
from cp_models.layers.l4_timing import L4_STATIC, static_scaler
from cp_models.validation import Fold


def test_fear_greed_labels_have_one_definition():
    for v in range(101):
        assert _fg_label(float(v)) == label_for(float(v))
    assert _fg_label(45.0) == "Neutral" and _fg_label(75.0) == "Extreme Greed"
    assert _fg_label(float("nan")) is None


def test_l4_static_input_missing_in_the_fit_window_is_not_fed_raw():
    rng = np.random.default_rng(0)
    fit = rng.normal(size=(200, len(L4_STATIC)))
    fg = L4_STATIC.index("fear_greed")
    fit[:, fg] = np.nan  # fold 0: no Fear & Greed before 2018
    mean, std, used = static_scaler(fit)
    assert not used[fg] and used.sum() == len(L4_STATIC) - 1
    test = np.where(np.arange(len(L4_STATIC)) == fg, 53.0, 0.0)
    z = (test - mean) / std
    z[~used] = 0.0
    assert z[fg] == 0.0  # before the fix the raw 53 reached the network
    np.testing.assert_allclose(mean[used], np.nanmean(fit[:, used], axis=0))


def test_l1_drops_mostly_missing_features_instead_of_imputing_and_scaling_them():
    rng = np.random.default_rng(1)
    idx = pd.date_range("2015-01-01", periods=400, freq="D", tz="UTC")
    X = pd.DataFrame(rng.normal(size=(400, len(L1_FEATURES))), index=idx, columns=L1_FEATURES)
    X.iloc[:340, L1_FEATURES.index("fear_greed")] = np.nan  # 85 % missing
    y = pd.Series(rng.integers(0, 4, size=400), index=idx)
    model = MacroRegimeModel.fit(X, y, L1Config())
    assert "fear_greed" not in model.features and "btc_mom_30d" in model.features


def test_a_run_without_trades_still_counts_as_a_trial(tmp_path):
    log = TrialLog(tmp_path / "t.jsonl")
    w = ["2019-01-01", "2023-12-31"]
    log.append({"fingerprint": "a", "window": w, "per_period_sharpe": None})
    log.append({"fingerprint": "b", "window": w, "per_period_sharpe": float("nan")})
    log.append({"fingerprint": "c", "window": w, "per_period_sharpe": 0.05})
    log.append({"fingerprint": "d", "window": ["2016-01-01", "2018-12-31"], "per_period_sharpe": 0.1})
    assert log.sharpe_by_configuration(w) == {"a": 0.0, "b": 0.0, "c": 0.05}
    assert json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])["fingerprint"] == "a"


def test_l2_rotation_baseline_uses_the_training_base_rate_not_the_test_period():
    idx = pd.date_range("2020-01-01", periods=20, freq="D", tz="UTC")

    class F:
        def __init__(self, s: int, e: int, rate: float) -> None:
            self.fold = Fold(0, None, idx[s], idx[e])
            self.model_meta = {"l2": {"rotation_base_rate": rate}}

    base = training_base_rate_series(idx, [F(0, 9, 0.2), F(10, 19, 0.4)])
    assert base.iloc[:10].eq(0.2).all() and base.iloc[10:].eq(0.4).all()


def _two_coin_market(days: int = 300) -> MarketData:
    idx = pd.date_range("2021-01-01", periods=days, freq="D", tz="UTC")
    close = pd.DataFrame(
        {"OLD": 10.0, "NEW": 20.0, "GONE": 5.0, "CUT1": 1.0, "CUT2": 1.0, "CUT3": 1.0}, index=idx
    )
    close.loc[idx[:200], "NEW"] = np.nan  # listed late
    close.loc[idx[150:], "GONE"] = np.nan  # delisted alone
    close.loc[idx[250:], ["CUT1", "CUT2", "CUT3"]] = np.nan  # a source file that ends
    vol = close * 0 + 1.0
    frames = {f: close for f in ("open", "high", "low", "close")}
    sectors = {s: "layer1" for s in close.columns}
    return MarketData(**frames, volume=vol, quote_volume=vol, market=pd.DataFrame(index=idx), sectors=sectors)


def test_source_truncation_is_told_apart_from_delisting():
    data = _two_coin_market()
    reasons = data_end_reasons(data, data.index[-1])
    assert reasons["OLD"]["reason"] == "trading at the end"
    assert reasons["GONE"]["reason"] == "delisted"
    assert {reasons[c]["reason"] for c in ("CUT1", "CUT2", "CUT3")} == {"source ends"}


def test_universe_is_point_in_time_by_history_and_trailing_liquidity():
    rows = pd.DataFrame(
        {
            "history_days": [400, 100, 400, 400],
            "close": [1.0, 1.0, np.nan, 1.0],
            "liquidity_30d": [5.0, 9.0, 9.0, 7.0],
        },
        index=["A", "YOUNG", "NOPRICE", "B"],
    )
    inputs = DayInputs(pd.Timestamp("2022-01-02", tz="UTC"), rows, pd.Series(dtype=float), pd.DataFrame())
    u = universe(inputs, BookConfig(universe_size=1), BookVariant())
    assert list(u.index) == ["B"]  # the most liquid coin that has history and a price that day
    u = universe(inputs, BookConfig(), BookVariant(symbols=frozenset({"A"})))
    assert list(u.index) == ["A"]


def test_psr_is_reported_against_btc_sharpe_as_well_as_zero():
    rng = np.random.default_rng(2)
    idx = pd.date_range("2019-01-01", periods=730, freq="D", tz="UTC")
    strat = pd.Series(rng.normal(0.001, 0.02, 730), index=idx)
    btc = strat + 0.002  # same risk, higher mean: a higher Sharpe to beat
    psr = psr_against(strat, btc)
    assert psr["psr_vs_benchmark_sharpe"] < 0.5 < psr["psr_vs_0"]
    boot = stationary_indices(730, 200, 20, np.random.default_rng(3))
    d = sharpe_difference_ci(strat, strat, boot)
    assert d["difference"] == pytest.approx(0.0) and d["ci_low"] == pytest.approx(0.0)


def test_l4_gate_is_chosen_on_training_predictions_or_switched_off():
    cfg = MetaConfig(min_passes=50)
    rng = np.random.default_rng(4)
    p = rng.uniform(0.3, 0.7, 5000)
    net = np.where(p > 0.6, 0.02, -0.02) + rng.normal(0, 0.01, 5000)
    tau, table = choose_gate(p, net, cfg)
    assert len(table) == len(cfg.thresholds) and table[0]["mean_net"] < 0
    first_ok = next(r for r in table if r["passes"] >= cfg.min_passes and r["lower_bound"] > 0)
    assert tau == first_ok["tau"] and 0.5 < tau < 0.6
    tau, _ = choose_gate(p, -np.abs(net), cfg)
    assert tau is None  # no threshold with a positive lower bound: L4 is off


def test_a_feature_never_observed_in_a_training_window_does_not_break_the_tree_models():
    X = np.column_stack([np.arange(10.0), np.full(10, np.nan), [np.nan, 1.0] * 5])
    out = fill_unobserved(X)
    assert (out[:, 1] == 0.0).all() and np.isnan(out[0, 2]) and out[1, 2] == 1.0
