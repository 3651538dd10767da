"""Every feature is point in time: recomputing on history truncated at t gives exactly the
value computed on the full history. A deliberately leaking feature must be caught."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cp_models.data import MarketData
from cp_models.features import ALL_FEATURE_DOCS, feature_groups
from cp_models.features.lookahead import check_point_in_time, sample_times


@pytest.fixture(scope="module")
def small(sim_data: MarketData) -> MarketData:
    keep = sim_data.symbols[:14] + [s for s in ("BTC", "ETH") if s not in sim_data.symbols[:14]]
    return sim_data.restrict(keep)


@pytest.mark.parametrize("group", ["market", "sector", "asset", "sequence"])
def test_every_feature_of_each_group_is_point_in_time(small: MarketData, group: str):
    compute = feature_groups()[group]
    times = sample_times(small, n=6, seed=1)
    report = check_point_in_time(compute, small, times)
    assert report.ok, [(v.feature, str(v.time), v.max_abs_diff) for v in report.violations[:10]]
    assert set(report.checked_features) == set(ALL_FEATURE_DOCS[group])
    assert report.compared_values > 0


def test_every_feature_is_documented_and_computed(small: MarketData):
    for group, compute in feature_groups().items():
        computed = set(compute(small))
        assert computed == set(ALL_FEATURE_DOCS[group]), group
        assert all(len(doc) > 10 for doc in ALL_FEATURE_DOCS[group].values())


def _leaky_features(d: MarketData) -> dict[str, pd.DataFrame]:
    c = d.close
    return {
        "honest_sma_10": c.rolling(10).mean(),
        "centered_sma_10": c.rolling(10, center=True).mean(),  # uses 5 future days
        "next_day_return": np.log(c.shift(-1) / c),  # classic label leak
        "full_sample_zscore": (c - c.mean()) / c.std(),  # normalizes with future statistics
    }


def test_deliberately_leaking_features_are_caught(small: MarketData):
    report = check_point_in_time(_leaky_features, small, sample_times(small, n=5, seed=2))
    assert not report.ok
    assert report.leaking_features() == {"centered_sma_10", "next_day_return", "full_sample_zscore"}


def test_harness_catches_a_single_future_value(small: MarketData):
    """A feature that only peeks one day ahead, on one asset, is still caught."""

    def one_peek(d: MarketData) -> dict[str, pd.DataFrame]:
        f = d.close.copy()
        sym = d.symbols[0]
        f[sym] = d.close[sym].shift(-1).fillna(0.0)
        return {"peek": f}

    report = check_point_in_time(one_peek, small, sample_times(small, n=3, seed=3))
    assert report.leaking_features() == {"peek"}
    assert all(v.columns == (small.symbols[0],) for v in report.violations)


def test_real_data_slice_is_point_in_time():
    from cp_market import dataset

    root = dataset.default_data_dir()
    if root is None:
        pytest.skip("shared data not available")
    from cp_models.data import load_market_data

    data = load_market_data(
        root, start="2019-06-01", end="2021-06-30", symbols=["BTC", "ETH", "LINK", "DOGE", "XRP"]
    )
    times = sample_times(data, n=4, seed=4)
    for group, compute in feature_groups().items():
        report = check_point_in_time(compute, data, times)
        assert report.ok, (group, [(v.feature, str(v.time)) for v in report.violations[:5]])
