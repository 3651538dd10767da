"""Causal technical indicators on wide frames (index: dates, columns: assets).

Every function only looks backwards: the value at row ``t`` depends on rows ``<= t``.
Recursive smoothers use ``adjust=False`` so a series truncated at ``t`` yields exactly the
same value at ``t`` as the full series (checked by the lookahead tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ANNUALIZATION_DAYS = 365.0


def log_returns(close: pd.DataFrame, periods: int = 1) -> pd.DataFrame:
    """Log return over ``periods`` rows: ln(close_t / close_{t-periods})."""
    return np.log(close / close.shift(periods))


def sma(x: pd.DataFrame, window: int, min_periods: int | None = None) -> pd.DataFrame:
    return x.rolling(window, min_periods=min_periods or window).mean()


def ema(x: pd.DataFrame, span: int) -> pd.DataFrame:
    return x.ewm(span=span, adjust=False, min_periods=span).mean()


def wilder(x: pd.DataFrame, window: int) -> pd.DataFrame:
    """Wilder's smoothing (RMA), alpha = 1 / window."""
    return x.ewm(alpha=1.0 / window, adjust=False, min_periods=window).mean()


def realized_vol(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """Annualized standard deviation of daily log returns over ``window`` rows."""
    r = log_returns(close)
    return r.rolling(window, min_periods=window).std() * np.sqrt(ANNUALIZATION_DAYS)


def rsi(close: pd.DataFrame, window: int = 14) -> pd.DataFrame:
    """Wilder's Relative Strength Index in [0, 100]."""
    delta = close.diff()
    gain = wilder(delta.clip(lower=0.0), window)
    loss = wilder((-delta).clip(lower=0.0), window)
    rs = gain / loss.replace(0.0, np.nan)
    out = 100.0 - 100.0 / (1.0 + rs)
    # no losses in the window: RSI is 100 by definition
    return out.mask(loss.eq(0.0) & gain.notna(), 100.0)


def macd(
    close: pd.DataFrame, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """MACD line, signal line and histogram (price units)."""
    line = ema(close, fast) - ema(close, slow)
    sig = line.ewm(span=signal, adjust=False, min_periods=signal).mean()
    return line, sig, line - sig


def bollinger(
    close: pd.DataFrame, window: int = 20, n_std: float = 2.0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Lower band, middle band (SMA) and upper band."""
    mid = sma(close, window)
    sd = close.rolling(window, min_periods=window).std(ddof=0)
    return mid - n_std * sd, mid, mid + n_std * sd


def true_range(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame) -> pd.DataFrame:
    prev = close.shift(1)
    hl = high - low
    hc = (high - prev).abs()
    lc = (low - prev).abs()
    return np.maximum(np.maximum(hl, hc.fillna(hl)), lc.fillna(hl))


def atr(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, window: int = 14) -> pd.DataFrame:
    """Average True Range (Wilder), price units."""
    return wilder(true_range(high, low, close), window)


def drawdown(close: pd.DataFrame, window: int) -> pd.DataFrame:
    """close / max(close over the last ``window`` rows) - 1 (<= 0)."""
    peak = close.rolling(window, min_periods=1).max()
    return close / peak - 1.0


def rolling_beta_corr(
    returns: pd.DataFrame, market: pd.Series, window: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling correlation and beta of every column of ``returns`` against ``market``."""
    m = market.reindex(returns.index)
    mean_x = returns.rolling(window, min_periods=window).mean()
    mean_m = m.rolling(window, min_periods=window).mean()
    cov = returns.mul(m, axis=0).rolling(window, min_periods=window).mean().sub(mean_x.mul(mean_m, axis=0))
    var_m = (m * m).rolling(window, min_periods=window).mean() - mean_m * mean_m
    var_x = (returns * returns).rolling(window, min_periods=window).mean() - mean_x * mean_x
    var_m = var_m.where(var_m > 1e-12)
    beta = cov.div(var_m, axis=0)
    corr = cov.div(np.sqrt(var_x.where(var_x > 1e-12)).mul(np.sqrt(var_m), axis=0))
    return corr.clip(-1.0, 1.0), beta


def log_volume_z(volume: pd.DataFrame, window: int = 30) -> pd.DataFrame:
    """z-score of today's log volume against the last ``window`` rows (today included)."""
    lv = np.log(volume.where(volume > 0))
    sd = lv.rolling(window, min_periods=window).std()
    return (lv - lv.rolling(window, min_periods=window).mean()) / sd.where(sd > 1e-9)


def share_above_sma(close: pd.DataFrame, window: int) -> pd.Series:
    """Per row: share of the columns with a ``window``-day average whose close is above it."""
    avg = sma(close, window)
    valid = avg.notna() & close.notna()
    n = valid.sum(axis=1)
    return ((close > avg) & valid).sum(axis=1) / n.where(n > 0)


def expanding_percentile(x: pd.Series, min_periods: int = 180) -> pd.Series:
    """Percentile of today's value among all values seen so far (inclusive)."""
    return x.expanding(min_periods=min_periods).rank(pct=True)


def cross_sectional_rank(x: pd.DataFrame) -> pd.DataFrame:
    """Percentile rank across columns on each row (ties averaged), in (0, 1]."""
    return x.rank(axis=1, pct=True)


def stochastic(
    high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, window: int = 14, smooth: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stochastic oscillator: %K = 100 (close - lowest low) / (highest high - lowest low) over
    ``window`` rows, and %D = its ``smooth``-row simple average. A flat window gives NaN."""
    lowest = low.rolling(window, min_periods=window).min()
    highest = high.rolling(window, min_periods=window).max()
    span = highest - lowest
    k = 100.0 * (close - lowest) / span.where(span > 0)
    return k, sma(k, smooth)


def williams_r(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, window: int = 14) -> pd.DataFrame:
    """Williams %R in [-100, 0]: -100 (highest high - close) / (highest high - lowest low)."""
    lowest = low.rolling(window, min_periods=window).min()
    highest = high.rolling(window, min_periods=window).max()
    span = highest - lowest
    return -100.0 * (highest - close) / span.where(span > 0)


def _mean_abs_deviation(values: np.ndarray) -> float:
    return float(np.abs(values - values.mean()).mean())


def cci(high: pd.DataFrame, low: pd.DataFrame, close: pd.DataFrame, window: int = 20) -> pd.DataFrame:
    """Commodity Channel Index: (typical price - its SMA) / (0.015 * mean absolute deviation),
    typical price = (high + low + close) / 3, over ``window`` rows."""
    typical = (high + low + close) / 3.0
    mean = sma(typical, window)
    deviation = typical.rolling(window, min_periods=window).apply(_mean_abs_deviation, raw=True)
    return (typical - mean) / (0.015 * deviation.where(deviation > 0))
