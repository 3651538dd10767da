"""Stochastic, Williams %R and CCI: values worked out by hand, and point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cp_models.features import indicators as ind


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    index = pd.date_range("2023-01-01", periods=6, freq="D", tz="UTC")
    high = pd.DataFrame({"A": [10.0, 12.0, 11.0, 13.0, 14.0, 12.0]}, index=index)
    low = pd.DataFrame({"A": [8.0, 9.0, 9.0, 10.0, 11.0, 10.0]}, index=index)
    close = pd.DataFrame({"A": [9.0, 11.0, 10.0, 12.0, 13.0, 11.0]}, index=index)
    return high, low, close


def test_stochastic_k_and_d() -> None:
    high, low, close = _frames()
    k, d = ind.stochastic(high, low, close, window=3, smooth=2)
    # row 2: highest high 12, lowest low 8, close 10 -> 50; row 3: 13, 9, 12 -> 75
    assert k["A"].iloc[:2].isna().all()
    assert k["A"].iloc[2] == pytest.approx(50.0)
    assert k["A"].iloc[3] == pytest.approx(75.0)
    assert d["A"].iloc[3] == pytest.approx(62.5)


def test_williams_r_mirrors_stochastic_k() -> None:
    high, low, close = _frames()
    k, _ = ind.stochastic(high, low, close, window=3)
    r = ind.williams_r(high, low, close, window=3)
    assert r["A"].iloc[2] == pytest.approx(-50.0)
    np.testing.assert_allclose(r["A"].dropna(), (k["A"] - 100.0).dropna())


def test_cci_by_hand() -> None:
    high, low, close = _frames()
    value = ind.cci(high, low, close, window=3)["A"].iloc[2]
    typical = np.array([9.0, 32.0 / 3.0, 10.0])
    mean_dev = np.abs(typical - typical.mean()).mean()
    assert value == pytest.approx((typical[-1] - typical.mean()) / (0.015 * mean_dev))


def test_a_flat_window_gives_no_value() -> None:
    index = pd.date_range("2023-01-01", periods=4, freq="D", tz="UTC")
    flat = pd.DataFrame({"A": [5.0] * 4}, index=index)
    assert ind.stochastic(flat, flat, flat, window=3)[0]["A"].isna().all()
    assert ind.williams_r(flat, flat, flat, window=3)["A"].isna().all()
    assert ind.cci(flat, flat, flat, window=3)["A"].isna().all()


def test_values_only_look_backwards() -> None:
    rng = np.random.default_rng(3)
    index = pd.date_range("2023-01-01", periods=80, freq="D", tz="UTC")
    close = pd.DataFrame({"A": 100.0 * np.exp(np.cumsum(rng.normal(0, 0.02, 80)))}, index=index)
    high, low = close * 1.01, close * 0.99
    cut = 50
    for full, part in (
        (ind.stochastic(high, low, close)[1], ind.stochastic(high[:cut], low[:cut], close[:cut])[1]),
        (ind.williams_r(high, low, close), ind.williams_r(high[:cut], low[:cut], close[:cut])),
        (ind.cci(high, low, close), ind.cci(high[:cut], low[:cut], close[:cut])),
    ):
        np.testing.assert_allclose(full.iloc[:cut].to_numpy(), part.to_numpy())
