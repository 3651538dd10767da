"""Descriptive market regimes (bull | bear | sideways | volatile) of a price window.

A window of ``n`` days ending at ``t`` is described by its trend-to-noise ratio
``z = ln(P_t / P_{t-n}) / (sigma_daily * sqrt(n))`` and by how its realized volatility
ranks among all earlier windows (expanding percentile, point in time):

* ``volatile``: volatility percentile >= ``vol_pct`` and ``|z| < z_strong`` (violent, no clean trend)
* ``bull``: ``z >= z_trend``;  ``bear``: ``z <= -z_trend``;  otherwise ``sideways``.

The trailing description at ``t`` is a feature (and the persistence baseline); the
description of the *next* window ``(t, t+n]`` is the L1 training label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cp_models.features.indicators import expanding_percentile

REGIMES: tuple[str, ...] = ("bull", "bear", "sideways", "volatile")
RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high", "extreme")


@dataclass(frozen=True)
class RegimeRule:
    window: int = 30
    z_trend: float = 0.5
    z_strong: float = 1.0
    vol_pct: float = 0.8
    min_history: int = 180


def trend_to_noise(close: pd.Series, window: int) -> tuple[pd.Series, pd.Series]:
    """(z, sigma_daily) of the trailing ``window`` days."""
    r = np.log(close / close.shift(1))
    total = np.log(close / close.shift(window))
    sigma = r.rolling(window, min_periods=window).std()
    z = total / (sigma * np.sqrt(window))
    return z, sigma


def describe_regimes(close: pd.Series, rule: RegimeRule | None = None) -> pd.Series:
    """Trailing descriptive regime code (index into ``REGIMES``) per day; NaN when unknown."""
    rule = rule or RegimeRule()
    z, sigma = trend_to_noise(close, rule.window)
    pct = expanding_percentile(sigma, rule.min_history)
    code = pd.Series(
        np.where(z >= rule.z_trend, 0.0, np.where(z <= -rule.z_trend, 1.0, 2.0)), index=close.index
    )
    volatile = (pct >= rule.vol_pct) & (z.abs() < rule.z_strong)
    code = code.mask(volatile, 3.0)
    return code.where(z.notna() & pct.notna())


def next_period_regimes(close: pd.Series, rule: RegimeRule | None = None) -> pd.Series:
    """Label: the descriptive regime of the window ``(t, t + n]`` (uses the future)."""
    rule = rule or RegimeRule()
    return describe_regimes(close, rule).shift(-rule.window)
